from __future__ import annotations

from django.urls import path

from runs_app import compare_views, task_views

TASK = "projects/<uuid:project_id>/tasks/<uuid:task_id>"

urlpatterns = [
    path(TASK + "/run", task_views.task_run, name="task_run"),
    path(TASK + "/compare", compare_views.task_compare, name="task_compare"),
]
