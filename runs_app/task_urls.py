from __future__ import annotations

from django.urls import path

from runs_app import task_views

TASK = "projects/<uuid:project_id>/tasks/<uuid:task_id>"

urlpatterns = [
    path(TASK + "/run", task_views.task_run, name="task_run"),
    path(TASK + "/run/inputs", task_views.task_run_inputs, name="task_run_inputs"),
    path(
        TASK + "/run/save-revision",
        task_views.task_run_save_revision,
        name="task_run_save_revision",
    ),
]
