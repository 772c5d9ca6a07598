"""Reads behind the project's runs view and its CSV export (dashboard.md §11):
the runs a person may see across the project's tasks, filtered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet

from rightbrain.orgs.auth import Principal
from rightbrain.orgs.selectors import ProjectAccess
from runs_app.models import NO_GROUP, TaskRun
from runs_app.selectors import sees_all_runs
from tasks_app import selectors as tasks_selectors
from tasks_app.models import Task, TaskMember
from tasks_app.permissions import effective_task_role, subject_keys


def task_roles(
    *, principal: Principal, access: ProjectAccess
) -> list[tuple[Task, str]]:
    """The project's live tasks the caller may view, with their role on each,
    newest first. Two queries (tasks; the caller's grants on them)."""
    keys = subject_keys(principal, access)
    grants = Q(pk__in=[])
    for subject_type, subject_id in keys:
        grants |= Q(subject_type=subject_type, subject_id=subject_id)
    tasks = tasks_selectors.visible_tasks(
        project_id=access.project.pk, is_member=bool(access.role), grant_keys=keys
    ).prefetch_related(
        Prefetch(
            "members",
            queryset=TaskMember.objects.filter(grants),
            to_attr="caller_grants",
        )
    )
    roles: list[tuple[Task, str]] = []
    for task in tasks:
        role = effective_task_role(
            task=task,
            principal=principal,
            access=access,
            grants=task.caller_grants,
        )
        if role is not None:
            roles.append((task, role))
    return roles


def runs_visible_to(
    *, principal: Principal, tasks: list[tuple[Task, str]]
) -> QuerySet[TaskRun]:
    """Every run of the tasks whose runs the caller sees in full, and their own
    runs of the others (domain.md §9.3)."""
    every = [task.pk for task, role in tasks if sees_all_runs(task, role)]
    own = [task.pk for task, role in tasks if not sees_all_runs(task, role)]
    visible = Q(task_id__in=every)
    if principal.user is not None and own:
        visible |= Q(task_id__in=own, user_id=principal.user.pk)
    return TaskRun.objects.filter(visible)


@dataclass(frozen=True)
class RunFilters:
    task_id: UUID | None = None
    status: str | None = None
    revision_id: UUID | None = None
    # NO_GROUP selects runs without a reporting group.
    reporting_group: UUID | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def runs_filtered(runs: QuerySet[TaskRun], filters: RunFilters) -> QuerySet[TaskRun]:
    """`runs` narrowed by `filters`, newest first."""
    if filters.task_id is not None:
        runs = runs.filter(task_id=filters.task_id)
    if filters.status:
        runs = runs.filter(status=filters.status)
    if filters.revision_id is not None:
        runs = runs.filter(task_revision_id=filters.revision_id)
    if filters.reporting_group == NO_GROUP:
        runs = runs.filter(reporting_group__isnull=True)
    elif filters.reporting_group is not None:
        runs = runs.filter(reporting_group_id=filters.reporting_group)
    if filters.created_after is not None:
        runs = runs.filter(created__gte=filters.created_after)
    if filters.created_before is not None:
        runs = runs.filter(created__lte=filters.created_before)
    return runs.order_by("-created", "-id")
