"""Runs over the API (api.md §4.1–4.6): run a task, list and fetch its runs.

A run is sent as JSON (files base64-encoded in `task_files`) or as
multipart/form-data (a `task_input` JSON part and `task_files` file parts); both
end in the same service call.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
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
from rightbrain.blocking import blocking
from rightbrain.errors import BadRequest, Forbidden, Invalid
from rightbrain.orgs.auth import DeferredBearerAuth, principal_from
from rightbrain.orgs.limits import admit_run
from rightbrain.orgs.permissions import Perm
from rightbrain.orgs.selectors import page_after
from runs_app import file_serving, files, services
from runs_app.credits import credits_shown
from runs_app.dates import parse_date
from runs_app.models import RunFile, TaskRun
from runs_app.project_runs import runs_visible_to, task_roles
from runs_app.selectors import (
    made_with_access_token,
    runs_for_task,
    runs_made_with_access_token,
    sees_all_runs,
)
from tasks_app import selectors as tasks_selectors
from tasks_app.api.common import principal_of, project_access, task_for_caller
from tasks_app.models import Task

router = Router(tags=["runs"])


class TaskFileIn(Schema):
    filename: str = Field(max_length=255)
    content: str  # base64


class RunRequest(Schema):
    task_input: dict[str, Any] | None = None
    task_files: list[TaskFileIn] | None = None
    task_reference: str | None = Field(default=None, max_length=255)
    context_id: str | None = Field(default=None, max_length=255)
    # The seeds' examples sometimes send this instead of task_input.
    input_params: Any = None


def _inlined_schema(model: type[Schema]) -> dict[str, Any]:
    """`model`'s JSON Schema with its nested models written in place: ninja
    lists under components only the models of an operation's parameters."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(definitions[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(schema)


def _run_request_body() -> dict[str, Any]:
    """The two bodies a run accepts, for the OpenAPI document."""
    text = {"type": "string", "maxLength": 255}
    multipart = {
        "type": "object",
        "properties": {
            "task_input": {
                "type": "string",
                "description": "The variables as a JSON object, "
                'e.g. {"review": "Great blender"}.',
            },
            "task_files": {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "description": "Images and documents, one file part each.",
            },
            "task_reference": text,
            "context_id": text,
        },
        "required": ["task_input"],
    }
    return {
        "required": True,
        "content": {
            "application/json": {"schema": _inlined_schema(RunRequest)},
            "multipart/form-data": {"schema": multipart},
        },
    }


class RunQuery(Schema):
    revision_id: UUID | None = None
    revision_tag: str | None = None
    reporting_group: str | None = Field(default=None, max_length=100)
    use_fallback_model: bool = False
    # Queue the run and answer 202 at once; fetch it by id until it is done.
    run_async: bool = Field(default=False, alias="async")


class ReportingGroupOut(Schema):
    id: UUID
    project_id: UUID
    name: str
    description: str | None = None
    created: Any
    modified: Any


class TaskRunOut(Schema):
    id: UUID
    task_id: UUID
    task_revision_id: UUID | str
    response: Any
    run_data: dict[str, Any]
    files: list[dict[str, Any]] = []
    is_error: bool = False
    status: str = "succeeded"  # queued, running, succeeded, failed
    llm_retries: int = 0
    used_fallback_model: bool = False
    primary_failure_reason: str | None = None
    # The model that answered (or failed last): a retired model's replacement
    # when the revision names a retired one.
    llm_model_id: UUID | None = None
    fallback_llm_model_id: UUID | None = None
    user_id: UUID | None = None
    reporting_group_id: UUID | None = None
    reporting_group: ReportingGroupOut | None = None
    reference: str | None = None
    context_id: str | None = None
    created: Any
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_processor_timing: float | None
    llm_call_timing: float | None
    charged_credits: str | None = Field(
        description='Credits to two places, rounded half up ("0.00" for 0.004); '
        "reports and budgets add the unrounded amounts. null: the model's price "
        "is unknown."
    )


class PaginatedTaskRuns(Schema):
    results: list[TaskRunOut]
    pagination: PaginationDetails | None


def _file_out(run: TaskRun, file: RunFile, base: str) -> dict[str, Any]:
    app_path = f"{base}/task/{run.task_id}/run/{run.pk}/file/{file.stored_filename}"
    return {
        "original_filename": file.original_filename,
        "stored_filename": file.stored_filename,
        "content_type": file.content_type,
        "download_url": file_serving.download_url(file, app_path),
        "size_bytes": file.size_bytes,
    }


def _base(org_id: UUID, project_id: UUID) -> str:
    return f"/api/v1/org/{org_id}/project/{project_id}"


def run_out(run: TaskRun, base: str) -> dict[str, Any]:
    group = run.reporting_group
    return {
        "id": run.pk,
        "task_id": run.task_id,
        # Test revisions are reported as "test" (spec decision 4).
        "task_revision_id": "test" if run.task_revision.test else run.task_revision_id,
        "response": run.response,
        "run_data": run.run_data,
        "files": [_file_out(run, file, base) for file in run.files.all()],
        "is_error": run.is_error,
        "status": run.status,
        "llm_retries": run.llm_retries,
        "used_fallback_model": run.used_fallback_model,
        "primary_failure_reason": run.primary_failure_reason or None,
        "llm_model_id": run.llm_model_id,
        "fallback_llm_model_id": run.fallback_llm_model_id,
        "user_id": run.user_id,
        "reporting_group_id": run.reporting_group_id,
        "reporting_group": None
        if group is None
        else {
            "id": group.pk,
            "project_id": group.project_id,
            "name": group.name,
            "description": group.description or None,
            "created": group.created,
            "modified": group.modified,
        },
        "reference": run.reference or None,
        "context_id": run.context_id or None,
        "created": run.created,
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "total_tokens": run.total_tokens,
        "input_processor_timing": run.input_processor_timing,
        "llm_call_timing": run.llm_call_timing,
        "charged_credits": credits_shown(run.charged_credits),
    }


def _task_for_runs(
    request: HttpRequest, org_id: UUID, project_id: UUID, task_id: UUID, perm: Perm
) -> tuple[Task, str | None, bool]:
    """(task, role, sees every run). A task's own token runs it and reads the
    runs made with it (`_token_reads`), and reaches no other task."""
    principal = principal_of(request)
    if principal.task_id is not None:
        project_access(request, org_id, project_id)
        if principal.task_id != task_id:
            raise Forbidden("This token belongs to another task.")
        task = Task.objects.filter(
            pk=task_id, project_id=project_id, deleted__isnull=True
        ).first()
        if task is None:
            raise Http404("No such task.")
        return task, None, False
    task, role, _access = task_for_caller(request, org_id, project_id, task_id, perm)
    return task, role, sees_all_runs(task, role)


def _token_reads(request: HttpRequest) -> bool:
    """Whether the caller is a task access token. A token has no role: it
    reads the runs made with it and no others, whoever can copy it (every
    editor can), so `task_run_visibility` keeps its meaning. The token the
    caller holds is the task's current one: that is how it was resolved."""
    return principal_of(request).task_id is not None


def _require_visible(
    run: TaskRun, task: Task, *, sees_all: bool, request: HttpRequest
) -> None:
    """404 for a task token and a run not made with it; 403 unless the caller
    sees every run of the task or this one is theirs."""
    if _token_reads(request):
        if not made_with_access_token(run, task):
            raise Http404("This task has no run with that id.")
        return
    user = principal_of(request).user
    if not sees_all and (user is None or run.user_id != user.pk):
        raise Forbidden("You may see only your own runs of this task.")


def _run_request(request: HttpRequest) -> tuple[RunRequest, list[files.Upload]]:
    """The run's fields and files, from a JSON or a multipart body."""
    if request.content_type == "multipart/form-data":
        return _multipart_run_request(request)
    payload = validated_body(RunRequest, _json_body(request))
    uploads = files.decode_task_files(
        [item.model_dump() for item in payload.task_files or []]
    )
    return payload, uploads


def _json_body(request: HttpRequest) -> Any:
    if not request.body:
        return {}
    try:
        return json.loads(request.body)
    except ValueError:
        raise BadRequest("The request body is not valid JSON.") from None


def _multipart_run_request(
    request: HttpRequest,
) -> tuple[RunRequest, list[files.Upload]]:
    files.refuse_oversized_body(request)
    try:
        form, parts = request.POST, request.FILES
    except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent) as error:
        raise BadRequest(f"The multipart body could not be read: {error}") from None
    for name in parts:
        if name != "task_files":
            raise Invalid(
                f"Send files as parts named task_files, not {name!r}.", field=name
            )
    if "task_files" in form:
        raise Invalid(
            "task_files parts must be files; base64 content belongs in a JSON body.",
            field="task_files",
        )
    raw_input = form.get("task_input")
    task_input = None if raw_input is None else _json_object_part(raw_input)
    payload = validated_body(
        RunRequest,
        {
            "task_input": task_input,
            "task_reference": form.get("task_reference"),
            "context_id": form.get("context_id"),
        },
    )
    return payload, files.uploads_from_parts(parts.getlist("task_files"))


def _json_object_part(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as error:
        raise Invalid(
            f"The task_input part is not valid JSON ({error}).", field="task_input"
        ) from None
    if not isinstance(value, dict):
        raise Invalid(
            "The task_input part must be a JSON object of name → value.",
            field="task_input",
        )
    return value


@router.post(
    PROJECT + "/task/{task_id}/run",
    response={
        200: TaskRunOut,
        202: TaskRunOut,
        **ERRORS,
        **FILE_ERRORS,
        402: ErrorResponse,
        503: ErrorResponse,
    },
    summary="Run a task",
    operation_id="task_run",
    openapi_extra={"requestBody": _run_request_body()},
    auth=DeferredBearerAuth(),
)
async def task_run(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    query: Query[RunQuery],
):
    # Async end to end, so a server holds thousands of runs waiting on slow
    # providers without a thread each: the database work before and after the
    # model call runs in short blocking sections, the call itself is awaited.
    prepared = await blocking(_accept_run)(request, org_id, project_id, task_id, query)
    if isinstance(prepared, HttpResponse):
        return prepared
    outcome = await services.call_model_async(prepared)
    return await blocking(_record_run)(prepared, outcome, org_id, project_id)


def _accept_run(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    query: RunQuery,
) -> services.PreparedRun | HttpResponse:
    """The checked request, prepared for the model; or the answer already (an
    asynchronous run is queued here)."""
    # The token is checked here (DeferredBearerAuth), and counted as a request.
    principal = principal_from(request)
    task, _role, _ = _task_for_runs(request, org_id, project_id, task_id, Perm.TASK_RUN)
    if principal.limits is not None:
        # Only a run the caller may make counts against the runs per minute.
        admit_run(principal.limits)
    payload, uploads = _run_request(request)
    if payload.task_input is None:
        if payload.input_params is not None:
            raise Invalid(
                "Send the variables as task_input (an object of name → value); "
                "input_params is not a run field.",
                field="task_input",
            )
        raise BadRequest("task_input is required.", field="task_input")
    revision = services.revision_for_run(
        task=task, revision_id=query.revision_id, revision_tag=query.revision_tag
    )
    request_fields: dict[str, Any] = {
        "task": task,
        "revision": revision,
        "task_input": payload.task_input,
        "user": principal.user,
        "reporting_group": services.reporting_group_for(
            project=task.project, name=query.reporting_group
        ),
        "reference": payload.task_reference or "",
        "context_id": payload.context_id or "",
        "use_fallback_model": query.use_fallback_model,
        "uploads": uploads,
        "access_token_hash": task.access_token_hash if _token_reads(request) else "",
        "api_key": principal.api_key,
    }
    if not query.run_async:
        return services.run_prepare(**request_fields)
    try:
        run = services.run_submit(**request_fields)
    except services.QueueUnavailable:
        return json_response(
            error_body(
                503,
                "The run queue is not reachable; nothing was queued. Try again "
                "shortly, or run without async.",
                "The run queue is unavailable.",
            ),
            status=503,
        )
    return json_response(run_out(run, _base(org_id, project_id)), status=202)


def _record_run(
    prepared: services.PreparedRun,
    outcome: services.Outcome,
    org_id: UUID,
    project_id: UUID,
) -> HttpResponse:
    run = services.run_record(prepared, outcome)
    if run.is_error:
        reason = (run.response or {}).get("error", "unknown error")
        detail = f"The run {run.pk} failed: {reason}"
        return json_response(error_body(500, detail, "The run failed."), status=500)
    return json_response(run_out(run, _base(org_id, project_id)))


# The spec's run list filter names the two finished states.
_STATUS_FILTER = {"success": TaskRun.Status.SUCCEEDED, "error": TaskRun.Status.FAILED}


class RunListQuery(Schema):
    page_limit: int = 100
    cursor: UUID | None = None
    status: str | None = Field(default=None, pattern="^(success|error)$")
    task_revision_id: UUID | None = None


@router.get(
    PROJECT + "/task/{task_id}/run",
    response={200: PaginatedTaskRuns, **ERRORS},
    summary="List a task's runs",
    operation_id="task_run_list",
)
def task_run_list(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    query: Query[RunListQuery],
):
    task, _role, sees_all = _task_for_runs(
        request, org_id, project_id, task_id, Perm.TASK_VIEW
    )
    user = principal_of(request).user
    readable = (
        runs_made_with_access_token(task=task)
        if _token_reads(request)
        else runs_for_task(
            task=task, sees_all=sees_all, user_id=user.pk if user else None
        )
    )
    runs = readable.select_related("reporting_group").prefetch_related("files")
    if query.status is not None:
        runs = runs.filter(status=_STATUS_FILTER[query.status])
    if query.task_revision_id is not None:
        if not task.revisions.filter(pk=query.task_revision_id).exists():
            raise Http404("This task has no revision with that id.")
        runs = runs.filter(task_revision_id=query.task_revision_id)
    return _page_of_runs(
        runs,
        cursor=query.cursor,
        page_limit=query.page_limit,
        base=_base(org_id, project_id),
    )


@router.get(
    PROJECT + "/task/{task_id}/run/{task_run_id}",
    response={200: TaskRunOut, **ERRORS},
    summary="Fetch a run",
    operation_id="task_run_get",
)
def task_run_get(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    task_run_id: UUID,
):
    task, _role, sees_all = _task_for_runs(
        request, org_id, project_id, task_id, Perm.TASK_VIEW
    )
    run = (
        TaskRun.objects.filter(pk=task_run_id, task=task)
        .select_related("task_revision", "reporting_group")
        .prefetch_related("files")
        .first()
    )
    if run is None:
        raise Http404("This task has no run with that id.")
    _require_visible(run, task, sees_all=sees_all, request=request)
    return json_response(run_out(run, _base(org_id, project_id)))


# Project-wide run lists (api.md §4.5, §4.6) ----------------------------------------


def _visible_runs(request: HttpRequest, org_id: UUID, project_id: UUID):
    """Runs of the project the caller may see, task by task (domain.md §9.3)."""
    principal = principal_of(request)
    if principal.task_id is not None:
        raise Forbidden("A task access token reads only its own task's runs.")
    access = project_access(request, org_id, project_id)
    tasks = task_roles(principal=principal, access=access)
    runs = (
        runs_visible_to(principal=principal, tasks=tasks)
        .select_related("task_revision", "reporting_group")
        .prefetch_related("files")
    )
    return runs, {task.pk: task.name for task, _role in tasks}


class ProjectRunQuery(Schema):
    page_limit: int = 100
    cursor: UUID | None = None
    status: str | None = Field(default=None, pattern="^(success|error)$")
    task_id: UUID | None = None
    reporting_group: str | None = None
    created_after: str | None = None
    created_before: str | None = None


@router.get(
    PROJECT + "/task_run",
    response={200: PaginatedTaskRuns, **ERRORS},
    summary="List the project's runs",
    operation_id="project_run_list",
)
def project_run_list(
    request: HttpRequest, org_id: UUID, project_id: UUID, query: Query[ProjectRunQuery]
):
    runs, _names = _visible_runs(request, org_id, project_id)
    if query.status is not None:
        runs = runs.filter(status=_STATUS_FILTER[query.status])
    if query.task_id is not None:
        runs = runs.filter(task_id=query.task_id)
    if query.reporting_group is not None:
        runs = runs.filter(reporting_group__name=query.reporting_group)
    now = timezone.now()
    if query.created_after is not None:
        after = parse_date(
            query.created_after, as_end=False, now=now, field="created_after"
        )
        runs = runs.filter(created__gte=after)
    if query.created_before is not None:
        before = parse_date(
            query.created_before, as_end=True, now=now, field="created_before"
        )
        runs = runs.filter(created__lte=before)
    return _page_of_runs(
        runs,
        cursor=query.cursor,
        page_limit=query.page_limit,
        base=_base(org_id, project_id),
    )


def _page_of_runs(runs, *, cursor: UUID | None, page_limit: int, base: str):
    """Newest first, strictly after `cursor` (the last run of the previous page)."""
    limit = page_limit_of(page_limit)
    page, has_next = page_after(
        runs.order_by("-created", "-id"), cursor=cursor, limit=limit
    )
    return json_response(
        {
            "results": [run_out(run, base) for run in page],
            "pagination": {
                "next_cursor": str(page[-1].pk) if has_next else None,
                "has_next": has_next,
                "page_limit": limit,
            },
        }
    )


class RecentQuery(Schema):
    runs_per_task: int = Field(default=5, ge=1, le=50)
    task_id: UUID | None = None


class RecentRunsOfTask(Schema):
    task_id: UUID
    task_name: str
    task_runs: list[TaskRunOut]


class RecentRuns(Schema):
    results: list[RecentRunsOfTask]


@router.get(
    PROJECT + "/task_run/recent",
    response={200: RecentRuns, **ERRORS},
    summary="The latest runs of each task",
    operation_id="project_recent_runs",
)
def project_recent_runs(
    request: HttpRequest, org_id: UUID, project_id: UUID, query: Query[RecentQuery]
):
    runs, names = _visible_runs(request, org_id, project_id)
    if query.task_id is not None:
        runs = runs.filter(task_id=query.task_id)
    newest_first = [F("created").desc(), F("id").desc()]
    latest = runs.annotate(
        position=Window(RowNumber(), partition_by=[F("task_id")], order_by=newest_first)
    ).filter(position__lte=query.runs_per_task)
    grouped: dict[UUID, list[TaskRun]] = {}
    for run in latest.order_by(*newest_first):
        grouped.setdefault(run.task_id, []).append(run)
    return json_response(
        {
            "results": [
                {
                    "task_id": task,
                    "task_name": names[task],
                    "task_runs": [
                        run_out(run, _base(org_id, project_id)) for run in task_runs
                    ],
                }
                for task, task_runs in grouped.items()
            ]
        }
    )


@router.get(
    PROJECT + "/task/{task_id}/run/{task_run_id}/file/{stored_filename}",
    response={200: None, 302: None, **ERRORS, 503: ErrorResponse},
    summary="Download a file of a run",
    description="The file as an attachment (JPEG and PNG images inline), with "
    "`X-Content-Type-Options: nosniff` and a sandboxing Content-Security-Policy. "
    "With a files origin configured, a redirect (302) to a signed, short-lived "
    "URL there instead. 404 when the file's bytes are gone from storage, 503 "
    "while the file store does not answer.",
    operation_id="task_run_file",
)
def task_run_file(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    task_run_id: UUID,
    stored_filename: str,
):
    task, _role, sees_all = _task_for_runs(
        request, org_id, project_id, task_id, Perm.TASK_VIEW
    )
    file = (
        RunFile.objects.filter(
            task_run_id=task_run_id,
            task_run__task=task,
            stored_filename=stored_filename,
        )
        .select_related("task_run")
        .first()
    )
    if file is None:
        raise Http404("This run has no such file.")
    _require_visible(file.task_run, task, sees_all=sees_all, request=request)
    return file_serving.file_download(file)


# Forwarder deliveries (api.md §8) -----------------------------------------------


class ForwarderDeliveryOut(Schema):
    id: UUID
    delivery_id: UUID
    task_forwarder_id: UUID
    task_run_id: UUID
    attempt: int
    status_code: int | None = None
    error: str | None = None
    delivered_at: datetime | None = None
    next_attempt_at: datetime | None = None
    created: datetime


class ForwarderDeliveries(Schema):
    results: list[ForwarderDeliveryOut]


@router.get(
    PROJECT + "/task/{task_id}/run/{task_run_id}/forwarder_delivery",
    response={200: ForwarderDeliveries, **ERRORS},
    summary="A run's delivery attempts to its task forwarder",
    operation_id="task_run_forwarder_deliveries",
)
def task_run_forwarder_deliveries(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    task_run_id: UUID,
):
    task, _role, sees_all = _task_for_runs(
        request, org_id, project_id, task_id, Perm.TASK_VIEW
    )
    run = TaskRun.objects.filter(pk=task_run_id, task=task).first()
    if run is None:
        raise Http404("This task has no run with that id.")
    _require_visible(run, task, sees_all=sees_all, request=request)
    deliveries = tasks_selectors.deliveries_of_run(task_run_id=run.pk)
    return {
        "results": [
            {
                "id": delivery.pk,
                "delivery_id": delivery.delivery_id,
                "task_forwarder_id": delivery.forwarder_id,
                "task_run_id": delivery.task_run_id,
                "attempt": delivery.attempt,
                "status_code": delivery.status_code,
                "error": delivery.error or None,
                "delivered_at": delivery.delivered_at,
                "next_attempt_at": delivery.next_attempt_at,
                "created": delivery.created,
            }
            for delivery in deliveries
        ]
    }
