"""The project's Runs view and CSV export, and the usage pages of a project
and of a task (dashboard.md §3, §11).

Each usage page serves itself whole, or only its panel (filters, figures,
charts, tables) to HTMX, so changing the range or the reporting group redraws
the charts in place; the task's panel can also be embedded by the task's own
pages (`hx-get` its URL).
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterator
from itertools import islice
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from rightbrain.http import AuthedRequest
from rightbrain.orgs.access import project_for_user
from rightbrain.orgs.permissions import Perm
from rightbrain.orgs.selectors import ProjectAccess, page_after
from rightbrain.spreadsheet import safe_row
from runs_app import budgets, charts, reports
from runs_app.credits import credits_shown
from runs_app.forms import RunFilterForm, UsageFilterForm
from runs_app.models import ReportingGroup, TaskRun
from runs_app.project_runs import (
    RunFilters,
    runs_filtered,
    runs_visible_to,
    task_roles,
)
from tasks_app.access import session_principal, task_for_user

RUNS_PAGE_SIZE = 50
CSV_CHUNK = 2000


def _groups(access: ProjectAccess) -> list[ReportingGroup]:
    return list(ReportingGroup.objects.filter(project=access.project).order_by("name"))


CHARTS = (
    ("usage-runs-chart", "Runs", charts.runs_chart),
    ("usage-tokens-chart", "Tokens", charts.tokens_chart),
    ("usage-credits-chart", "Credits", charts.credits_chart),
    ("usage-latency-chart", "Latency", charts.latency_chart),
)


def _charts(overview: reports.Overview) -> list[dict[str, Any]]:
    """Every chart of a usage page: the id its data is emitted under, its
    title and its figure."""
    hourly = overview.series.step == reports.Step.HOUR
    x = [
        start.strftime("%Y-%m-%d %H:%M" if hourly else "%Y-%m-%d")
        for start in overview.series.starts
    ]
    lines = overview.named_lines()
    return [
        {"id": chart_id, "title": title, "figure": chart(x, lines)}
        for chart_id, title, chart in CHARTS
    ]


# Usage --------------------------------------------------------------------------------


@require_GET
@login_required
def project_usage(request: AuthedRequest, project_id: UUID) -> HttpResponse:
    """Runs, tokens, credits and latency across the project's tasks, and the
    tasks that cost the most and fail the most."""
    access = project_for_user(request, project_id)
    roles = task_roles(principal=session_principal(request), access=access)
    tasks = {task.pk: task.name for task, _role in roles}
    form = UsageFilterForm(
        request.GET,
        groups=_groups(access),
        now=timezone.now(),
        default_start=access.project.created,
    )
    context: dict[str, Any] = {
        "access": access,
        "nav": "usage",
        "form": form,
        "budget": budgets.project_budget_status(project=access.project),
    }
    if form.is_valid():
        overview = reports.project_overview(
            tasks=tasks,
            window=form.cleaned_data["window"],
            step=form.cleaned_data["step"],
            reporting_group=form.reporting_group(),
        )
        context |= {
            "overview": overview,
            "overall": overview.overall,
            "charts": _charts(overview),
            "top_by_credits": _named(overview.ranked("credits"), tasks),
            "top_by_errors": _named(overview.ranked("errors"), tasks),
        }
    template = "runs_app/project_usage.html"
    return render(
        request, f"{template}#usage_panel" if request.htmx else template, context
    )


def _named(
    rows: list[tuple[Any, reports.Totals]], names: dict[UUID, str]
) -> list[dict[str, Any]]:
    return [
        {"task_id": key, "name": names[key], "totals": totals} for key, totals in rows
    ]


@require_GET
@login_required
def task_usage(request: AuthedRequest, project_id: UUID, task_id: UUID) -> HttpResponse:
    """A task's usage and performance, split by revision so that an A/B split
    can be judged at a glance (dashboard.md §3, checklist item 137)."""
    task_access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW)
    access = task_access.project
    form = UsageFilterForm(
        request.GET,
        groups=_groups(access),
        now=timezone.now(),
        default_start=task_access.task.created,
    )
    context: dict[str, Any] = {
        "access": access,
        "task": task_access.task,
        "nav": "tasks",
        "form": form,
    }
    if form.is_valid():
        overview = reports.task_overview(
            task=task_access.task,
            window=form.cleaned_data["window"],
            step=form.cleaned_data["step"],
            reporting_group=form.reporting_group(),
        )
        context |= {
            "overview": overview,
            "overall": overview.overall,
            "charts": _charts(overview),
            "revision_rows": [
                {"name": overview.names.get(key, str(key)), "totals": totals}
                for key, totals in overview.rows
            ],
        }
    template = "runs_app/task_usage.html"
    return render(
        request, f"{template}#usage_panel" if request.htmx else template, context
    )


# Runs ---------------------------------------------------------------------------------


def _run_filters(
    request: AuthedRequest, access: ProjectAccess
) -> tuple[RunFilterForm, Any, dict[UUID, str]]:
    """The filter form over the runs the person may see, and the task names."""
    principal = session_principal(request)
    roles = task_roles(principal=principal, access=access)
    tasks = {task.pk: task.name for task, _role in sorted(roles, key=_by_name)}
    chosen = _task_choice(request.GET.get("task"), tasks)
    revisions = (
        {
            key: label
            for key, label in reports.revision_labels(task_id=chosen).items()
            if isinstance(key, UUID)
        }
        if chosen
        else {}
    )
    form = RunFilterForm(
        request.GET,
        tasks=tasks,
        revisions=revisions,
        groups=_groups(access),
        now=timezone.now(),
    )
    runs = runs_visible_to(principal=principal, tasks=roles)
    return form, runs, tasks


def _by_name(role: tuple[Any, str]) -> str:
    return role[0].name.lower()


def _task_choice(value: str | None, tasks: dict[UUID, str]) -> UUID | None:
    try:
        chosen = UUID(value or "")
    except ValueError:
        return None
    return chosen if chosen in tasks else None


def _filters(form: RunFilterForm) -> RunFilters:
    data = form.cleaned_data
    return RunFilters(
        task_id=UUID(data["task"]) if data.get("task") else None,
        status=data.get("status") or None,
        revision_id=UUID(data["revision"]) if data.get("revision") else None,
        reporting_group=form.reporting_group(),
        created_after=data.get("after"),
        created_before=data.get("before"),
    )


def run_url(run: TaskRun) -> str:
    """The run, loaded in its task's Run view (dashboard.md §11; the view,
    runs_app/task_views.py, takes the run as `?run=`)."""
    return f"/projects/{run.task.project_id}/tasks/{run.task_id}/run?run={run.pk}"


@require_GET
@login_required
def project_runs(request: AuthedRequest, project_id: UUID) -> HttpResponse:
    """Every run of the project the person may see, newest first, filtered,
    a page at a time (keyset pages: `cursor` is the last run shown)."""
    access = project_for_user(request, project_id)
    form, runs, tasks = _run_filters(request, access)
    context: dict[str, Any] = {
        "access": access,
        "nav": "runs",
        "form": form,
        "has_tasks": bool(tasks),
    }
    if form.is_valid():
        page, has_next = page_after(
            runs_filtered(runs, _filters(form)).select_related(
                "task", "reporting_group", "user"
            ),
            cursor=form.cleaned_data.get("cursor"),
            limit=RUNS_PAGE_SIZE,
        )
        names = reports.revision_names(task_ids={run.task_id for run in page})
        query = request.GET.copy()
        query.pop("cursor", None)
        context |= {
            "runs": [(run, run_url(run), names[run.task_revision_id]) for run in page],
            "next_cursor": page[-1].pk if has_next else None,
            "query": query.urlencode(),
            "first_page": form.cleaned_data.get("cursor") is None,
        }
    template = "runs_app/project_runs.html"
    return render(
        request, f"{template}#runs_panel" if request.htmx else template, context
    )


CSV_HEADER = [
    "created",
    "run_id",
    "task_id",
    "task_name",
    "task_revision_id",
    "status",
    "is_error",
    "reporting_group",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "charged_credits",
    "llm_call_timing",
    "input_processor_timing",
    "user",
    "reference",
]


class _Line:
    """A file-like object csv.writer writes one row into, to hand it on."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(runs: Any, tasks: dict[UUID, str]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_HEADER)
    rows = runs.values_list(
        "created",
        "id",
        "task_id",
        "task_revision_id",
        "task_revision__test",
        "status",
        "is_error",
        "reporting_group__name",
        "input_tokens",
        "output_tokens",
        "charged_credits",
        "llm_call_timing",
        "input_processor_timing",
        "user__email",
        "reference",
    )
    for (
        created,
        run_id,
        task_id,
        revision_id,
        test,
        status,
        is_error,
        group,
        input_tokens,
        output_tokens,
        credits,
        llm_seconds,
        processor_seconds,
        email,
        reference,
    ) in rows.iterator(chunk_size=CSV_CHUNK):
        # Task names, group names, e-mails and references are user text.
        yield writer.writerow(
            safe_row(
                [
                    created.isoformat().replace("+00:00", "Z"),
                    run_id,
                    task_id,
                    tasks.get(task_id, ""),
                    "test" if test else revision_id,
                    status,
                    "true" if is_error else "false",
                    group or "",
                    input_tokens,
                    output_tokens,
                    input_tokens + output_tokens,
                    "" if credits is None else credits_shown(credits),
                    "" if llm_seconds is None else llm_seconds,
                    "" if processor_seconds is None else processor_seconds,
                    email or "",
                    reference,
                ]
            )
        )


async def _in_chunks(lines: Iterator[str]) -> AsyncIterator[str]:
    """The same lines for an ASGI server, read a chunk at a time on the
    thread that holds the database connection (an ASGI server would read a
    synchronous iterator to its end before sending anything)."""
    next_chunk = sync_to_async(lambda: "".join(islice(lines, CSV_CHUNK)))
    while chunk := await next_chunk():
        yield chunk


@require_GET
@login_required
def project_runs_csv(
    request: AuthedRequest, project_id: UUID
) -> HttpResponse | StreamingHttpResponse:
    """The filtered runs as CSV, streamed: rows are read from the database and
    sent a chunk at a time, so a hundred thousand runs never sit in memory."""
    access = project_for_user(request, project_id)
    form, runs, tasks = _run_filters(request, access)
    if not form.is_valid():
        return HttpResponse(
            "\n".join(
                f"{field}: {error}"
                for field, errors in form.errors.items()
                for error in errors
            ),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    lines = _csv_lines(runs_filtered(runs, _filters(form)), tasks)
    response = StreamingHttpResponse(
        _in_chunks(lines) if isinstance(request, ASGIRequest) else lines,
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="runs-{stamp}.csv"'
    return response
