"""Compare mode (dashboard.md §6): choose 2–4 revisions, enter one set of
inputs, run them side by side.

The page's address keeps the last comparison (`?revisions=…&runs=…`), so the
link can be sent to a teammate: it shows the same columns from the stored runs,
as far as that teammate may see them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods
from django_htmx.http import push_url

from rightbrain.errors import DomainError
from rightbrain.http import AuthedRequest
from rightbrain.orgs.permissions import Perm
from runs_app import files
from runs_app.comparisons import (
    MAX_REVISIONS,
    MIN_REVISIONS,
    RevisionRefused,
    compared_runs,
    comparison_rows,
    comparison_run,
    comparison_submit,
)
from runs_app.models import TaskRun
from runs_app.outputs import FILE_MODALITIES
from runs_app.services import QueueUnavailable
from runs_app.task_views import PENDING, QUEUE_DOWN, InputField, _input_fields
from runs_app.tasks import execute_queued_run
from tasks_app import selectors as task_selectors
from tasks_app.access import TaskAccess, task_for_user
from tasks_app.models import TaskRevision

COMPARE = "runs_app/task_compare.html"


# The revisions and the inputs they take -----------------------------------------------


@dataclass
class RevisionChoice:
    """A revision as the picker and the column heads show it."""

    revision: TaskRevision
    number: int  # 1 for the task's first revision
    percent: str  # its share of live traffic, "" when it has none

    @property
    def pk(self) -> UUID:
        return self.revision.pk


@dataclass
class CompareInput:
    """An input of the form: the union of the chosen revisions' inputs."""

    param: InputField
    used_by: list[RevisionChoice] = field(default_factory=list)
    error: str = ""


def _revision_choices(access: TaskAccess) -> list[RevisionChoice]:
    """Every revision of the task, test revisions included, newest first."""
    revisions = list(
        task_selectors.revisions_of(task_id=access.task.pk, include_tests=True)
    )
    weights = {
        entry.task_revision_id: entry.weight
        for entry in task_selectors.traffic_of(task=access.task)
    }
    return [
        RevisionChoice(
            revision=revision,
            number=len(revisions) - index,
            percent=f"{(weights[revision.pk] * 100).normalize():f}"
            if revision.pk in weights
            else "",
        )
        for index, revision in enumerate(revisions)
    ]


def _inputs(
    choices: list[RevisionChoice], values: dict[str, Any]
) -> list[CompareInput]:
    """Each input any revision takes, newest revision's wording first."""
    inputs: dict[str, CompareInput] = {}
    for choice in choices:
        for input_field in _input_fields(
            choice.revision.input_params, choice.revision, values
        ):
            entry = inputs.setdefault(input_field.name, CompareInput(input_field))
            entry.used_by.append(choice)
    return list(inputs.values())


class CompareForm(forms.Form):
    revisions = forms.TypedMultipleChoiceField(
        coerce=UUID,
        error_messages={
            "required": "Choose two to four revisions to compare.",
            "invalid_choice": "%(value)s is not a revision of this task.",
        },
    )

    def __init__(
        self,
        data: Any,
        uploaded: Any,
        *,
        choices: list[RevisionChoice],
        inputs: list[CompareInput],
    ):
        super().__init__(data, uploaded)
        self.by_id = {choice.pk: choice for choice in choices}
        self.inputs = inputs
        revisions = self.fields["revisions"]
        assert isinstance(revisions, forms.TypedMultipleChoiceField)
        revisions.choices = [(str(choice.pk), str(choice.number)) for choice in choices]
        for entry in inputs:
            name = entry.param.name
            if entry.param.kind == "file":
                self.fields[f"file_{name}"] = forms.FileField(required=False)
            else:
                self.fields[f"input_{name}"] = forms.CharField(
                    required=False, strip=False
                )

    def clean_revisions(self) -> list[UUID]:
        chosen = list(dict.fromkeys(self.cleaned_data["revisions"]))
        if len(chosen) < MIN_REVISIONS:
            raise forms.ValidationError("Choose at least two revisions to compare.")
        if len(chosen) > MAX_REVISIONS:
            raise forms.ValidationError(
                f"Choose at most {MAX_REVISIONS} revisions; you chose {len(chosen)}."
            )
        return chosen

    def chosen(self) -> list[RevisionChoice]:
        """The chosen revisions, oldest first: columns read old → new."""
        picked = [self.by_id[pk] for pk in self.cleaned_data.get("revisions", [])]
        return sorted(picked, key=lambda choice: choice.number)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = {choice.pk for choice in self.chosen()}
        for entry in self.inputs:
            users = [choice for choice in entry.used_by if choice.pk in chosen]
            if not users:
                continue
            name = entry.param.name
            key = f"{'file' if entry.param.kind == 'file' else 'input'}_{name}"
            value = data.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                self.add_error(key, _missing(entry, users, everyone=len(chosen)))
        return data

    def values(self) -> dict[str, Any]:
        return {
            entry.param.name: self.cleaned_data.get(f"input_{entry.param.name}", "")
            for entry in self.inputs
            if entry.param.kind != "file"
        }

    def error_for(self, name: str) -> str:
        """The first error of an input (the template cannot build the key)."""
        for key in (f"input_{name}", f"file_{name}"):
            if self.errors.get(key):
                return str(self.errors[key][0])
        return ""


def _missing(entry: CompareInput, users: list[RevisionChoice], *, everyone: int) -> str:
    what = "Choose a file" if entry.param.kind == "file" else "Enter a value"
    if len(users) == everyone:
        return f"{what}: every chosen revision takes {entry.param.name}."
    numbers = ", ".join(f"#{choice.number}" for choice in users)
    if len(users) == 1:
        return f"{what}: revision {numbers} takes {entry.param.name}."
    return f"{what}: revisions {numbers} take {entry.param.name}."


# The page -----------------------------------------------------------------------------


def _page_url(access: TaskAccess) -> str:
    return reverse("task_compare", args=[access.project.project.pk, access.task.pk])


def _share_url(access: TaskAccess, runs: list[TaskRun]) -> str:
    query = urlencode(
        {
            "revisions": ",".join(str(run.task_revision_id) for run in runs),
            "runs": ",".join(str(run.pk) for run in runs),
        }
    )
    return f"{_page_url(access)}?{query}"


def _uuids(raw: str) -> list[UUID]:
    """The ids of a comma-separated query value (a comparison's worth at
    most); anything else is dropped."""
    ids = []
    for part in raw.split(",")[:MAX_REVISIONS]:
        try:
            ids.append(UUID(part.strip()))
        except ValueError:
            continue
    return list(dict.fromkeys(ids))


@dataclass
class Column:
    run: TaskRun
    choice: RevisionChoice | None
    error: str
    fastest: bool = False
    cheapest: bool = False

    @property
    def pending(self) -> bool:
        return self.run.status in PENDING

    @property
    def seconds(self) -> float | None:
        if self.run.llm_call_timing is None:
            return None
        return self.run.llm_call_timing + (self.run.input_processor_timing or 0)


def _mark_best(columns: list[Column]) -> None:
    """The quickest and the cheapest answer, when one stands out."""
    answered = [column for column in columns if not column.error]
    # As shown: to the hundredth of a second.
    timed = [(round(c.seconds, 2), c) for c in answered if c.seconds is not None]
    priced = [
        (c.run.charged_credits, c)
        for c in answered
        if c.run.charged_credits is not None
    ]
    for figures, flag in ((timed, "fastest"), (priced, "cheapest")):
        if len(figures) < 2 or len(figures) < len(answered):
            continue
        lowest = min(figure for figure, _column in figures)
        best = [column for figure, column in figures if figure == lowest]
        if len(best) == 1:
            setattr(best[0], flag, True)


def _comparison(
    task_modality: str, runs: list[TaskRun], by_id: dict[UUID, RevisionChoice]
) -> dict[str, Any]:
    columns = [
        Column(
            run=run,
            choice=by_id.get(run.task_revision_id),
            error=str((run.response or {}).get("error", "The run failed."))
            if run.is_error
            else "",
        )
        for run in runs
    ]
    pending = sum(column.pending for column in columns)
    if not pending:
        _mark_best(columns)
    rows = comparison_rows([None if run.is_error else run.response for run in runs])
    if task_modality in FILE_MODALITIES:
        # File outputs are named by storage; their names always differ.
        for row in rows:
            for cell in row.cells:
                cell.differs = False
    return {
        "columns": columns,
        "rows": rows,
        "differing": sum(row.differs for row in rows),
        "pending": pending,
    }


def _context(
    request: AuthedRequest,
    access: TaskAccess,
    choices: list[RevisionChoice],
    *,
    chosen: list[UUID],
    values: dict[str, Any],
    form: CompareForm | None = None,
    runs: list[TaskRun] | None = None,
    requested_runs: int = 0,
    error: str = "",
) -> dict[str, Any]:
    runs = runs or []
    by_id = {choice.pk: choice for choice in choices}
    inputs = _inputs(choices, values)
    if form is not None:
        for entry in inputs:
            entry.error = form.error_for(entry.param.name)
    share_url = _share_url(access, runs) if runs else ""
    return {
        "access": access.project,
        "nav": "tasks",
        "task_access": access,
        "task": access.task,
        "choices": choices,
        "chosen": set(chosen),
        "inputs": inputs,
        "form": form,
        "form_error": error,
        "can_run": access.allows(Perm.TASK_RUN),
        "compare_url": _page_url(access),
        "share_url": share_url,
        "absolute_share_url": request.build_absolute_uri(share_url)
        if share_url
        else "",
        "hidden_runs": max(requested_runs - len(runs), 0),
        "images": any(choice.revision.llm_model.supports_vision for choice in choices),
        "min_revisions": MIN_REVISIONS,
        "max_revisions": MAX_REVISIONS,
        **(_comparison(access.task.output_modality, runs, by_id) if runs else {}),
    }


def _posted(data: QueryDict) -> tuple[list[UUID], dict[str, Any]]:
    """What was posted, as the form shows it again."""
    chosen = []
    for raw in data.getlist("revisions"):
        try:
            chosen.append(UUID(raw))
        except ValueError:
            continue
    values = {
        key.removeprefix("input_"): value
        for key, value in data.items()
        if key.startswith("input_")
    }
    return chosen, values


def _default_choice(choices: list[RevisionChoice]) -> list[UUID]:
    """Revisions with live traffic, else the two newest."""
    live = [choice.pk for choice in choices if choice.percent]
    if len(live) >= MIN_REVISIONS:
        return live[:MAX_REVISIONS]
    return [choice.pk for choice in choices[:MIN_REVISIONS]]


@require_http_methods(["GET", "POST"])
@login_required
def task_compare(
    request: AuthedRequest, project_id: UUID, task_id: UUID
) -> HttpResponse:
    access = task_for_user(request, project_id, task_id, Perm.TASK_VIEW)
    if request.method == "POST":
        if not access.allows(Perm.TASK_RUN):
            raise PermissionDenied
        return _compare(request, access)
    choices = _revision_choices(access)
    run_ids = _uuids(request.GET.get("runs", ""))
    runs = compared_runs(
        task=access.task, role=access.role, user_id=request.user.pk, run_ids=run_ids
    )
    known = {choice.pk for choice in choices}
    chosen = [pk for pk in _uuids(request.GET.get("revisions", "")) if pk in known]
    context = _context(
        request,
        access,
        choices,
        chosen=chosen
        or [run.task_revision_id for run in runs]
        or _default_choice(choices),
        values=_submitted(runs),
        runs=runs,
        requested_runs=len(run_ids),
    )
    template = COMPARE
    if request.htmx and request.htmx.target == "compare-workspace":
        template += "#workspace"
    if request.htmx and request.htmx.target == "compare-results" and runs:
        # The results polling while columns are queued or running.
        template += "#results"
    return render(request, template, context)


def _uploads_for(
    form: CompareForm, images: list[files.Upload]
) -> tuple[dict[str, str], Callable[[TaskRevision], list[files.Upload]]]:
    """The document inputs' values and a picker of each revision's uploads:
    its own documents, and the images when its model reads them."""
    documents: dict[str, files.Upload] = {}
    for entry in form.inputs:
        part = form.cleaned_data.get(f"file_{entry.param.name}")
        if entry.param.kind == "file" and part is not None:
            documents[entry.param.name] = files.uploads_from_parts([part])[0]

    files.check_run_uploads([*documents.values(), *images])

    def uploads_for(revision: TaskRevision) -> list[files.Upload]:
        own = [documents[name] for name in revision.input_params if name in documents]
        return own + (images if revision.llm_model.supports_vision else [])

    return {name: upload.filename for name, upload in documents.items()}, uploads_for


def _compare(request: AuthedRequest, access: TaskAccess) -> HttpResponse:
    choices = _revision_choices(access)
    form = CompareForm(
        request.POST,
        request.FILES,
        choices=choices,
        inputs=_inputs(choices, {}),
    )
    error, status = "", 200
    if form.is_valid():
        chosen = form.chosen()
        try:
            images = files.uploads_from_parts(request.FILES.getlist("images"))
            documents, uploads_for = _uploads_for(form, images)
            runs = _start(
                task=access.task,
                revisions=[choice.revision for choice in chosen],
                values={**form.values(), **documents},
                user=request.user,
                uploads_for=uploads_for,
            )
        except DomainError as refused:
            error = _refusal(form, refused)
        except QueueUnavailable:
            error, status = QUEUE_DOWN, 503
        else:
            return _compared(request, access, choices, runs)
    posted, values = _posted(request.POST)
    context = _context(
        request, access, choices, chosen=posted, values=values, form=form, error=error
    )
    if request.htmx:
        return render(request, f"{COMPARE}#workspace", context)
    return render(request, COMPARE, context, status=status)


def _start(**comparison: Any) -> list[TaskRun]:
    """Queue the columns for the workers, as the Run view queues a run; with
    no broker there is no worker to hand them to, and the model calls are
    made at the same time in the request instead of one after another."""
    if execute_queued_run.app.conf.task_always_eager:
        return comparison_run(**comparison)
    return comparison_submit(**comparison)


def _refusal(form: CompareForm, error: DomainError) -> str:
    """A service's refusal, shown on the input it is about when there is one,
    else above the form; naming the revision it was refused for."""
    message = error.message
    if isinstance(error, RevisionRefused) and error.field:
        number = form.by_id[error.revision.pk].number
        message = f"Revision #{number}: {message}"
    field_name = (error.field or "").removeprefix("task_input.")
    for key in (f"input_{field_name}", f"file_{field_name}"):
        if key in form.fields:
            form.add_error(key, message)
            return ""
    return message


def _compared(
    request: AuthedRequest,
    access: TaskAccess,
    choices: list[RevisionChoice],
    runs: list[TaskRun],
) -> HttpResponse:
    share_url = _share_url(access, runs)
    if not request.htmx:
        return redirect(share_url)
    context = _context(
        request,
        access,
        choices,
        chosen=[run.task_revision_id for run in runs],
        values=_submitted(runs),
        runs=runs,
    )
    response = render(request, f"{COMPARE}#workspace", context)
    return push_url(response, share_url)


def _submitted(runs: list[TaskRun]) -> dict[str, Any]:
    """The inputs of a comparison, read back from its runs."""
    values: dict[str, Any] = {}
    for run in runs:
        submitted = (run.run_data or {}).get("submitted") or {}
        values.update({key: value for key, value in submitted.items() if value})
    return values
