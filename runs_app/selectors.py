"""Reads of runs, scoped to what the caller may see (domain.md §9.3)."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from rightbrain.orgs.permissions import TaskRole
from runs_app.models import TaskRun
from tasks_app.models import Task


def sees_all_runs(task: Task, role: str | None) -> bool:
    """Who sees every run of the task rather than only their own."""
    visibility = task.task_run_visibility
    if visibility == Task.RunVisibility.ALL_VIEWERS:
        return True
    if visibility == Task.RunVisibility.EDITORS_AND_OWNERS:
        return role in {TaskRole.OWNER, TaskRole.EDITOR}
    return role == TaskRole.OWNER


def runs_for_task(
    *, task: Task, sees_all: bool, user_id: UUID | None
) -> QuerySet[TaskRun]:
    """The task's runs the caller may see, newest first, with their revision
    and models."""
    runs = TaskRun.objects.filter(task=task).select_related(
        "task_revision", "llm_model", "fallback_llm_model"
    )
    if not sees_all:
        runs = runs.filter(user_id=user_id) if user_id else runs.none()
    return runs.order_by("-created", "-id")


def runs_made_with_access_token(*, task: Task) -> QuerySet[TaskRun]:
    """The runs made with the task's access token, newest first: all that the
    token reads (api.md §1.2). A rotated token's runs stay with the old one."""
    return (
        TaskRun.objects.filter(task=task, access_token_hash=task.access_token_hash)
        .select_related("task_revision", "llm_model", "fallback_llm_model")
        .order_by("-created", "-id")
    )


def made_with_access_token(run: TaskRun, task: Task) -> bool:
    return run.access_token_hash == task.access_token_hash
