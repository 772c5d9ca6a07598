"""Task IAM (api.md §7): direct grants on a task, and permission tests.

These endpoints answer with the seed's typed errors (`message`, `reason` and a
details object) rather than the ErrorResponse envelope, and a missing task is a
403 PERMISSION_CHECK_FAILED so that nobody learns which task ids exist.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest, JsonResponse
from ninja import Router, Schema
from pydantic import ConfigDict

from rightbrain.api_common import (
    PROJECT,
    ErrorResponse,
    PaginationDetails,
    page_limit_of,
)
from rightbrain.orgs.models import Membership, Organization, Project, User
from rightbrain.orgs.permissions import (
    TASK_MATRIX,
    TASK_ROLE_FROM_ORG_ROLE,
    Perm,
    TaskRole,
    highest_task_role,
    task_role_allows,
)
from tasks_app import selectors, services
from tasks_app.api.common import principal_of, project_access
from tasks_app.models import Task, TaskMember
from tasks_app.permissions import effective_task_role, subject_keys

router = Router(tags=["task IAM"])

TASK_PERMISSIONS = [
    "add_editor",
    "add_member",
    "add_owner",
    "edit",
    "remove_editor",
    "remove_member",
    "remove_owner",
    "run_task",
    "view",
    "view_members",
]


class IAMError(Schema):
    """`{message, reason, <camelCaseKey>: {...}}` (api.md §1.4)."""

    model_config = ConfigDict(extra="allow")

    message: str
    reason: str


class HTTPValidationError(Schema):
    detail: list[dict[str, Any]]


IAM_ERRORS: dict[int, Any] = {
    400: IAMError,
    403: IAMError,
    404: IAMError,
    422: HTTPValidationError,
    429: ErrorResponse,  # rate limits (rightbrain/orgs/limits.py)
}


class IAMMember(Schema):
    member: str
    roles: list[str] = []
    name: str | None = None
    avatar_url: str | None = None
    total_subjects: int = 1


class PaginatedIAMMembers(Schema):
    results: list[IAMMember]
    pagination: PaginationDetails | None


class RoleUpdate(Schema):
    add: list[str] = []
    remove: list[str] = []
    remove_all: bool | None = False


class PermissionTest(Schema):
    permissions: list[str]
    member: str | None = None


class PermissionTestResult(Schema):
    permissions: list[str]
    member: str | None = None


class IAMFailure(Exception):
    def __init__(self, status: int, reason: str, message: str, **details: Any):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        key = "".join(
            part.title() if index else part
            for index, part in enumerate(self.reason.lower().split("_"))
        )
        return {
            "message": self.message,
            "reason": self.reason,
            key + "Error": self.details,
        }


def iam_errors(view):
    """Turn IAMFailure into its typed error body."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except IAMFailure as failure:
            # Answered directly: the details key varies with the reason.
            return JsonResponse(failure.body(), status=failure.status)

    return wrapper


def _task_object(task_id: Any) -> dict[str, Any]:
    return {"type": "task", "id": str(task_id)}


def _permission_failure(task_id: Any, subject: str | None, perm: str) -> IAMFailure:
    subject_type, _, subject_id = (subject or ":").partition(":")
    return IAMFailure(
        403,
        "PERMISSION_CHECK_FAILED",
        f"You need the {perm} permission on this task.",
        subject={"type": subject_type, "id": subject_id} if subject else None,
        resource=_task_object(task_id),
        permission=perm,
    )


@dataclass
class TaskContext:
    task: Task
    role: str | None
    caller: str | None


def _task_context(
    request: HttpRequest, org_id: UUID, project_id: UUID, task_id: str
) -> TaskContext:
    try:
        parsed = UUID(task_id)
    except ValueError:
        raise IAMFailure(
            400,
            "MALFORMED_RESOURCE_IDENTIFIER",
            f"{task_id!r} is not a valid task id.",
            field="task_id",
            value=task_id,
            expected_format="UUID",
        ) from None
    principal = principal_of(request)
    caller = principal.member_key
    try:
        access = project_access(request, org_id, project_id)
    except Http404:  # the project itself is invisible: same answer as the task
        raise _permission_failure(task_id, caller, "view") from None
    keys = subject_keys(principal, access)
    task = selectors.task_for_access(
        project_id=project_id, task_id=parsed, grant_keys=keys
    )
    role = None
    if task is not None:
        role = effective_task_role(
            task=task,
            principal=principal,
            access=access,
            grants=task.caller_grants,  # type: ignore[attr-defined]
        )
    if task is None or role is None:
        raise _permission_failure(task_id, caller, "view")
    return TaskContext(task=task, role=role, caller=caller)


def _require(context: TaskContext, perm: str) -> None:
    if not task_role_allows(context.role, Perm(perm)):
        raise _permission_failure(context.task.pk, context.caller, perm)


@dataclass
class Subject:
    type: str
    id: UUID
    name: str
    total_subjects: int

    @property
    def member(self) -> str:
        return f"{self.type}:{self.id}"


def _subject(task: Task, member: str) -> Subject:
    """Parse `<type>:<uuid>` and check the subject exists and may hold a role."""
    subject_type, sep, raw_id = member.partition(":")
    if not sep or subject_type not in TaskMember.SubjectType.values:
        raise IAMFailure(
            400,
            "INVALID_SUBJECT_TYPE",
            "Members are written user:<id>, organization:<id> or project:<id>.",
            subject={"type": subject_type, "id": raw_id or None},
        )
    try:
        subject_id = UUID(raw_id)
    except ValueError:
        raise IAMFailure(
            400,
            "MALFORMED_RESOURCE_IDENTIFIER",
            f"{raw_id!r} is not a valid {subject_type} id.",
            field="member",
            value=member,
            expected_format=f"{subject_type}:<UUID>",
        ) from None
    organization_id = task.project.organization_id
    subject_object = {"type": subject_type, "id": str(subject_id)}

    def not_found() -> IAMFailure:
        # An unknown id and one outside the task's organisation get the same
        # answer, so the reply never tells whether another tenant's exists.
        return IAMFailure(
            404,
            "INVALID_MEMBER",
            f"This task's organisation has no {subject_type} with id {subject_id}.",
            resource=_task_object(task.pk),
            subject=subject_object,
        )

    org_size = Membership.objects.filter(organization_id=organization_id).count
    if subject_type == TaskMember.SubjectType.USER:
        user = User.objects.filter(
            pk=subject_id, memberships__organization_id=organization_id
        ).first()
        if user is None:
            raise not_found()
        return Subject(subject_type, subject_id, user.name or user.email, 1)
    if subject_type == TaskMember.SubjectType.ORGANIZATION:
        if subject_id != organization_id:
            raise not_found()
        organization = Organization.objects.get(pk=organization_id)
        return Subject(subject_type, subject_id, organization.name, org_size())
    project = Project.objects.filter(
        pk=subject_id, organization_id=organization_id
    ).first()
    if project is None:
        raise not_found()
    # Organisation roles reach every project, so a project stands for everyone
    # in its organisation.
    return Subject(subject_type, subject_id, project.name, org_size())


def _direct_roles(task: Task, subject: Subject) -> list[str]:
    return list(
        TaskMember.objects.filter(
            task=task, subject_type=subject.type, subject_id=subject.id
        ).values_list("role", flat=True)
    )


def _member_out(subject: Subject, roles: list[str]) -> dict[str, Any]:
    return {
        "member": subject.member,
        "roles": roles,
        "name": subject.name,
        "avatar_url": None,
        "total_subjects": subject.total_subjects,
    }


def _validate_roles(task: Task, roles: list[str]) -> None:
    for role in roles:
        if role not in TaskRole.values:
            raise IAMFailure(
                400,
                "INVALID_ROLE",
                f"{role!r} is not a task role (owner, editor, viewer).",
                resource=_task_object(task.pk),
                role=role,
            )


@router.get(
    PROJECT + "/task/{task_id}/iam/members",
    response={200: PaginatedIAMMembers, **IAM_ERRORS},
    summary="List a task's direct members",
    operation_id="task_iam_members",
)
@iam_errors
def iam_members(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: str,
    type: str | None = None,  # noqa: A002 - the spec names the query parameter
    cursor: str | None = None,
    page_limit: int = 100,
):
    context = _task_context(request, org_id, project_id, task_id)
    _require(context, "view_members")
    if type is not None and type not in TaskMember.SubjectType.values:
        raise IAMFailure(
            400,
            "INVALID_SUBJECT_TYPE",
            "type is user, organization or project.",
            subject={"type": type, "id": None},
        )
    limit = page_limit_of(page_limit)
    grants = list(selectors.task_grants(task=context.task, subject_type=type))
    if cursor is not None:
        keys = [grant.member for grant in grants]
        if cursor not in keys:
            raise IAMFailure(
                400,
                "MALFORMED_RESOURCE_IDENTIFIER",
                "Unknown cursor.",
                field="cursor",
                value=cursor,
                expected_format="a next_cursor from the previous page",
            )
        grants = grants[keys.index(cursor) + 1 :]
    page = grants[:limit]
    names = selectors.subject_names(grants=page)
    results = [
        {
            "member": grant.member,
            "roles": [grant.role],
            "name": names.get(grant.member, (None, 1))[0],
            "avatar_url": None,
            "total_subjects": names.get(grant.member, (None, 1))[1],
        }
        for grant in page
    ]
    has_next = len(grants) > limit
    return {
        "results": results,
        "pagination": {
            "next_cursor": page[-1].member if has_next else None,
            "has_next": has_next,
            "page_limit": limit,
        },
    }


@router.get(
    PROJECT + "/task/{task_id}/iam/members/{member}",
    response={200: IAMMember, **IAM_ERRORS},
    summary="Look up one member's direct roles",
    operation_id="task_iam_member",
)
@iam_errors
def iam_member(
    request: HttpRequest, org_id: UUID, project_id: UUID, task_id: str, member: str
):
    context = _task_context(request, org_id, project_id, task_id)
    _require(context, "view_members")
    subject = _subject(context.task, member)
    return _member_out(subject, _direct_roles(context.task, subject))


@router.post(
    PROJECT + "/task/{task_id}/iam/members/{member}",
    response={200: IAMMember, **IAM_ERRORS},
    summary="Change a member's roles",
    operation_id="task_iam_member_update",
)
@iam_errors
def iam_member_update(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: str,
    member: str,
    payload: RoleUpdate,
):
    context = _task_context(request, org_id, project_id, task_id)
    _validate_roles(context.task, payload.add + payload.remove)
    subject = _subject(context.task, member)
    current = _direct_roles(context.task, subject)
    remove_all = bool(payload.remove_all)
    for perm in services.permissions_needed(
        current=current, add=payload.add, remove=payload.remove, remove_all=remove_all
    ):
        _require(context, perm)
    roles = services.resulting_roles(
        current=current, add=payload.add, remove=payload.remove, remove_all=remove_all
    )
    if len(roles) > 1:
        raise IAMFailure(
            400,
            "MULTIPLE_ROLES_NOT_ALLOWED",
            "A member holds at most one role on a task. Use remove_all to replace it.",
            resource=_task_object(context.task.pk),
            roles=roles,
        )
    services.task_member_set_role(
        task=context.task,
        subject_type=subject.type,
        subject_id=subject.id,
        role=roles[0] if roles else None,
        actor=principal_of(request).user,
    )
    return _member_out(subject, roles)


def _effective_role_of(task: Task, subject: Subject) -> str | None:
    """A subject's role on the task, inherited roles included."""
    grants = {
        (grant.subject_type, str(grant.subject_id)): grant.role
        for grant in selectors.task_grants(task=task)
    }
    if subject.type != TaskMember.SubjectType.USER:
        return grants.get((subject.type, str(subject.id)))
    org_role = (
        Membership.objects.filter(
            user_id=subject.id, organization_id=task.project.organization_id
        )
        .values_list("role", flat=True)
        .first()
    )
    # As for callers (permissions.subject_keys): grants count only for members.
    keys: list[tuple[str, str]] = []
    if org_role:
        keys += [
            (TaskMember.SubjectType.USER, str(subject.id)),
            (TaskMember.SubjectType.ORGANIZATION, str(task.project.organization_id)),
            (TaskMember.SubjectType.PROJECT, str(task.project_id)),
        ]
    return highest_task_role(
        *(grants.get(key) for key in keys),
        TASK_ROLE_FROM_ORG_ROLE.get(org_role) if org_role else None,
        TaskRole.VIEWER if task.public else None,
    )


@router.post(
    PROJECT + "/task/{task_id}/iam/test",
    response={200: PermissionTestResult, **IAM_ERRORS},
    summary="Test which permissions a member holds",
    operation_id="task_iam_test",
)
@iam_errors
def iam_test(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: str,
    payload: PermissionTest,
):
    context = _task_context(request, org_id, project_id, task_id)
    for name in payload.permissions:
        if name not in TASK_PERMISSIONS:
            raise IAMFailure(
                400,
                "INVALID_ROLE",
                f"{name!r} is not a task permission.",
                resource=_task_object(context.task.pk),
                role=name,
            )
    if payload.member is None or payload.member == context.caller:
        role = context.role
        member = context.caller
    else:
        _require(context, "view_members")
        subject = _subject(context.task, payload.member)
        role = _effective_role_of(context.task, subject)
        member = subject.member
    held = TASK_MATRIX.get(role, frozenset()) if role else frozenset()
    return {
        "permissions": [name for name in payload.permissions if Perm(name) in held],
        "member": member,
    }
