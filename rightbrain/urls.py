from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from oauth2_provider.views import RevokeTokenView, TokenView

from rightbrain.api import api
from rightbrain.orgs.oauth_views import AuthorizeView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", api.urls),
    # OAuth 2.0 at the instance root (api.md §12.3); /oauth/token is the SDK's alias.
    path("oauth2/auth", AuthorizeView.as_view(), name="oauth2_authorize"),
    path("oauth2/token", TokenView.as_view(), name="oauth2_token"),
    path("oauth/token", TokenView.as_view(), name="oauth_token"),
    path("oauth2/revoke", RevokeTokenView.as_view(), name="oauth2_revoke"),
    path("", include("rightbrain.orgs.urls")),
    path("", include("tasks_app.urls")),
    path("", include("runs_app.urls")),
    path("", include("runs_app.task_urls")),
    path("", include("sharing.urls")),
]
