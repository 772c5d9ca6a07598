"""A caller's effective role on a task (domain.md §9.2): the highest of

* a direct grant to the user, or to an organisation or project they belong to;
* their organisation role (owner/admin → owner, editor → editor, viewer → viewer);
* `public` → viewer, for any authenticated user.

What each role may do is the matrix in rightbrain/orgs/permissions.py.
"""

from __future__ import annotations

from collections.abc import Iterable

from rightbrain.orgs.auth import Principal
from rightbrain.orgs.permissions import (
    TASK_ROLE_FROM_ORG_ROLE,
    Perm,
    TaskRole,
    highest_task_role,
    task_role_allows,
)
from rightbrain.orgs.selectors import ProjectAccess
from tasks_app.models import Task, TaskMember


def subject_keys(principal: Principal, access: ProjectAccess) -> set[tuple[str, str]]:
    """The (subject_type, subject_id) pairs whose grants apply to the caller.

    Every grant counts only while the caller is a member of the task's
    organisation (`access.role` is their current role): people outside it are
    never granted a task (the IAM API refuses them), and the grants of someone
    who leaves are dropped (`task_grants_drop`), so a grant outliving its
    holder's membership, however that ended, gives nothing.
    """
    keys: set[tuple[str, str]] = set()
    if not access.role:
        return keys
    if principal.user is not None:
        keys.add((TaskMember.SubjectType.USER, str(principal.user.pk)))
    keys.add((TaskMember.SubjectType.ORGANIZATION, str(access.organization.pk)))
    keys.add((TaskMember.SubjectType.PROJECT, str(access.project.pk)))
    return keys


def grant_keys_that_matter(
    principal: Principal, access: ProjectAccess
) -> set[tuple[str, str]]:
    """The subject keys whose grants could change the caller's role: none when
    their organisation role already makes them a task owner (no grant outranks
    it), so their grants need not be read."""
    if TASK_ROLE_FROM_ORG_ROLE.get(access.role) == TaskRole.OWNER:
        return set()
    return subject_keys(principal, access)


def effective_task_role(
    *,
    task: Task,
    principal: Principal,
    access: ProjectAccess,
    grants: Iterable[TaskMember],
) -> str | None:
    """`grants` are the task's TaskMember rows (prefetched by the caller)."""
    if principal.task_id is not None:
        # A task token runs its task and reads its runs; it holds no role.
        return None
    keys = subject_keys(principal, access)
    direct = [
        grant.role
        for grant in grants
        if (grant.subject_type, str(grant.subject_id)) in keys
    ]
    inherited = TASK_ROLE_FROM_ORG_ROLE.get(access.role) if access.role else None
    public = TaskRole.VIEWER if task.public and principal.user is not None else None
    return highest_task_role(*direct, inherited, public)


def task_allows(role: str | None, perm: Perm) -> bool:
    return task_role_allows(role, perm)
