"""Reads of tasks and their parts, scoped to the project and the caller."""

from __future__ import annotations

import functools
import json
from typing import Any
from uuid import UUID

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce

from rightbrain.orgs.models import Membership, Organization, Project, User
from rightbrain.orgs.selectors import page_after
from rightbrain.orgs.tokens import decrypt_secret
from rightbrain.queries import Precompiled
from tasks_app.models import (
    ActiveRevision,
    ForwarderDelivery,
    LLMModel,
    LLMModelComment,
    Tag,
    Task,
    TaskForwarder,
    TaskMember,
    TaskRevision,
)


def _with_parts(
    queryset: QuerySet[Task],
    *,
    include_tests: bool,
    revision_tag_id: UUID | None = None,
) -> QuerySet[Task]:
    """Everything a Task response shows, in a fixed number of queries."""
    revisions = TaskRevision.objects.select_related(
        "llm_model", "fallback_llm_model"
    ).prefetch_related(
        Prefetch(
            "tags", queryset=Tag.objects.order_by("name"), to_attr="revision_tags"
        ),
        model_comments_prefetch("llm_model__comments"),
        model_comments_prefetch("fallback_llm_model__comments"),
    )
    if not include_tests:
        revisions = revisions.filter(test=False)
    if revision_tag_id is not None:
        revisions = revisions.filter(tags__id=revision_tag_id)
    return queryset.prefetch_related(
        Prefetch("revisions", queryset=revisions, to_attr="listed_revisions"),
        Prefetch(
            "active_revision_entries",
            queryset=ActiveRevision.objects.order_by("-weight", "task_revision_id"),
            to_attr="active_entries",
        ),
        Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="task_tags"),
    )


def _with_grants(
    queryset: QuerySet[Task], grant_keys: set[tuple[str, str]] | None
) -> QuerySet[Task]:
    """The caller's direct grants on each task, as `caller_grants`."""
    grants = TaskMember.objects.all()
    if grant_keys is not None:
        match = Q(pk__in=[])
        for subject_type, subject_id in grant_keys:
            match |= Q(subject_type=subject_type, subject_id=subject_id)
        grants = grants.filter(match)
    return queryset.prefetch_related(
        Prefetch("members", queryset=grants, to_attr="caller_grants")
    )


def model_comments_prefetch(lookup: str = "comments") -> Prefetch:
    return Prefetch(
        lookup,
        queryset=LLMModelComment.objects.filter(active=True),
        to_attr="active_comments",
    )


def visible_tasks(
    *,
    project_id: UUID,
    is_member: bool,
    grant_keys: set[tuple[str, str]],
    name: str | None = None,
    tag_id: UUID | None = None,
) -> QuerySet[Task]:
    """Live tasks of the project the caller may view, newest first.

    Members see every task (their organisation role makes them at least
    viewers); others see public tasks and tasks granted to them directly.
    """
    tasks = Task.objects.filter(project_id=project_id, deleted__isnull=True)
    if not is_member:
        granted = Q(pk__in=[])
        for subject_type, subject_id in grant_keys:
            granted |= Q(
                members__subject_type=subject_type, members__subject_id=subject_id
            )
        tasks = tasks.filter(Q(public=True) | granted).distinct()
    if name:
        tasks = tasks.filter(name__icontains=name)
    if tag_id is not None:
        tasks = tasks.filter(tags__id__in=tag_subtree_ids(tag_id)).distinct()
    return tasks.order_by("-created", "-id")


def tasks_page(
    tasks: QuerySet[Task],
    *,
    cursor: UUID | None,
    limit: int,
    grant_keys: set[tuple[str, str]],
) -> tuple[list[Task], bool, int]:
    """One page after `cursor` (the id of the previous page's last task), each
    task with the caller's grants, whether more follow, and how many tasks
    there are in all; the tasks' details come from `task_snapshots`."""
    if cursor is None and not tasks.query.distinct:
        # The first page carries the total in the same query (a window count
        # runs before LIMIT); DISTINCT would count rows before removing
        # duplicates, and a later page's rows no longer see the whole set.
        counted = tasks.annotate(total_count=Window(Count("pk")))
        page, has_next = page_after(
            _with_grants(counted, grant_keys), cursor=None, limit=limit
        )
        return page, has_next, page[0].total_count if page else 0  # type: ignore[attr-defined]
    page, has_next = page_after(
        _with_grants(tasks, grant_keys), cursor=cursor, limit=limit
    )
    return page, has_next, tasks.count()


def with_list_details(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """What a row of the dashboard's task list shows beyond the task itself:
    how many revisions carry traffic (`active_revision_count`, a subquery on
    the page query) and its tags (`task_tags`, one query per page)."""
    active = (
        ActiveRevision.objects.filter(task=OuterRef("pk"))
        .order_by()
        .values("task")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return tasks.annotate(
        active_revision_count=Coalesce(Subquery(active), 0)
    ).prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="task_tags")
    )


# Every request about one task (each run among them) reads the task and the
# caller's grants on it with these two queries.
_LIVE_TASK = Precompiled(
    lambda task_id, project_id: (
        Task.objects.filter(pk=task_id, project_id=project_id, deleted__isnull=True)
        .select_related("project")
        .order_by()[:1]
    ),
    "task_id",
    "project_id",
)


@functools.cache
def _grants_for_keys(key_count: int) -> Precompiled[TaskMember]:
    """The query for a task's grants to `key_count` (subject type, id) pairs."""

    def build(task_id: UUID, **subjects: UUID) -> QuerySet[TaskMember]:
        match = Q()
        for n in range(key_count):
            match |= Q(
                subject_type=subjects[f"type_{n}"], subject_id=subjects[f"id_{n}"]
            )
        return TaskMember.objects.filter(match, task_id=task_id)

    subjects = [f"{part}_{n}" for n in range(key_count) for part in ("type", "id")]
    return Precompiled(build, "task_id", *subjects)


def task_for_access(
    *, project_id: UUID, task_id: UUID, grant_keys: set[tuple[str, str]]
) -> Task | None:
    """A live task of the project with the caller's grants to `grant_keys` as
    `caller_grants` (two queries; one when no grant can matter)."""
    task = _LIVE_TASK.one_or_none(task_id=task_id, project_id=project_id)
    if task is None:
        return None
    grants: list[TaskMember] = []
    if grant_keys:
        values: dict[str, Any] = {"task_id": task.pk}
        for n, (subject_type, subject_id) in enumerate(sorted(grant_keys)):
            values |= {f"type_{n}": subject_type, f"id_{n}": subject_id}
        grants = _grants_for_keys(len(grant_keys)).rows(**values)
    task.caller_grants = grants  # type: ignore[attr-defined]
    return task


def revision_of_task(*, task_id: UUID, revision_id: UUID) -> TaskRevision | None:
    """One revision of the task with its models (one query)."""
    return (
        TaskRevision.objects.select_related("llm_model", "fallback_llm_model")
        .filter(pk=revision_id, task_id=task_id)
        .first()
    )


def active_revision_count(*, task: Task) -> int:
    return ActiveRevision.objects.filter(task=task).count()


def revisions_of(*, task_id: UUID, include_tests: bool) -> QuerySet[TaskRevision]:
    """A task's revisions newest first (the revision list's cursor order), each
    with its models, author and tags."""
    revisions = (
        TaskRevision.objects.filter(task_id=task_id)
        .select_related("llm_model", "fallback_llm_model", "created_by")
        .prefetch_related(
            Prefetch(
                "tags", queryset=Tag.objects.order_by("name"), to_attr="revision_tags"
            )
        )
        .order_by("-created", "-id")
    )
    return revisions if include_tests else revisions.filter(test=False)


def revisions_by_id(
    *, task_id: UUID, revision_ids: list[UUID]
) -> dict[UUID, TaskRevision]:
    """Revisions of the task by id, with their models (one query)."""
    return {
        revision.pk: revision
        for revision in TaskRevision.objects.select_related(
            "llm_model", "fallback_llm_model", "task_forwarder"
        ).filter(task_id=task_id, pk__in=revision_ids)
    }


def traffic_of(*, task: Task) -> list[ActiveRevision]:
    """The task's traffic split, heaviest first, with each revision loaded."""
    return list(
        ActiveRevision.objects.filter(task=task)
        .select_related("task_revision__llm_model", "task_revision__fallback_llm_model")
        .order_by("-weight", "-task_revision__created")
    )


def tasks_with_parts(
    *, task_ids: list[UUID], include_tests: bool, revision_tag_id: UUID | None
) -> list[Task]:
    """Tasks with their revisions, models, tags and traffic split loaded."""
    return list(
        _with_parts(
            Task.objects.filter(pk__in=task_ids),
            include_tests=include_tests,
            revision_tag_id=revision_tag_id,
        )
    )


def tag_subtree_ids(tag_id: UUID) -> list[UUID]:
    """The tag and all its descendants (one query per level; trees are shallow)."""
    ids = [tag_id]
    frontier = [tag_id]
    while frontier:
        frontier = list(
            Tag.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
        )
        ids.extend(frontier)
    return ids


def models_for_listing(
    *, include_retired: bool, with_comments: bool = True
) -> QuerySet[LLMModel]:
    models = LLMModel.objects.filter(enabled=True)
    if with_comments:
        models = models.prefetch_related(model_comments_prefetch())
    if not include_retired:
        models = models.filter(retired__isnull=True)
    return models.order_by("provider", "alias")


def tags_of(*, project_id: UUID, entity_type: str) -> list[Tag]:
    """Every tag of one kind in the project, ordered so roots page by id."""
    return list(
        Tag.objects.filter(project_id=project_id, entity_type=entity_type).order_by(
            "id"
        )
    )


def tag_in_project(*, project_id: UUID, tag_id: UUID) -> Tag | None:
    return Tag.objects.filter(pk=tag_id, project_id=project_id).first()


def tagged_entities(*, tag_ids: list[UUID], entity_type: str) -> dict[UUID, list[UUID]]:
    """Ids of live tasks (or revisions of live tasks) carrying each tag."""
    result: dict[UUID, list[UUID]] = {}
    rows: QuerySet[Any, tuple[UUID, UUID]]
    if entity_type == Tag.EntityType.TASK:
        rows = Task.tags.through.objects.filter(
            tag_id__in=tag_ids, task__deleted__isnull=True
        ).values_list("tag_id", "task_id")
    else:
        rows = TaskRevision.tags.through.objects.filter(
            tag_id__in=tag_ids, taskrevision__task__deleted__isnull=True
        ).values_list("tag_id", "taskrevision_id")
    for tag_id, entity_id in rows.order_by("tag_id", "id"):
        result.setdefault(tag_id, []).append(entity_id)
    return result


def task_grants(*, task: Task, subject_type: str | None = None) -> QuerySet[TaskMember]:
    """A task's direct grants in a stable order (the IAM list's cursor order)."""
    grants = TaskMember.objects.filter(task=task)
    if subject_type is not None:
        grants = grants.filter(subject_type=subject_type)
    return grants.order_by("subject_type", "subject_id")


def subject_names(*, grants: list[TaskMember]) -> dict[str, tuple[str, int]]:
    """member → (display name, number of people it stands for), in ≤ 4 queries."""
    ids: dict[str, list[UUID]] = {}
    for grant in grants:
        ids.setdefault(grant.subject_type, []).append(grant.subject_id)
    result: dict[str, tuple[str, int]] = {}
    for user in User.objects.filter(pk__in=ids.get("user", [])):
        result[f"user:{user.pk}"] = (user.name or user.email, 1)
    org_ids = set(ids.get("organization", []))
    projects = list(Project.objects.filter(pk__in=ids.get("project", [])))
    org_ids |= {project.organization_id for project in projects}
    sizes = dict(
        Membership.objects.filter(organization_id__in=org_ids)
        .values("organization_id")
        .annotate(n=Count("id"))
        .values_list("organization_id", "n")
    )
    for organization in Organization.objects.filter(pk__in=ids.get("organization", [])):
        result[f"organization:{organization.pk}"] = (
            organization.name,
            sizes.get(organization.pk, 0),
        )
    for project in projects:
        result[f"project:{project.pk}"] = (
            project.name,
            sizes.get(project.organization_id, 0),
        )
    return result


def member_subjects(*, organization: Organization) -> list[tuple[str, str, str]]:
    """Everyone and everything that may hold a role on the organisation's
    tasks, as (member string, subject type, label): its people, the
    organisation itself and its active projects (two queries)."""
    people = Membership.objects.filter(organization=organization).select_related("user")
    subjects: list[tuple[str, str, str]] = [
        (
            f"user:{membership.user_id}",
            TaskMember.SubjectType.USER,
            f"{membership.user.name} ({membership.user.email})"
            if membership.user.name
            else membership.user.email,
        )
        for membership in people.order_by("user__email")
    ]
    subjects.append(
        (
            f"organization:{organization.pk}",
            TaskMember.SubjectType.ORGANIZATION,
            f"Everyone in {organization.name}",
        )
    )
    projects = Project.objects.filter(
        organization=organization, archived_at__isnull=True
    ).order_by("name")
    subjects += [
        (
            f"project:{project.pk}",
            TaskMember.SubjectType.PROJECT,
            f"Everyone with access to {project.name}",
        )
        for project in projects
    ]
    return subjects


def organization_role_counts(*, organization_id: UUID) -> dict[str, int]:
    """How many people hold each organisation role (one query)."""
    return dict(
        Membership.objects.filter(organization_id=organization_id)
        .values("role")
        .annotate(n=Count("id"))
        .values_list("role", "n")
    )


# Task forwarders ----------------------------------------------------------------


def forwarders_of(*, project_id: UUID) -> QuerySet[TaskForwarder]:
    """The project's forwarders, newest first (the list's cursor order)."""
    return TaskForwarder.objects.filter(project_id=project_id).order_by(
        "-created", "-id"
    )


def forwarder_in_project(
    *, project_id: UUID, forwarder_id: UUID
) -> TaskForwarder | None:
    return TaskForwarder.objects.filter(pk=forwarder_id, project_id=project_id).first()


def forwarder_sensitive_config(*, forwarder: TaskForwarder) -> dict[str, Any] | None:
    """The decrypted write-only config ({} when none was given), or None when
    it was encrypted under a key this instance no longer has."""
    if not forwarder.config_sensitive_encrypted:
        return {}
    plain = decrypt_secret(forwarder.config_sensitive_encrypted)
    return None if plain is None else json.loads(plain)


def deliveries_of_run(*, task_run_id: UUID) -> QuerySet[ForwarderDelivery]:
    """Every delivery attempt of a run, oldest first."""
    return ForwarderDelivery.objects.filter(task_run_id=task_run_id).order_by(
        "created", "id"
    )
