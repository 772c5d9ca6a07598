"""Shares over JSON (api.md §9, §13): create, list and revoke links; clone a
shared task; the unauthenticated public view and public run."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Query, Router, Schema
from pydantic import Field

from rightbrain.api_common import (
    ERRORS,
    FILE_ERRORS,
    PROJECT,
    ErrorResponse,
    PaginationDetails,
    error_body,
    json_response,
    page_limit_of,
    validated_body,
)
from rightbrain.errors import BadRequest, Forbidden, Invalid
from rightbrain.orgs.permissions import Perm
from rightbrain.orgs.selectors import page_after
from runs_app import files
from runs_app.selectors import sees_all_runs
from sharing import limits, selectors, services
from sharing.models import TaskShare
from sharing.public import public_run_out, public_share_out
from tasks_app.api.common import (
    member_access,
    principal_of,
    project_access,
    task_for_caller,
)
from tasks_app.api.tags import tag_out
from tasks_app.api.tasks import task_out
from tasks_app.permissions import grant_keys_that_matter
from tasks_app.schemas import TagOut, TaskOut
from tasks_app.selectors import visible_tasks

router = Router(tags=["shares"])

PUBLIC_ERRORS: dict[int, Any] = {
    400: ErrorResponse,
    403: ErrorResponse,
    404: ErrorResponse,
    422: ErrorResponse,
    500: ErrorResponse,
}


# Schemas ----------------------------------------------------------------------------


class ShareCreate(Schema):
    title: str | None = Field(default=None, max_length=200)
    description: str | None = None
    expires_at: datetime | None = None
    expires_in_hours: int | None = None
    task_revision_id: UUID | None = None
    task_run_id: UUID | None = None
    custom_short_id: str | None = None
    max_uses: int | None = None
    allow_inputs: bool = False
    show_output: bool = True


class TaskShareOut(Schema):
    id: UUID
    task_id: UUID
    task_revision_id: UUID
    user_id: UUID | None
    task_name: str
    short_id: str
    share_url: str
    views_count: int
    active: bool
    created: datetime
    modified: datetime
    title: str | None = None
    description: str | None = None
    expires_at: datetime | None = None
    task_run_id: UUID | None = None
    tags: list[TagOut] = []
    max_uses: int | None = None
    use_count: int = 0
    allow_inputs: bool = False
    show_output: bool = True


class PaginatedTaskShares(Schema):
    results: list[TaskShareOut]
    pagination: PaginationDetails | None


class ShareListQuery(Schema):
    page_limit: int = 100
    cursor: UUID | None = None
    active: bool | None = None


class ProjectShareListQuery(ShareListQuery):
    task_id: UUID | None = None


class PublicModel(Schema):
    alias: str
    provider: str


class PublicFile(Schema):
    original_filename: str
    stored_filename: str
    content_type: str
    download_url: str | None = None
    size_bytes: int | None = None


class PublicExampleRun(Schema):
    run_data: dict[str, Any]
    response: Any = None
    files: list[PublicFile] = []


class PublicTaskShare(Schema):
    short_id: str
    title: str | None = None
    description: str | None = None
    task_name: str
    task_description: str | None = None
    output_modality: str
    input_params: list[str]
    image_required: bool
    system_prompt: str
    user_prompt: str
    output_format: dict[str, Any] | None = None
    llm_model: PublicModel
    allow_inputs: bool
    show_output: bool
    expires_at: datetime | None = None
    tags: list[TagOut] = []
    views_count: int
    created: datetime
    example_run: PublicExampleRun | None = None
    is_shared: bool
    read_only: bool


class PublicFileIn(Schema):
    filename: str = Field(max_length=255)
    content: str  # base64


class PublicRunRequest(Schema):
    task_input: dict[str, Any] | None = None
    task_files: list[PublicFileIn] | None = None


class PublicRunOut(Schema):
    id: UUID
    response: Any = None
    files: list[PublicFile] = []
    created: datetime
    is_error: bool


# Serialisation ------------------------------------------------------------------------


def share_out(share: TaskShare) -> dict[str, Any]:
    task = share.task
    tags = getattr(task, "task_tags", None)
    return {
        "id": share.pk,
        "task_id": share.task_id,
        "task_revision_id": share.task_revision_id,
        "user_id": share.user_id,
        "task_name": task.name,
        "short_id": share.short_id,
        "share_url": share.url,
        "views_count": share.views_count,
        "active": share.active,
        "created": share.created,
        "modified": share.modified,
        "title": share.title or None,
        "description": share.description or None,
        "expires_at": share.expires_at,
        "task_run_id": share.task_run_id,
        "tags": [
            tag_out(tag)
            for tag in (task.tags.order_by("name") if tags is None else tags)
        ],
        "max_uses": share.max_uses,
        "use_count": share.use_count,
        "allow_inputs": share.allow_inputs,
        "show_output": share.show_output,
    }


def _page(shares, query: ShareListQuery) -> HttpResponse:
    limit = page_limit_of(query.page_limit)
    page, has_next = page_after(shares, cursor=query.cursor, limit=limit)
    return json_response(
        {
            "results": [share_out(share) for share in page],
            "pagination": {
                "next_cursor": str(page[-1].pk) if has_next else None,
                "has_next": has_next,
                "page_limit": limit,
            },
        }
    )


# Managing shares (api.md §9) ----------------------------------------------------------


@router.post(
    PROJECT + "/task/{task_id}/share",
    response={200: TaskShareOut, **ERRORS},
    summary="Share a task with a public link",
    operation_id="share_create",
)
def share_create(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    payload: ShareCreate,
):
    task, role, _ = task_for_caller(
        request, org_id, project_id, task_id, Perm.TASK_EDIT
    )
    user = principal_of(request).user
    if payload.task_run_id is not None and not selectors.example_run_visible(
        task=task,
        run_id=payload.task_run_id,
        sees_all=sees_all_runs(task, role),
        user_id=user.pk if user else None,
    ):
        # The example is published: only a run the caller may read.
        raise Invalid(
            "The example run must be a run you can see (this task shows "
            "each person only their own runs).",
            field="task_run_id",
        )
    share = services.share_create(
        task=task,
        user=user,
        title=payload.title,
        description=payload.description,
        task_revision_id=payload.task_revision_id,
        task_run_id=payload.task_run_id,
        custom_short_id=payload.custom_short_id,
        expires_at=payload.expires_at,
        expires_in_hours=payload.expires_in_hours,
        max_uses=payload.max_uses,
        allow_inputs=payload.allow_inputs,
        show_output=payload.show_output,
    )
    return json_response(share_out(share))


@router.get(
    PROJECT + "/task/{task_id}/share",
    response={200: PaginatedTaskShares, **ERRORS},
    summary="List a task's share links",
    operation_id="share_list_for_task",
)
def share_list_for_task(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    query: Query[ShareListQuery],
):
    task, _role, _ = task_for_caller(
        request, org_id, project_id, task_id, Perm.TASK_VIEW
    )
    return _page(selectors.shares_of_task(task=task, active=query.active), query)


@router.get(
    PROJECT + "/share",
    response={200: PaginatedTaskShares, **ERRORS},
    summary="List the share links of a project's tasks you can view",
    operation_id="share_list_for_project",
)
def share_list_for_project(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    query: Query[ProjectShareListQuery],
):
    principal = principal_of(request)
    if principal.task_id is not None:
        raise Forbidden("A task access token can only run its task.")
    access = project_access(request, org_id, project_id)
    tasks = visible_tasks(
        project_id=project_id,
        is_member=bool(access.role),
        grant_keys=grant_keys_that_matter(principal, access),
    )
    shares = selectors.shares_of_project(
        project_id=project_id,
        visible_tasks=None if access.role else tasks,
        task_id=query.task_id,
        active=query.active,
    )
    return _page(shares, query)


@router.delete(
    PROJECT + "/task/{task_id}/share/{share_id}",
    response={200: TaskShareOut, **ERRORS},
    summary="Revoke a share link (kept for auditing)",
    operation_id="share_revoke",
)
def share_revoke(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    share_id: UUID,
):
    task, _role, _ = task_for_caller(
        request, org_id, project_id, task_id, Perm.TASK_EDIT
    )
    share = selectors.share_in_task(task=task, share_id=share_id)
    if share is None:
        raise Http404("This task has no share with that id.")
    return json_response(
        share_out(services.share_revoke(share=share, actor=principal_of(request).user))
    )


@router.post(
    PROJECT + "/share/{short_id}/clone",
    response={200: TaskOut, **ERRORS},
    summary="Clone a shared task into this project",
    operation_id="share_clone",
)
def share_clone(request: HttpRequest, org_id: UUID, project_id: UUID, short_id: str):
    access = member_access(request, org_id, project_id, Perm.PROJECT_CREATE_TASK)
    share = selectors.share_for_clone(short_id=short_id)
    if share is None:
        raise Http404("There is no share link with that id.")
    task = services.task_clone(
        share=share, project=access.project, user=principal_of(request).user
    )
    task, role, _ = task_for_caller(
        request, org_id, project_id, task.pk, Perm.TASK_VIEW
    )
    return json_response(task_out(task, role))


# The public view and run (api.md §13) ------------------------------------------------


def _public_share(short_id: str) -> TaskShare:
    share = selectors.share_for_public(short_id=short_id)
    if share is None:
        raise Http404("There is no share link with that id.")
    services.share_check_usable(share)
    return share


@router.get(
    "/v1/share/{short_id}",
    response={200: PublicTaskShare, **PUBLIC_ERRORS},
    auth=None,
    summary="View a shared task (no authentication)",
    operation_id="share_public_view",
)
def share_public_view(request: HttpRequest, short_id: str):
    share = _public_share(short_id)
    services.share_view_record(share=share)
    return json_response(public_share_out(share))


def _public_run_body() -> dict[str, Any]:
    multipart = {
        "type": "object",
        "properties": {
            "task_input": {
                "type": "string",
                "description": "The variables as a JSON object.",
            },
            "task_files": {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
            },
        },
    }
    return {
        "required": False,
        "content": {
            "application/json": {"schema": PublicRunRequest.model_json_schema()},
            "multipart/form-data": {"schema": multipart},
        },
    }


def _json_run_request(request: HttpRequest) -> tuple[dict | None, list[files.Upload]]:
    if not request.body:
        return None, []
    try:
        data = json.loads(request.body)
    except ValueError:
        raise BadRequest("The request body is not valid JSON.") from None
    payload = validated_body(PublicRunRequest, data)
    uploads = files.decode_task_files(
        [item.model_dump() for item in payload.task_files or []]
    )
    return payload.task_input, uploads


def _multipart_run_request(
    request: HttpRequest,
) -> tuple[dict | None, list[files.Upload]]:
    files.refuse_oversized_body(request)
    try:
        form, parts = request.POST, request.FILES
    except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent) as error:
        raise BadRequest(f"The multipart body could not be read: {error}") from None
    raw = form.get("task_input")
    task_input = None
    if raw is not None:
        try:
            task_input = json.loads(raw)
        except ValueError:
            raise Invalid(
                "The task_input part is not valid JSON.", field="task_input"
            ) from None
        if not isinstance(task_input, dict):
            raise Invalid(
                "The task_input part must be a JSON object.", field="task_input"
            )
    return task_input, files.uploads_from_parts(parts.getlist("task_files"))


def run_request_of(request: HttpRequest) -> tuple[dict | None, list[files.Upload]]:
    if request.content_type == "multipart/form-data":
        return _multipart_run_request(request)
    return _json_run_request(request)


def too_many_requests(retry_after: int) -> HttpResponse:
    body = error_body(
        429,
        f"Too many runs from your address; try again in {retry_after} seconds.",
        "Rate limited",
    )
    # Not a server error: the caller may not run again yet.
    body["type"] = "authorization_error"
    response = json_response(body, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@router.post(
    "/v1/share/{short_id}/run",
    response={
        200: PublicRunOut,
        **PUBLIC_ERRORS,
        **FILE_ERRORS,
        402: ErrorResponse,
        429: ErrorResponse,
    },
    auth=None,
    summary="Run a shared task (no authentication; rate-limited per address)",
    operation_id="share_public_run",
    openapi_extra={"requestBody": _public_run_body()},
)
def share_public_run(request: HttpRequest, short_id: str):
    retry_after = limits.share_run_refused(limits.visitor_address(request))
    if retry_after is not None:
        return too_many_requests(retry_after)
    share = _public_share(short_id)
    task_input, uploads = run_request_of(request) if share.allow_inputs else (None, [])
    run = services.share_run_execute(
        share=share, task_input=task_input, uploads=uploads, user=None
    )
    return json_response(public_run_out(share, run))
