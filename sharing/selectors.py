"""Reads of share links, scoped to the task, the project or the public link."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, QuerySet, Sum

from rightbrain.orgs.models import Project, User
from rightbrain.orgs.permissions import Perm, Role, role_allows
from runs_app.models import RunFile, TaskRun
from sharing.models import ShareRun, TaskShare
from tasks_app.models import ActiveRevision, Tag, Task, TaskRevision


def _listed(shares: QuerySet[TaskShare], *, with_tags: bool) -> QuerySet[TaskShare]:
    """What a share list shows, in one query (plus one for the tasks' tags)."""
    shares = shares.select_related("task", "task_revision")
    if with_tags:
        shares = shares.prefetch_related(
            Prefetch(
                "task__tags",
                queryset=Tag.objects.order_by("name"),
                to_attr="task_tags",
            )
        )
    return shares.order_by("-created", "-id")


def shares_of_task(
    *, task: Task, active: bool | None = None, with_tags: bool = True
) -> QuerySet[TaskShare]:
    """The task's shares, newest first (the list's cursor order)."""
    shares = TaskShare.objects.filter(task=task)
    if active is not None:
        shares = shares.filter(active=active)
    return _listed(shares, with_tags=with_tags)


def shares_of_project(
    *,
    project_id: UUID,
    visible_tasks: QuerySet[Task] | None = None,
    task_id: UUID | None = None,
    active: bool | None = None,
    with_tags: bool = True,
) -> QuerySet[TaskShare]:
    """Shares of the project's live tasks (only `visible_tasks`, when given),
    newest first."""
    shares = TaskShare.objects.filter(
        task__project_id=project_id, task__deleted__isnull=True
    )
    if visible_tasks is not None:
        shares = shares.filter(task__in=visible_tasks.values("pk"))
    if task_id is not None:
        shares = shares.filter(task_id=task_id)
    if active is not None:
        shares = shares.filter(active=active)
    return _listed(shares, with_tags=with_tags)


def share_in_task(*, task: Task, share_id: UUID) -> TaskShare | None:
    return (
        TaskShare.objects.filter(pk=share_id, task=task).select_related("task").first()
    )


def share_for_public(*, short_id: str) -> TaskShare | None:
    """The link with everything its public page shows (one query), or None."""
    return (
        TaskShare.objects.select_related(
            "task",
            "task_revision__llm_model",
            "task_run",
        )
        .prefetch_related(
            Prefetch(
                "task__tags",
                queryset=Tag.objects.order_by("name"),
                to_attr="task_tags",
            ),
            Prefetch(
                "task_run__files",
                queryset=RunFile.objects.order_by("created", "id"),
                to_attr="listed_files",
            ),
        )
        .filter(short_id=short_id)
        .first()
    )


def share_for_clone(*, short_id: str) -> TaskShare | None:
    return (
        TaskShare.objects.select_related("task", "task_revision")
        .filter(short_id=short_id)
        .first()
    )


def revisions_for_sharing(*, task: Task) -> list[TaskRevision]:
    """Every revision of the task, newest first, with its model."""
    return list(
        TaskRevision.objects.filter(task=task)
        .select_related("llm_model")
        .order_by("-created", "-id")
    )


def live_revision_ids(*, task: Task) -> list[UUID]:
    """The task's active revisions, the most traffic first."""
    return list(
        ActiveRevision.objects.filter(task=task)
        .order_by("-weight", "task_revision_id")
        .values_list("task_revision_id", flat=True)
    )


def example_runs_for(
    *, task: Task, sees_all: bool, user_id: UUID | None, limit: int = 50
) -> list[TaskRun]:
    """Recent successful runs of the task the caller may see (domain.md
    §9.3), to pick an example from: an example is shown to the public, so
    nobody may publish a run they could not read themselves."""
    runs = TaskRun.objects.filter(task=task, is_error=False)
    if not sees_all:
        runs = runs.filter(user_id=user_id) if user_id else runs.none()
    return list(
        runs.only("id", "task_revision_id", "created", "run_data").order_by(
            "-created", "-id"
        )[:limit]
    )


def example_run_visible(
    *, task: Task, run_id: UUID, sees_all: bool, user_id: UUID | None
) -> bool:
    if sees_all:
        return True
    if user_id is None:
        return False
    return TaskRun.objects.filter(pk=run_id, task=task, user_id=user_id).exists()


def share_runs_of_task(*, task: Task, limit: int = 20) -> list[ShareRun]:
    """The latest runs made through the task's share links."""
    return list(
        ShareRun.objects.filter(share__task=task)
        .select_related("share", "task_run")
        .order_by("-created", "-id")[:limit]
    )


def share_stored_bytes(*, share: TaskShare) -> int:
    """The bytes stored for runs made through this link: what visitors sent
    and what their runs produced."""
    total = RunFile.objects.filter(task_run__share_link__share=share).aggregate(
        total=Sum("size_bytes")
    )["total"]
    return total or 0


def share_run_file(
    *, share: TaskShare, task_run_id: UUID, stored_filename: str
) -> RunFile | None:
    """A file the public may fetch through this link: the example run's (its
    outputs only when the link shows output) or one of a run made through it."""
    file = (
        RunFile.objects.filter(task_run_id=task_run_id, stored_filename=stored_filename)
        .select_related("task_run")
        .first()
    )
    if file is None or file.task_run.task_id != share.task_id:
        return None
    if task_run_id == share.task_run_id:
        if file.direction == RunFile.Direction.OUTPUT and not share.show_output:
            return None
        return file
    if ShareRun.objects.filter(share=share, task_run_id=task_run_id).exists():
        return file
    return None


def share_run_made_through(*, share: TaskShare, task_run_id: UUID) -> TaskRun | None:
    """A run made through this link (never the example, never another link's),
    with its files."""
    return (
        TaskRun.objects.filter(pk=task_run_id, share_link__share=share)
        .prefetch_related("files")
        .first()
    )


_CLONING_ROLES = [
    role for role in Role.values if role_allows(role, Perm.PROJECT_CREATE_TASK)
]


def projects_for_cloning(*, user: User) -> list[Project]:
    """Active projects the person may create tasks in, with their organisation."""
    return list(
        Project.objects.filter(
            organization__memberships__user=user,
            organization__memberships__role__in=_CLONING_ROLES,
            archived_at__isnull=True,
        )
        .select_related("organization")
        .order_by("-organization__personal", "organization__name", "name")
    )
