"""The Run Task view (dashboard.md §3): a task's configuration, a form for its
inputs, the result of a run and the runs before it.

Runs go through the same service as the API. The dashboard runs synchronously
for now; `_start_run` is the one place that would submit an asynchronous run
instead, and the result panel already polls while a run is queued or running.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from rightbrain.errors import DomainError
from rightbrain.http import AuthedRequest
from rightbrain.orgs.permissions import Perm
from runs_app import files, selectors, services
from runs_app.display import friendly
from runs_app.models import TaskRun
from tasks_app import selectors as task_selectors
from tasks_app.access import TaskAccess, task_for_user
from tasks_app.input_processors import processor_named
from tasks_app.models import TaskRevision
from tasks_app.schema_editor import format_text

RUN = "runs_app/task_run.html"
HISTORY_SIZE = 20
PENDING = {TaskRun.Status.QUEUED, TaskRun.Status.RUNNING}


@dataclass
class InputField:
    """One input of the run form, drawn from the revision's input_params."""

    name: str
    description: str
    kind: str  # text | url | file
    value: str = ""

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()


def _input_fields(revision: TaskRevision, values: dict[str, Any]) -> list[InputField]:
    kinds = {}
    for entry in revision.input_processors or []:
        definition = processor_named(entry.get("input_processor", ""))
        if definition is not None:
            kinds[entry["param_name"]] = (
                "file"
                if definition.accepts_files
                else "url"
                if definition.name == "url_fetcher"
                else "text"
            )
    descriptions = revision.input_param_descriptions or {}
    return [
        InputField(
            name=name,
            description=descriptions.get(name, ""),
            kind=kinds.get(name, "text"),
            value=""
            if values.get(name) is None
            else values[name]
            if isinstance(values[name], str)
            else json.dumps(values[name]),
        )
        for name in revision.input_params
    ]


def _condensed(run: TaskRun) -> dict[str, Any]:
    """The guide's condensed response: ids, the output and its costs."""
    return {
        "task_id": str(run.task_id),
        "task_revision_id": "test"
        if run.task_revision.test
        else str(run.task_revision_id),
        "response": run.response,
        "metadata": {
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "total_tokens": run.total_tokens,
            "credits": None
            if run.charged_credits is None
            else f"{run.charged_credits:.2f}",
            "timing": None
            if run.llm_call_timing is None
            else round(run.llm_call_timing, 2),
        },
    }


def _result_context(run: TaskRun | None) -> dict[str, Any]:
    if run is None:
        return {"run": None}
    error = (run.response or {}).get("error") if run.is_error else None
    return {
        "run": run,
        "pending": run.status in PENDING,
        "run_error": error,
        "display": None
        if run.is_error or run.response is None
        else friendly(run.response),
        "run_json": json.dumps(_condensed(run), indent=2, ensure_ascii=False),
        "seconds": round(
            (run.llm_call_timing or 0) + (run.input_processor_timing or 0), 2
        ),
    }


def _context(
    request: AuthedRequest,
    access: TaskAccess,
    *,
    run: TaskRun | None = None,
    values: dict[str, Any] | None = None,
    revision_id: UUID | None = None,
    error: str = "",
) -> dict[str, Any]:
    task = access.task
    traffic = task_selectors.traffic_of(task=task)
    shown = traffic[0].task_revision
    if run is not None:
        shown = run.task_revision
    history = list(
        selectors.runs_for_task(
            task=task,
            sees_all=selectors.sees_all_runs(task, access.role),
            user_id=request.user.pk,
        )[:HISTORY_SIZE]
    )
    return {
        "access": access.project,
        "nav": "tasks",
        "task_access": access,
        "task": task,
        "traffic": traffic,
        "revision": shown,
        "format_json": format_text(shown.output_format),
        "chosen_revision": revision_id
        or (run.task_revision_id if run and run.task_revision.test else None),
        "inputs": _input_fields(shown, values or {}),
        "history": history,
        "can_run": access.allows(Perm.TASK_RUN),
        "run_url": reverse("task_run", args=[access.project.project.pk, task.pk]),
        "form_error": error,
        **_result_context(run),
    }


def _visible_run(
    request: AuthedRequest, access: TaskAccess, raw: str
) -> TaskRun | None:
    try:
        run_id = UUID(raw)
    except ValueError:
        return None
    return (
        selectors.runs_for_task(
            task=access.task,
            sees_all=selectors.sees_all_runs(access.task, access.role),
            user_id=request.user.pk,
        )
        .filter(pk=run_id)
        .first()
    )


@require_http_methods(["GET", "POST"])
@login_required
def task_run(request: AuthedRequest, project_id: UUID, task_id: UUID) -> HttpResponse:
    access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW)
    if request.method == "POST":
        if not access.allows(Perm.TASK_RUN):
            raise PermissionDenied
        return _run(request, access)
    run = _visible_run(request, access, request.GET.get("run", ""))
    values = (run.run_data or {}).get("submitted", {}) if run else {}
    context = _context(request, access, run=run, values=values)
    template = RUN
    if request.htmx and request.htmx.target in {"run-result", "run-workspace"}:
        template += "#result" if request.htmx.target == "run-result" else "#workspace"
    return render(request, template, context)


def _start_run(
    request: AuthedRequest,
    access: TaskAccess,
    revision: TaskRevision,
    values: dict[str, Any],
    uploads: list[files.Upload],
) -> TaskRun:
    """Run now and wait. (An asynchronous run would be submitted here; the
    result panel polls until it is done.)"""
    return services.run_execute(
        task=access.task,
        revision=revision,
        task_input=values,
        user=request.user,
        uploads=uploads,
    )


def _run(request: AuthedRequest, access: TaskAccess) -> HttpResponse:
    raw_revision = request.POST.get("revision", "")
    values: dict[str, Any] = {}
    try:
        revision_id = UUID(raw_revision) if raw_revision else None
    except ValueError:
        revision_id = None
    try:
        revision = services.revision_for_run(task=access.task, revision_id=revision_id)
        uploads: list[files.Upload] = []
        for field in _input_fields(revision, {}):
            document = request.FILES.get(f"file_{field.name}")
            if field.kind == "file" and document is not None:
                upload = files.uploads_from_parts([document])[0]
                uploads.append(upload)
                values[field.name] = upload.filename
            else:
                values[field.name] = request.POST.get(f"input_{field.name}", "")
        uploads += files.uploads_from_parts(request.FILES.getlist("images"))
        run = _start_run(request, access, revision, values, uploads)
    except DomainError as error:
        context = _context(
            request, access, values=values, revision_id=revision_id, error=error.message
        )
        return render(request, f"{RUN}#workspace" if request.htmx else RUN, context)
    if not request.htmx:
        url = reverse("task_run", args=[access.project.project.pk, access.task.pk])
        return redirect(f"{url}?run={run.pk}")
    context = _context(request, access, run=run, values=values, revision_id=revision_id)
    return render(request, f"{RUN}#workspace", context)
