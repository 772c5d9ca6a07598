from __future__ import annotations

from django.urls import path

from sharing import views

urlpatterns = [
    path(
        "projects/<uuid:project_id>/shares", views.project_shares, name="project_shares"
    ),
]
