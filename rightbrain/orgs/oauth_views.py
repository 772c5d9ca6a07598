"""The OAuth 2.0 endpoints (api.md §12.3): django-oauth-toolkit's views with our
consent screen. The token and revocation endpoints are DOT's as they are."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.forms import AllowForm
from oauth2_provider.views import AuthorizationView

from rightbrain.orgs.models import OAuthClient


class ConsentForm(AllowForm):
    # DOT requires a scope; ours is empty unless `offline_access` was asked for.
    scope = forms.CharField(required=False, widget=forms.HiddenInput())


def _csp_source(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme in {"http", "https"}:
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


class AuthorizeView(AuthorizationView):
    """`GET /oauth2/auth`: sign in if needed, then the consent screen
    (templates/oauth2_provider/authorize.html), which posts back here and is
    answered by a redirect to the client with `code` and `state`, or `error`."""

    form_class = ConsentForm

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        redirect_uri = self.oauth2_data.get("redirect_uri")
        if response.status_code == 200 and redirect_uri:
            # Browsers apply form-action to the redirect that answers the consent
            # form, so the client's (already verified) redirect origin joins 'self'.
            policy: dict[str, Any] = {**settings.SECURE_CSP}
            policy["form-action"] = [
                *policy.get("form-action", []),
                _csp_source(redirect_uri),
            ]
            response._csp_config = policy
        return response

    def error_response(
        self, error: OAuthToolkitError, application: OAuthClient | None, **kwargs: Any
    ) -> HttpResponse:
        # DOT reports request errors before it names the client. Errors that are
        # sent back to the client (its redirect URI already checked) may only go
        # to the schemes that client registered, so find it.
        if application is None and not isinstance(error, FatalClientError):
            application = OAuthClient.objects.filter(
                client_id=self.request.GET.get("client_id", "")
            ).first()
        return super().error_response(error, application, **kwargs)
