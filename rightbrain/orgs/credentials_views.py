"""Settings → API clients (dashboard.md §8): a project's API keys and OAuth clients.

The page lives at /projects/<project_id>/api-clients, next to the project's other
pages; /preferences?tab=api-clients (the product's address) redirects to it for
the current project. Editors and up may use it (viewers 403, outsiders 404);
which credentials each person sees is decided in selectors.py.

A new secret is shown in the answer to the POST that made it, never after: those
answers render the page instead of redirecting, so the secret does not pass
through the session or a cookie on its way to a later page.
"""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rightbrain.errors import DomainError, Invalid
from rightbrain.http import AuthedRequest
from rightbrain.orgs import selectors, services
from rightbrain.orgs.access import CURRENT_PROJECT_SESSION_KEY, project_for_user
from rightbrain.orgs.forms import (
    ApiKeyForm,
    LimitsForm,
    OAuthClientEditForm,
    OAuthClientForm,
)
from rightbrain.orgs.models import ApiKey, OAuthClient
from rightbrain.orgs.permissions import Perm, role_allows
from rightbrain.orgs.selectors import ProjectAccess

TEMPLATE = "orgs/api_clients.html"
TOKEN_PATH = "/oauth2/token"


def _access(request: AuthedRequest, project_id: UUID) -> ProjectAccess:
    return project_for_user(request, project_id, Perm.PROJECT_MANAGE_CREDENTIALS)


def client_env(
    access: ProjectAccess, client: OAuthClient, secret: str | None = None
) -> str:
    """The Client.env block of the SDK guide; the secret only when just made."""
    lines = [
        f"RB_ORG_ID={access.organization.pk}",
        f"RB_PROJECT_ID={access.project.pk}",
        f"RB_OAUTH2_URL={settings.SITE_ROOT}",
        f"RB_API_URL={settings.SITE_ROOT}/api/v1",
        f"RB_CLIENT_ID={client.client_id}",
    ]
    if not client.public_client:
        lines.append(f"RB_CLIENT_SECRET={secret or '<your client secret>'}")
    lines.append(f"RB_OAUTH2_TOKEN_PATH={TOKEN_PATH}")
    return "\n".join(lines)


def _context(request: AuthedRequest, access: ProjectAccess, **extra) -> dict:
    user, role = request.user, access.role
    clients = list(
        selectors.oauth_clients_for(project=access.project, user=user, role=role)
    )
    for client in clients:
        client.env = client_env(access, client)
        client.changeable = selectors.may_change_oauth_client(client=client, user=user)
    api_keys = list(
        selectors.api_keys_for(project=access.project, user=user, role=role)
    )
    manages_limits = _manages_limits(access)
    # A refused limits form is shown again, open, with its errors.
    refused = extra.pop("refused_limits", None)
    for api_key in api_keys:
        if not manages_limits:
            api_key.limits_form = None  # type: ignore[attr-defined]
        elif refused is not None and refused.owner_pk == api_key.pk:
            api_key.limits_form = refused  # type: ignore[attr-defined]
        else:
            api_key.limits_form = _key_limits_form(api_key)  # type: ignore[attr-defined]
    return {
        "nav": "settings",
        "access": access,
        "project": access.project,
        "sees_all": selectors.sees_all_credentials(role),
        "manages_limits": manages_limits,
        "api_keys": api_keys,
        "oauth_clients": clients,
        "key_form": extra.pop("key_form", None) or ApiKeyForm(),
        "client_form": extra.pop("client_form", None) or OAuthClientForm(),
        "site_root": settings.SITE_ROOT,
        "token_path": TOKEN_PATH,
        **extra,
    }


def _render(
    request: AuthedRequest, access: ProjectAccess, panel: str, **extra
) -> HttpResponse:
    """The page, or over htmx the one panel that changed."""
    template = f"{TEMPLATE}#{panel}" if request.htmx else TEMPLATE
    return render(request, template, _context(request, access, **extra))


def _after_change(
    request: AuthedRequest, access: ProjectAccess, panel: str
) -> HttpResponse:
    if not request.htmx:
        return redirect("api_clients", project_id=access.project.pk)
    return _render(request, access, panel)


def _manages_limits(access: ProjectAccess) -> bool:
    """Rate limits and budgets are set by owners and admins."""
    return role_allows(access.role, Perm.ORG_MANAGE_PROJECTS)


def _key_limits_form(api_key: ApiKey, data=None) -> LimitsForm:
    defaults = (settings.RB_API_REQUESTS_PER_MINUTE, settings.RB_API_RUNS_PER_MINUTE)
    return LimitsForm(data, owner=api_key, defaults=defaults)


def _add_errors(form: Form, error: DomainError | ValidationError) -> None:
    if isinstance(error, ValidationError):
        form.add_error(None, error)
        return
    field = (error.field or "").split(".")[0]
    form.add_error(field if field in form.fields else None, error.message)


def _key_for(request: AuthedRequest, access: ProjectAccess, key_id: UUID) -> ApiKey:
    """The key `key_id` if the caller may see it in the project; 404 otherwise."""
    api_key = (
        selectors.api_keys_for(
            project=access.project, user=request.user, role=access.role
        )
        .filter(pk=key_id)
        .first()
    )
    if api_key is None:
        raise Http404("No such API key.")
    return api_key


def _client_for(
    request: AuthedRequest, access: ProjectAccess, client_id: UUID, *, change: bool
) -> OAuthClient:
    client = (
        selectors.oauth_clients_for(
            project=access.project, user=request.user, role=access.role
        )
        .filter(pk=client_id)
        .first()
    )
    if client is None:
        raise Http404("No such OAuth client.")
    if change and not selectors.may_change_oauth_client(
        client=client, user=request.user
    ):
        raise PermissionDenied
    return client


@require_GET
@login_required
def preferences(request: AuthedRequest) -> HttpResponse:
    """`/preferences?tab=api-clients` → the current project's API clients."""
    if request.GET.get("tab") != "api-clients":
        return redirect("account_settings")
    access = None
    remembered = request.session.get(CURRENT_PROJECT_SESSION_KEY)
    if remembered:
        try:
            access = selectors.project_access_for(
                user=request.user, project_id=UUID(remembered)
            )
        except ValueError:
            access = None
    if access is not None and not access.project.is_archived:
        return redirect("api_clients", project_id=access.project.pk)
    project = selectors.first_project_for(user=request.user)
    if project is None:
        return redirect("home")
    return redirect("api_clients", project_id=project.pk)


@require_GET
@login_required
def api_clients(request: AuthedRequest, project_id: UUID) -> HttpResponse:
    access = _access(request, project_id)
    return _render(request, access, "api_clients_panels")


@require_POST
@login_required
def api_key_create(request: AuthedRequest, project_id: UUID) -> HttpResponse:
    access = _access(request, project_id)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            api_key, secret = services.api_key_create(
                project=access.project,
                user=request.user,
                name=form.cleaned_data["name"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return _render(
                request, access, "api_keys_panel", new_key=api_key, new_secret=secret
            )
    return _render(request, access, "api_keys_panel", key_form=form)


@require_POST
@login_required
def api_key_revoke(
    request: AuthedRequest, project_id: UUID, key_id: UUID
) -> HttpResponse:
    access = _access(request, project_id)
    api_key = _key_for(request, access, key_id)
    services.api_key_revoke(api_key=api_key, actor=request.user)
    messages.success(request, f"Revoked the key “{api_key.name}”.")
    return _after_change(request, access, "api_keys_panel")


@require_POST
@login_required
def api_key_limits(
    request: AuthedRequest, project_id: UUID, key_id: UUID
) -> HttpResponse:
    """Set a key's rate limits and monthly budget (owners and admins)."""
    access = _access(request, project_id)
    if not _manages_limits(access):
        raise PermissionDenied
    api_key = _key_for(request, access, key_id)
    form = _key_limits_form(api_key, request.POST)
    if form.is_valid():
        try:
            services.api_key_limits_set(api_key=api_key, limits=form.limits())
        except Invalid as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, f"Saved the limits and budget of “{api_key.name}”."
            )
            return _after_change(request, access, "api_keys_panel")
    return _render(request, access, "api_keys_panel", refused_limits=form)


@require_POST
@login_required
def oauth_client_create(request: AuthedRequest, project_id: UUID) -> HttpResponse:
    access = _access(request, project_id)
    form = OAuthClientForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            client, secret = services.oauth_client_create(
                project=access.project,
                created_by=request.user,
                name=data["name"],
                description=data["description"],
                grant_types=data["grant_types"],
                redirect_uris=data["redirect_uris"],
                client_type=data["client_type"],
                public_client=data["public_client"],
            )
        except DomainError as error:
            _add_errors(form, error)
        else:
            return _render(
                request,
                access,
                "oauth_clients_panel",
                new_client=client,
                new_secret=secret,
                new_env=client_env(access, client, secret),
            )
    return _render(request, access, "oauth_clients_panel", client_form=form)


@require_http_methods(["GET", "POST"])
@login_required
def oauth_client_edit(
    request: AuthedRequest, project_id: UUID, client_id: UUID
) -> HttpResponse:
    access = _access(request, project_id)
    client = _client_for(request, access, client_id, change=True)
    legacy = OAuthClient.GrantType.IMPLICIT in client.grant_types
    initial = {
        "name": client.name,
        "description": client.description,
        "grant_types": client.grant_types,
        "redirect_uris": "\n".join(client.redirect_uri_list),
    }
    form = OAuthClientEditForm(
        request.POST or None, initial=initial, legacy_implicit=legacy
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.oauth_client_update(
                client=client,
                name=data["name"],
                description=data["description"],
                grant_types=data["grant_types"],
                redirect_uris=data["redirect_uris"],
            )
        except DomainError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Saved {client.name}.")
            return redirect("api_clients", project_id=project_id)
    return render(
        request,
        "orgs/oauth_client_edit.html",
        {"nav": "settings", "access": access, "client": client, "form": form},
    )


@require_POST
@login_required
def oauth_client_regenerate_secret(
    request: AuthedRequest, project_id: UUID, client_id: UUID
) -> HttpResponse:
    access = _access(request, project_id)
    client = _client_for(request, access, client_id, change=True)
    try:
        secret = services.oauth_client_regenerate_secret(
            client=client, actor=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _after_change(request, access, "oauth_clients_panel")
    return _render(
        request,
        access,
        "oauth_clients_panel",
        new_client=client,
        new_secret=secret,
        new_env=client_env(access, client, secret),
        regenerated=True,
    )


@require_POST
@login_required
def oauth_client_delete(
    request: AuthedRequest, project_id: UUID, client_id: UUID
) -> HttpResponse:
    access = _access(request, project_id)
    client = _client_for(request, access, client_id, change=False)
    services.oauth_client_delete(client=client, actor=request.user)
    messages.success(request, f"Deleted {client.name}; its tokens no longer work.")
    return _after_change(request, access, "oauth_clients_panel")
