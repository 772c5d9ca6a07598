from __future__ import annotations

from django.apps import AppConfig


class RunsAppConfig(AppConfig):
    name = "runs_app"
    verbose_name = "Runs"

    def ready(self) -> None:
        from runs_app.services import delete_run_files_of
        from tasks_app.services import on_task_delete

        on_task_delete(delete_run_files_of)
