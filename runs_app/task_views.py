"""The Run Task view (dashboard.md §3): a task's configuration, a form for its
inputs, the result of a run, the runs before it and the task's usage.

Runs go through the same asynchronous path as the API (`run_submit`): the run
is written as queued and handed to Celery, which in the embedded set-up runs
it in-process before the answer; with a broker the result panel polls until
the run is done. People who may edit the task can change the prompts and the
output format here: running edits makes a test revision, never live, and
"Save as revision" turns it into a normal one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from rightbrain.errors import DomainError
from rightbrain.http import AuthedRequest
from rightbrain.orgs.permissions import Perm
from runs_app import files, reports, selectors, services
from runs_app.credits import credits_shown
from runs_app.display import friendly
from runs_app.edits import EDITOR_FIELDS, PromptEdits
from runs_app.forms import UsageFilterForm
from runs_app.models import TaskRun
from runs_app.views import _charts
from tasks_app import selectors as task_selectors
from tasks_app import services as task_services
from tasks_app.access import TaskAccess, task_for_user
from tasks_app.forms import ModelChoice
from tasks_app.input_processors import processor_named
from tasks_app.models import ActiveRevision, TaskRevision

RUN = "runs_app/task_run.html"
HISTORY_SIZE = 20
PENDING = {TaskRun.Status.QUEUED, TaskRun.Status.RUNNING}
# The quick ranges of the usage panel (the Usage tab offers custom ranges too).
USAGE_RANGES = (("24h", "24 hours"), ("7d", "7 days"), ("30d", "30 days"))
USAGE_CHARTS = {"usage-runs-chart", "usage-latency-chart"}
QUEUE_DOWN = (
    "The run queue is not answering, so nothing was run or kept. Try again in a moment."
)


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


def _input_fields(
    names: list[str],
    revision: TaskRevision,
    values: dict[str, Any],
) -> list[InputField]:
    """A field per variable in `names`, typed by `revision`'s input processors."""
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
        for name in names
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
            "credits": credits_shown(run.charged_credits),
            "timing": None
            if run.llm_call_timing is None
            else round(run.llm_call_timing, 2),
        },
    }


def _result_context(access: TaskAccess, run: TaskRun | None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "task": access.task,
        "run_url": reverse(
            "task_run", args=[access.project.project.pk, access.task.pk]
        ),
        "run": run,
    }
    if run is None:
        return context
    error = (run.response or {}).get("error") if run.is_error else None
    return context | {
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


def _history(
    request: AuthedRequest, access: TaskAccess, names: dict[Any, str]
) -> list[tuple[TaskRun, str]]:
    """The latest runs the person may see, each with its revision's name."""
    runs = selectors.runs_for_task(
        task=access.task,
        sees_all=selectors.sees_all_runs(access.task, access.role),
        user_id=request.user.pk,
    )[:HISTORY_SIZE]
    return [
        (run, "Test" if run.task_revision.test else names.get(run.task_revision_id, ""))
        for run in runs
    ]


def _usage_range(request: AuthedRequest) -> str:
    chosen = request.GET.get("range", "")
    return chosen if chosen in dict(USAGE_RANGES) else "7d"


def _usage_context(request: AuthedRequest, access: TaskAccess) -> dict[str, Any]:
    """The usage & performance panel: the Usage tab's report for a quick range
    (three queries, whatever the number of runs)."""
    chosen = _usage_range(request)
    form = UsageFilterForm(
        {"range": chosen},
        groups=[],
        now=timezone.now(),
        default_start=access.task.created,
    )
    form.is_valid()  # a quick range is always a valid window
    overview = reports.task_overview(
        task=access.task,
        window=form.cleaned_data["window"],
        step=form.cleaned_data["step"],
        reporting_group=None,
    )
    return {
        "task": access.task,
        "task_access": access,
        "run_url": reverse(
            "task_run", args=[access.project.project.pk, access.task.pk]
        ),
        "usage": overview,
        "usage_range": chosen,
        "usage_ranges": USAGE_RANGES,
        "usage_charts": [
            chart for chart in _charts(overview) if chart["id"] in USAGE_CHARTS
        ],
    }


def _revision_options(
    traffic: list[ActiveRevision], shown: TaskRevision, names: dict[Any, str]
) -> list[tuple[UUID, str]]:
    """The revisions a run may be sent to: the live ones, and the one shown
    when it is not live (a test revision, an older one)."""
    options = [
        (
            entry.task_revision_id,
            f"{names.get(entry.task_revision_id, 'Revision')} · "
            f"{(entry.weight * 100).normalize():f} % of traffic",
        )
        for entry in traffic
    ]
    if all(entry.task_revision_id != shown.pk for entry in traffic):
        label = "Test revision" if shown.test else names.get(shown.pk, "Revision")
        created = timezone.localtime(shown.created).strftime("%-d %b %Y, %H:%M")
        options.append((shown.pk, f"{label} of {created} · not live"))
    return options


def _model_choices(revision: TaskRevision) -> list[ModelChoice]:
    """The models the editor offers (retired ones hidden), and those the
    revision uses even if they have retired since."""
    choices = [
        ModelChoice(model)
        for model in task_selectors.models_for_listing(
            include_retired=False, with_comments=False
        )
    ]
    offered = {choice.model.pk for choice in choices}
    for model in (revision.llm_model, revision.fallback_llm_model):
        if model is not None and model.pk not in offered:
            choices.append(ModelChoice(model, current=True))
    return choices


def _context(
    request: AuthedRequest,
    access: TaskAccess,
    *,
    run: TaskRun | None = None,
    shown: TaskRevision | None = None,
    chosen: UUID | None = None,
    values: dict[str, Any] | None = None,
    edits: PromptEdits | None = None,
    error: str = "",
    edit_error: str = "",
) -> dict[str, Any]:
    """Everything the workspace shows. `shown` is the revision whose
    configuration is on screen (by default the run's, else the one with the
    most traffic); `chosen` the revision the next run goes to (None: by
    weight); `edits` the editor's text when it differs from `shown`."""
    task = access.task
    traffic = task_selectors.traffic_of(task=task)
    if shown is None:
        shown = run.task_revision if run is not None else traffic[0].task_revision
    live = {entry.task_revision_id for entry in traffic}
    if chosen is None and run is not None and (shown.pk not in live or len(live) > 1):
        # Run a reloaded run again on its own revision.
        chosen = shown.pk
    usage = _usage_context(request, access)
    names = usage["usage"].names
    if values is None and run is not None:
        values = (run.run_data or {}).get("submitted", {})
    original = PromptEdits.of(shown, task)
    editor = edits or original
    can_edit = access.allows(Perm.TASK_EDIT)
    return {
        "access": access.project,
        "nav": "tasks",
        "task_access": access,
        "traffic": traffic,
        "revision": shown,
        "revision_options": _revision_options(traffic, shown, names),
        "chosen_revision": chosen,
        "editor": editor,
        "edited": editor != original or bool(edit_error),
        "inputs": _input_fields(
            editor.variables if can_edit else shown.input_params, shown, values or {}
        ),
        "history": _history(request, access, names),
        "can_run": access.allows(Perm.TASK_RUN),
        "can_edit": can_edit,
        "models": _model_choices(shown) if can_edit else [],
        "form_error": error,
        "edit_error": edit_error,
        **usage,
        **_result_context(access, run),
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


def _revision_of(access: TaskAccess, raw: str) -> TaskRevision | None:
    """The task's revision with id `raw`; None when there is none."""
    try:
        revision_id = UUID(raw)
    except ValueError:
        return None
    return task_selectors.revision_of_task(
        task_id=access.task.pk, revision_id=revision_id
    )


@require_http_methods(["GET", "POST"])
@login_required
def task_run(request: AuthedRequest, project_id: UUID, task_id: UUID) -> HttpResponse:
    access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW)
    if request.method == "POST":
        if not access.allows(Perm.TASK_RUN):
            raise PermissionDenied
        return _run(request, access)
    target = request.htmx.target if request.htmx else None
    if target == "run-usage":
        return render(request, f"{RUN}#usage", _usage_context(request, access))
    # `?id=` is the spec's name for it (dashboard.md §11); our links say `?run=`.
    run_id = request.GET.get("run") or request.GET.get("id", "")
    run = _visible_run(request, access, run_id)
    if target == "run-result":
        return _poll(request, access, run)
    if target == "run-history":
        names = reports.revision_names(task_ids=[access.task.pk])
        context = _result_context(access, run) | {
            "history": _history(request, access, names)
        }
        return render(request, f"{RUN}#history", context)
    shown = None if run else _revision_of(access, request.GET.get("revision", ""))
    values = None if run else _typed_values(request.GET)
    context = _context(
        request,
        access,
        run=run,
        shown=shown,
        chosen=shown.pk if shown else None,
        values=values,
    )
    template = RUN + ("#workspace" if target == "run-workspace" else "")
    return render(request, template, context)


def _poll(
    request: AuthedRequest, access: TaskAccess, run: TaskRun | None
) -> HttpResponse:
    """The result panel alone, which polls while the run is queued or running;
    once it is done, the page's history and usage hear `run-finished`."""
    response = render(request, f"{RUN}#result", _result_context(access, run))
    if run is not None and run.status not in PENDING:
        trigger_client_event(response, "run-finished")
    return response


def _typed_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The text inputs as typed (`input_<name>`), to show them again."""
    return {
        key.removeprefix("input_"): value
        for key, value in data.items()
        if key.startswith("input_")
    }


def _posted_inputs(
    request: AuthedRequest, fields: list[InputField]
) -> tuple[dict[str, Any], list[files.Upload]]:
    values: dict[str, Any] = {}
    uploads: list[files.Upload] = []
    for field in fields:
        document = request.FILES.get(f"file_{field.name}")
        if field.kind == "file" and document is not None:
            upload = files.uploads_from_parts([document])[0]
            uploads.append(upload)
            values[field.name] = upload.filename
        else:
            values[field.name] = request.POST.get(f"input_{field.name}", "")
    uploads += files.uploads_from_parts(request.FILES.getlist("images"))
    files.check_run_uploads(uploads)
    return values, uploads


def _posted_source(access: TaskAccess, raw: str) -> TaskRevision | None:
    """The revision the editor was loaded from; 404 for an id of no revision
    of this task (None when the form carried none)."""
    if not raw:
        return None
    source = _revision_of(access, raw)
    if source is None:
        raise Http404("This task has no such revision.")
    return source


def _run(request: AuthedRequest, access: TaskAccess) -> HttpResponse:
    """Submit a run from the form: of the edited configuration as a test
    revision when the prompts or the format were changed, else of the chosen
    revision (or by weight)."""
    source = _posted_source(access, request.POST.get("source_revision", ""))
    chosen = _revision_of(access, request.POST.get("revision", ""))
    edits = PromptEdits.posted(request.POST, source, access.task) if source else None
    try:
        changes = edits.changes(source) if edits and source else {}
        if changes and not access.allows(Perm.TASK_EDIT):
            raise PermissionDenied
        run = _submit(request, access, source, chosen, edits, changes)
    except DomainError as error:
        in_editor = (error.field or "").startswith(EDITOR_FIELDS)
        return _refused(
            request,
            access,
            shown=source or chosen,
            chosen=chosen,
            edits=edits,
            error="" if in_editor else error.message,
            edit_error=error.message if in_editor else "",
        )
    except services.QueueUnavailable:
        return _refused(
            request,
            access,
            shown=source or chosen,
            chosen=chosen,
            edits=edits,
            error=QUEUE_DOWN,
            status=503,
        )
    if not request.htmx:
        url = reverse("task_run", args=[access.project.project.pk, access.task.pk])
        return redirect(f"{url}?run={run.pk}")
    context = _context(request, access, run=run)
    return render(request, f"{RUN}#workspace", context)


def _submit(
    request: AuthedRequest,
    access: TaskAccess,
    source: TaskRevision | None,
    chosen: TaskRevision | None,
    edits: PromptEdits | None,
    changes: dict[str, Any],
) -> TaskRun:
    if changes:
        assert source is not None and edits is not None
        values, uploads = _posted_inputs(
            request, _input_fields(edits.variables, source, {})
        )
        return services.run_submit_edited(
            task=access.task,
            source=source,
            changes=changes,
            task_input=values,
            user=request.user,
            uploads=uploads,
        )
    revision = services.revision_for_run(
        task=access.task, revision_id=chosen.pk if chosen else None
    )
    values, uploads = _posted_inputs(
        request, _input_fields(revision.input_params, revision, {})
    )
    return services.run_submit(
        task=access.task,
        revision=revision,
        task_input=values,
        user=request.user,
        uploads=uploads,
    )


def _refused(
    request: AuthedRequest,
    access: TaskAccess,
    *,
    shown: TaskRevision | None,
    chosen: TaskRevision | None,
    edits: PromptEdits | None,
    error: str = "",
    edit_error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The form again, as it was posted, with why nothing was run. HTMX gets
    200 so that it swaps the workspace in."""
    context = _context(
        request,
        access,
        shown=shown,
        chosen=chosen.pk if chosen else None,
        values=_typed_values(request.POST),
        edits=edits,
        error=error,
        edit_error=edit_error,
    )
    if request.htmx:
        return render(request, f"{RUN}#workspace", context)
    return render(request, RUN, context, status=status)


@require_POST
@login_required
def task_run_inputs(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    """The input fields for the prompt being edited, as it is typed: nothing
    (204) while its variables are those already shown."""
    access = task_for_user(request, project_id, task_id, Perm.TASK_EDIT)
    source = _posted_source(access, request.POST.get("source_revision", ""))
    if source is None:
        raise Http404("This task has no such revision.")
    edits = PromptEdits.posted(request.POST, source, access.task)
    if request.POST.get("shown_params", "") == ",".join(edits.variables):
        return HttpResponse(status=204)
    context = {
        "inputs": _input_fields(edits.variables, source, _typed_values(request.POST))
    }
    return render(request, f"{RUN}#inputs", context)


@require_POST
@login_required
def task_run_save_revision(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    """ "Save as revision": the test revision on screen becomes a normal,
    inactive revision with the same configuration."""
    access = task_for_user(request, project_id, task_id, Perm.TASK_EDIT)
    test = _revision_of(access, request.POST.get("revision", ""))
    if test is None:
        raise Http404("This task has no such revision.")
    try:
        saved = task_services.revision_promote(
            task=access.task,
            revision=test,
            user=request.user,
            annotation=request.POST.get("annotation", "")[:1000],
        )
    except DomainError as error:
        return _refused(
            request,
            access,
            shown=test,
            chosen=test,
            edits=None,
            edit_error=error.message,
        )
    if not request.htmx:
        messages.success(
            request,
            "Saved as a new revision. It takes no traffic until you make it live "
            "on the Revisions tab.",
        )
        url = reverse("task_run", args=[project_id, task_id])
        return redirect(f"{url}?revision={saved.pk}")
    context = _context(
        request,
        access,
        shown=saved,
        chosen=saved.pk,
        values=_typed_values(request.POST),
    )
    return render(request, f"{RUN}#workspace", context | {"saved_revision": saved})
