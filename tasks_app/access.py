"""The dashboard's permission helper for tasks: resolve the task, then ask the
matrix.

Outsiders get 404 (they cannot tell a missing task from one they may not see);
members whose effective role on the task lacks the permission get 403. The
JSON API resolves its caller the same way (tasks_app/api/common.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404

from rightbrain.http import AuthedRequest
from rightbrain.orgs.access import project_for_user
from rightbrain.orgs.auth import Principal
from rightbrain.orgs.permissions import Perm, task_role_allows
from rightbrain.orgs.selectors import ProjectAccess
from tasks_app import selectors
from tasks_app.models import Task
from tasks_app.permissions import effective_task_role, grant_keys_that_matter


@dataclass(frozen=True)
class TaskAccess:
    """A task as one person sees it: the task, their role on it, the project."""

    task: Task
    role: str
    project: ProjectAccess

    def allows(self, perm: Perm) -> bool:
        return task_role_allows(self.role, perm)


def session_principal(request: AuthedRequest) -> Principal:
    return Principal(user=request.user, credential="session")


def task_for_user(
    request: AuthedRequest, project_id: UUID, task_id: UUID, perm: Perm
) -> TaskAccess:
    """The live task `task_id` of the project if the signed-in user may `perm` it.

    Two queries for owners and admins (project with role, task); one more for
    everyone else, whose direct grants on the task may raise their role.
    """
    project = project_for_user(request, project_id)
    principal = session_principal(request)
    task = selectors.task_for_access(
        project_id=project_id,
        task_id=task_id,
        grant_keys=grant_keys_that_matter(principal, project),
    )
    if task is None:
        raise Http404("No such task.")
    role = effective_task_role(
        task=task,
        principal=principal,
        access=project,
        grants=task.caller_grants,  # type: ignore[attr-defined]
    )
    if role is None:
        raise Http404("No such task.")
    if not task_role_allows(role, perm):
        raise PermissionDenied
    return TaskAccess(task=task, role=role, project=project)
