from __future__ import annotations

from django.urls import path

from runs_app import files_origin, views

PROJECT = "projects/<uuid:project_id>"

urlpatterns = [
    path("files/<str:token>/<str:name>", files_origin.signed_file, name="signed_file"),
    path(PROJECT + "/runs", views.project_runs, name="project_runs"),
    path(PROJECT + "/runs/export.csv", views.project_runs_csv, name="project_runs_csv"),
    path(PROJECT + "/usage", views.project_usage, name="project_usage"),
    path(PROJECT + "/tasks/<uuid:task_id>/usage", views.task_usage, name="task_usage"),
]
