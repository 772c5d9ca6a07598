from __future__ import annotations

from django.urls import path

from runs_app import views

urlpatterns = [
    path("projects/<uuid:project_id>/runs", views.project_runs, name="project_runs"),
    path("projects/<uuid:project_id>/usage", views.project_usage, name="project_usage"),
]
