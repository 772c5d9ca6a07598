"""What every task endpoint shares: the caller, and the project and task lookups
with their 404/403 rules."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest

from rightbrain.errors import Forbidden
from rightbrain.orgs.auth import Principal, project_access_for_principal
from rightbrain.orgs.permissions import Perm, role_allows, task_role_allows
from rightbrain.orgs.selectors import ProjectAccess
from tasks_app import selectors
from tasks_app.models import Task
from tasks_app.permissions import effective_task_role, grant_keys_that_matter

# Access ----------------------------------------------------------------------


def principal_of(request: HttpRequest) -> Principal:
    return request.auth  # type: ignore[attr-defined]


def project_access(
    request: HttpRequest, org_id: UUID, project_id: UUID
) -> ProjectAccess:
    access = project_access_for_principal(
        principal_of(request), org_id=org_id, project_id=project_id
    )
    if access is None:
        raise Http404("No such project.")
    return access


def member_access(
    request: HttpRequest, org_id: UUID, project_id: UUID, perm: Perm = Perm.PROJECT_VIEW
) -> ProjectAccess:
    """The project for project-wide endpoints: members only (others get 404)."""
    access = project_access(request, org_id, project_id)
    if not access.role:
        raise Http404("No such project.")
    if not role_allows(access.role, perm):
        raise Forbidden("Your role in this project does not allow this.")
    return access


def task_for_caller(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    perm: Perm,
) -> tuple[Task, str | None, ProjectAccess]:
    """The task, the caller's role on it and the project; 404 when invisible,
    403 when visible but `perm` is not held."""
    principal = principal_of(request)
    access = project_access(request, org_id, project_id)
    if principal.task_id is not None:
        raise Forbidden("A task access token can only run its task and read its runs.")
    keys = grant_keys_that_matter(principal, access)
    task = selectors.task_for_access(
        project_id=project_id, task_id=task_id, grant_keys=keys
    )
    if task is None:
        raise Http404("No such task.")
    role = effective_task_role(
        task=task,
        principal=principal,
        access=access,
        grants=task.caller_grants,  # type: ignore[attr-defined]
    )
    if role is None:
        raise Http404("No such task.")
    if not task_role_allows(role, perm):
        raise Forbidden(f"You need the {perm} permission on this task.")
    return task, role, access
