from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from rightbrain.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", api.urls),
    path("", include("rightbrain.orgs.urls")),
    path("", include("tasks_app.urls")),
    path("", include("runs_app.urls")),
    path("", include("sharing.urls")),
]
