"""Reports over the API (api.md §5): token, usage, timing and credit reports of
a task, and the usage and timing reports of a project.

Each answers from the hourly rollups (runs_app/reports.py), in a fixed number
of queries whatever the number of runs. The credit report speaks the IAM
endpoints' error dialect, as its seed documents: a malformed id or date is a
400 MALFORMED_RESOURCE_IDENTIFIER, a task the caller cannot see a 403
PERMISSION_CHECK_FAILED (rightbrain/api.py turns a missing token into 403
MISSING_AUTHENTICATION and envelope errors into 422 HTTPValidationError).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError

from rightbrain.api_common import ERRORS, PROJECT, json_response
from rightbrain.errors import BadRequest, Forbidden
from rightbrain.orgs.permissions import Perm
from runs_app import reports
from runs_app.reports import TEST, RevisionKey, Step, Totals, Window
from tasks_app.api.common import principal_of, project_access, task_for_caller
from tasks_app.api.iam import IAM_ERRORS, IAMFailure
from tasks_app.models import Task

router = Router(tags=["reports"])

RevisionId = UUID | Literal["test"]


# Schemas ------------------------------------------------------------------------------


class DateRange(Schema):
    start: str
    end: str


class DateQuery(Schema):
    start_date: str | None = None
    end_date: str | None = None


class GroupedQuery(DateQuery):
    show_reporting_group: bool = False


class UsageQuery(Schema):
    aggregation: Literal["day", "week"] = "day"
    errors_only: bool = False


class TimingQuery(DateQuery):
    aggregation: Literal["hour", "day"] = "hour"


class TokenRow(Schema):
    task_revision_id: RevisionId
    reporting_group: str | None = None
    total_input_tokens: int
    total_output_tokens: int
    total_tokens: int
    total_task_runs: int


class TaskRunTokenReport(Schema):
    task_id: UUID
    date_range: DateRange
    total_input_tokens: int
    total_output_tokens: int
    total_tokens: int
    total_task_runs: int
    task_revisions: list[TokenRow]


class UsageRow(Schema):
    task_revision_id: RevisionId
    data: dict[str, int]


class TaskRunUsageReport(Schema):
    task_id: UUID
    date_range: DateRange
    aggregation: Literal["day", "week"]
    task_revisions: list[UsageRow]
    total_counts: dict[str, int]


class TimingBucket(Schema):
    avg_llm_call_timing: float | None
    avg_input_processor_timing: float | None
    total_task_runs: int
    # [ext] estimated from the rollups' latency histograms (runs_app/latency.py)
    p50_llm_call_timing: float | None = None
    p95_llm_call_timing: float | None = None


class TimingRow(Schema):
    task_revision_id: RevisionId
    data: dict[str, TimingBucket]


class TaskRunTimingReport(Schema):
    task_id: UUID
    date_range: DateRange
    aggregation: Literal["hour", "day"]
    total_task_runs: dict[str, int]
    task_revisions: list[TimingRow]


_TOTAL_CREDITS = (
    "The runs' unrounded credits summed, then rounded half up to two places."
)


class CreditRow(Schema):
    task_revision_id: RevisionId
    reporting_group: str | None = None
    total_credits: str = Field(description=_TOTAL_CREDITS)
    total_task_runs: int


class TaskRunCreditReport(Schema):
    task_id: UUID
    date_range: DateRange
    total_credits: str = Field(description=_TOTAL_CREDITS)
    total_task_runs: int
    task_revisions: list[CreditRow]


class ProjectUsageRow(Schema):
    task_id: UUID
    task_name: str
    data: dict[str, int]


class ProjectUsageReport(Schema):
    project_id: UUID
    date_range: DateRange
    aggregation: Literal["day", "week"]
    tasks: list[ProjectUsageRow]
    total_counts: dict[str, int]


class ProjectTimingRow(Schema):
    task_id: UUID
    task_name: str
    data: dict[str, TimingBucket]


class ProjectTimingReport(Schema):
    project_id: UUID
    date_range: DateRange
    aggregation: Literal["hour", "day"]
    total_task_runs: dict[str, int]
    tasks: list[ProjectTimingRow]


# Helpers ------------------------------------------------------------------------------


def _query_error(error: BadRequest) -> ValidationError:
    """A date or window problem as the 400 envelope, naming the parameter."""
    return ValidationError(
        [
            {
                "loc": ("query", error.field or "query"),
                "msg": error.message,
                "type": "value_error",
            }
        ]
    )


def _task(request: HttpRequest, org_id: UUID, project_id: UUID, task_id: UUID) -> Task:
    task, _role, _access = task_for_caller(
        request, org_id, project_id, task_id, Perm.TASK_VIEW
    )
    return task


def _window(query: DateQuery, *, default_start: datetime) -> Window:
    return reports.window_between(
        start_date=query.start_date,
        end_date=query.end_date,
        default_start=default_start,
        now=timezone.now(),
    )


def _revision_id(key: RevisionKey) -> str:
    return TEST if key == TEST else str(key)


def _timing_window(query: TimingQuery, default_start: datetime) -> Window:
    if query.start_date is None and query.end_date is None:
        now = timezone.now()
        if query.aggregation == Step.HOUR:
            return reports.last_hours(now)
        return reports.last_days(now)
    return _window(query, default_start=default_start)


def _usage_window(aggregation: str) -> tuple[Window, Step]:
    now = timezone.now()
    if aggregation == "day":
        return reports.last_hours(now), Step.HOUR
    return reports.last_days(now), Step.DAY


def _counts(
    labels: list[str], values: list[Totals], errors_only: bool
) -> dict[str, int]:
    return {
        label: totals.errors if errors_only else totals.runs
        for label, totals in zip(labels, values, strict=True)
    }


def _timings(labels: list[str], values: list[Totals]) -> dict[str, dict[str, Any]]:
    return {
        label: _timing(totals) for label, totals in zip(labels, values, strict=True)
    }


def _timing(totals: Totals) -> dict[str, Any]:
    p50, p95 = totals.llm_percentiles()
    return {
        "avg_llm_call_timing": totals.avg_llm_seconds,
        "avg_input_processor_timing": totals.avg_processor_seconds,
        "total_task_runs": totals.runs,
        "p50_llm_call_timing": p50,
        "p95_llm_call_timing": p95,
    }


def _totals(labels: list[str], counts: list[int]) -> dict[str, int]:
    return dict(zip(labels, counts, strict=True))


# Task reports -------------------------------------------------------------------------


@router.get(
    PROJECT + "/task/{task_id}/token_report",
    response={200: TaskRunTokenReport, **ERRORS},
    summary="Tokens used by a task's runs",
    operation_id="task_token_report",
)
def task_token_report(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    query: Query[GroupedQuery],
) -> HttpResponse:
    task = _task(request, org_id, project_id, task_id)
    try:
        window = _window(query, default_start=task.created)
    except BadRequest as error:
        raise _query_error(error) from None
    overall, rows = reports.revision_totals(
        task=task,
        window=window,
        metrics=reports.TOKENS,
        by_group=query.show_reporting_group,
    )

    def row_out(row: reports.RevisionRow) -> dict[str, Any]:
        out: dict[str, Any] = {"task_revision_id": _revision_id(row.revision)}
        if query.show_reporting_group:
            out["reporting_group"] = row.group_name
        return out | {
            "total_input_tokens": row.totals.input_tokens,
            "total_output_tokens": row.totals.output_tokens,
            "total_tokens": row.totals.total_tokens,
            "total_task_runs": row.totals.runs,
        }

    return json_response(
        {
            "task_id": task.pk,
            "date_range": window.as_json(),
            "total_input_tokens": overall.input_tokens,
            "total_output_tokens": overall.output_tokens,
            "total_tokens": overall.total_tokens,
            "total_task_runs": overall.runs,
            "task_revisions": [row_out(row) for row in rows],
        }
    )


@router.get(
    PROJECT + "/task/{task_id}/usage_report",
    response={200: TaskRunUsageReport, **ERRORS},
    summary="Runs of a task per hour (last 24 hours) or per day (last 7 days)",
    operation_id="task_usage_report",
)
def task_usage_report(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    query: Query[UsageQuery],
) -> HttpResponse:
    task = _task(request, org_id, project_id, task_id)
    window, step = _usage_window(query.aggregation)
    series = reports.revision_series(
        task=task, window=window, step=step, metrics=reports.COUNTS
    )
    labels = series.labels
    return json_response(
        {
            "task_id": task.pk,
            "date_range": window.as_json(),
            "aggregation": query.aggregation,
            "task_revisions": [
                {
                    "task_revision_id": _revision_id(key),
                    "data": _counts(labels, values, query.errors_only),
                }
                for key, values in series.lines.items()
            ],
            "total_counts": _totals(
                labels, series.runs_total(errors_only=query.errors_only)
            ),
        }
    )


@router.get(
    PROJECT + "/task/{task_id}/timing_report",
    response={200: TaskRunTimingReport, **ERRORS},
    summary="Average (and p50/p95) LLM and input-processing time per bucket",
    operation_id="task_timing_report",
)
def task_timing_report(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: UUID,
    query: Query[TimingQuery],
) -> HttpResponse:
    task = _task(request, org_id, project_id, task_id)
    try:
        window = _timing_window(query, task.created)
        series = reports.revision_series(
            task=task,
            window=window,
            step=Step(query.aggregation),
            metrics=reports.TIMINGS,
        )
    except BadRequest as error:
        raise _query_error(error) from None
    labels = series.labels
    return json_response(
        {
            "task_id": task.pk,
            "date_range": window.as_json(),
            "aggregation": query.aggregation,
            "total_task_runs": _totals(labels, series.runs_total()),
            "task_revisions": [
                {
                    "task_revision_id": _revision_id(key),
                    "data": _timings(labels, values),
                }
                for key, values in series.lines.items()
            ],
        }
    )


def _permission_failure(request: HttpRequest, task_id: str) -> IAMFailure:
    member = principal_of(request).member_key
    subject_type, _, subject_id = (member or ":").partition(":")
    return IAMFailure(
        403,
        "PERMISSION_CHECK_FAILED",
        "You need the view permission on this task.",
        subject={"type": subject_type, "id": subject_id} if member else None,
        resource={"type": "task", "id": task_id},
        permission=str(Perm.TASK_VIEW),
    )


def _malformed(field: str, value: str, expected: str, message: str) -> IAMFailure:
    return IAMFailure(
        400,
        "MALFORMED_RESOURCE_IDENTIFIER",
        message,
        field=field,
        value=value,
        expected_format=expected,
    )


_DATE_FORMAT = (
    "YYYY-MM-DD, an ISO-8601 time, now, today, yesterday, 'N hours/days/weeks ago', "
    "'last week' or 'last month'; start_date not after end_date"
)


@router.get(
    PROJECT + "/task/{task_id}/credit_report",
    response={200: TaskRunCreditReport, **IAM_ERRORS},
    summary="Credits charged for a task's runs",
    operation_id="task_credit_report",
)
def task_credit_report(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: str,
    query: Query[GroupedQuery],
) -> HttpResponse:
    try:
        return _credit_report(request, org_id, project_id, task_id, query)
    except IAMFailure as failure:
        return JsonResponse(failure.body(), status=failure.status)


def _credit_report(
    request: HttpRequest,
    org_id: UUID,
    project_id: UUID,
    task_id: str,
    query: GroupedQuery,
) -> HttpResponse:
    try:
        parsed = UUID(task_id)
    except ValueError:
        raise _malformed(
            "task_id", task_id, "UUID", f"{task_id!r} is not a valid task id."
        ) from None
    try:
        task = _task(request, org_id, project_id, parsed)
    except (Http404, Forbidden):
        raise _permission_failure(request, task_id) from None
    try:
        window = _window(query, default_start=task.created)
    except BadRequest as error:
        field = error.field or "start_date"
        value = getattr(query, field, None) or ""
        raise _malformed(field, value, _DATE_FORMAT, error.message) from None
    overall, rows = reports.revision_totals(
        task=task,
        window=window,
        metrics=reports.CREDITS,
        by_group=query.show_reporting_group,
    )

    def row_out(row: reports.RevisionRow) -> dict[str, Any]:
        out: dict[str, Any] = {"task_revision_id": _revision_id(row.revision)}
        if query.show_reporting_group:
            out["reporting_group"] = row.group_name or "ungrouped"
        return out | {
            "total_credits": row.totals.credits_text,
            "total_task_runs": row.totals.runs,
        }

    return json_response(
        {
            "task_id": task.pk,
            "date_range": window.as_json(),
            "total_credits": overall.credits_text,
            "total_task_runs": overall.runs,
            "task_revisions": [row_out(row) for row in rows],
        }
    )


# Project reports ----------------------------------------------------------------------


def _visible_tasks(
    request: HttpRequest, org_id: UUID, project_id: UUID
) -> tuple[dict[UUID, str], datetime]:
    """The tasks the caller may view (id → name), and the project's creation."""
    principal = principal_of(request)
    if principal.task_id is not None:
        raise Forbidden("A task access token reads only its own task's runs.")
    access = project_access(request, org_id, project_id)
    tasks = reports.tasks_visible_to(principal=principal, access=access)
    return tasks, access.project.created


def _project_rows(
    tasks: dict[UUID, str],
    series: reports.Series,
    data: Callable[[list[str], list[Totals]], dict[str, Any]],
) -> list[dict[str, Any]]:
    labels = series.labels
    return [
        {"task_id": task_id, "task_name": tasks[task_id], "data": data(labels, values)}
        for task_id, values in series.lines.items()
    ]


@router.get(
    PROJECT + "/usage_report",
    response={200: ProjectUsageReport, **ERRORS},
    summary="Runs of each task of the project per hour or per day",
    operation_id="project_usage_report",
)
def project_usage_report(
    request: HttpRequest, org_id: UUID, project_id: UUID, query: Query[UsageQuery]
) -> HttpResponse:
    tasks, _created = _visible_tasks(request, org_id, project_id)
    window, step = _usage_window(query.aggregation)
    series = reports.task_series(
        task_ids=tasks, window=window, step=step, metrics=reports.COUNTS
    )
    return json_response(
        {
            "project_id": project_id,
            "date_range": window.as_json(),
            "aggregation": query.aggregation,
            "tasks": _project_rows(
                tasks,
                series,
                lambda labels, values: _counts(labels, values, query.errors_only),
            ),
            "total_counts": _totals(
                series.labels, series.runs_total(errors_only=query.errors_only)
            ),
        }
    )


@router.get(
    PROJECT + "/timing_report",
    response={200: ProjectTimingReport, **ERRORS},
    summary="Average (and p50/p95) LLM and input-processing time of each task",
    operation_id="project_timing_report",
)
def project_timing_report(
    request: HttpRequest, org_id: UUID, project_id: UUID, query: Query[TimingQuery]
) -> HttpResponse:
    tasks, created = _visible_tasks(request, org_id, project_id)
    try:
        window = _timing_window(query, created)
        series = reports.task_series(
            task_ids=tasks,
            window=window,
            step=Step(query.aggregation),
            metrics=reports.TIMINGS,
        )
    except BadRequest as error:
        raise _query_error(error) from None
    return json_response(
        {
            "project_id": project_id,
            "date_range": window.as_json(),
            "aggregation": query.aggregation,
            "total_task_runs": _totals(series.labels, series.runs_total()),
            "tasks": _project_rows(tasks, series, _timings),
        }
    )
