from __future__ import annotations

from django.apps import AppConfig


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    verbose_name = "Tasks"

    def ready(self) -> None:
        from rightbrain.orgs.auth import register_bearer_resolver
        from rightbrain.orgs.services import on_membership_end
        from tasks_app.auth import task_token_principal
        from tasks_app.services import task_grants_drop
        from tasks_app.snapshots import watch_for_changes

        register_bearer_resolver(task_token_principal)
        # Orgs cannot import tasks_app: it calls this when a membership ends.
        on_membership_end(task_grants_drop)
        watch_for_changes()
