from __future__ import annotations

from django.urls import path

from runs_app import compare_views, integrate_views, task_views

TASK = "projects/<uuid:project_id>/tasks/<uuid:task_id>"

urlpatterns = [
    path(TASK + "/run", task_views.task_run, name="task_run"),
    path(TASK + "/run/inputs", task_views.task_run_inputs, name="task_run_inputs"),
    path(
        TASK + "/run/save-revision",
        task_views.task_run_save_revision,
        name="task_run_save_revision",
    ),
    path(TASK + "/integrate", integrate_views.task_integrate, name="task_integrate"),
    path(
        TASK + "/integrate/api-key",
        integrate_views.task_integrate_key,
        name="task_integrate_key",
    ),
    path(
        TASK + "/integrate/mcp",
        integrate_views.task_integrate_mcp,
        name="task_integrate_mcp",
    ),
    path(TASK + "/compare", compare_views.task_compare, name="task_compare"),
]
