"""Forms of the share pages. They only parse what the browser sent; the rules
(short ids, expiry, uses, which revisions may be shared) are the services',
whose errors the views put next to the field they name."""

from __future__ import annotations

from typing import Any

from django import forms

from rightbrain.errors import DomainError
from runs_app.models import TaskRun
from sharing.services import shareable_problem
from tasks_app.models import TaskRevision

# Service error fields → form fields.
_FIELD_OF = {
    "task_revision_id": "task_revision",
    "task_run_id": "task_run",
    "custom_short_id": "custom_short_id",
    "expires_at": "expires_at",
    "expires_in_hours": "expires_in_hours",
    "max_uses": "max_uses",
    "title": "title",
}


class _SelectWithDisabled(forms.Select):
    """A select whose listed values are shown but cannot be chosen."""

    def __init__(self, *args, disabled_values: set[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled_values = disabled_values or set()

    def create_option(
        self,
        name: str,
        value: Any,
        label: int | str,
        selected: bool,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(
            name, value, label, selected, index, subindex, attrs
        )
        if str(value) in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


def revision_label(revision: TaskRevision, live_ids: set[Any]) -> str:
    label = f"{revision.created:%d %b %Y %H:%M} · {revision.llm_model.alias}"
    if revision.pk in live_ids:
        label += " · live"
    if revision.annotation:
        label += f" · {revision.annotation[:40]}"
    problem = shareable_problem(revision)
    if problem:
        label += " — not shareable: " + ("RAG" if revision.rag else "test revision")
    return label


def run_label(run: TaskRun) -> str:
    submitted = (run.run_data or {}).get("submitted") or {}
    preview = ", ".join(f"{key}: {value}" for key, value in submitted.items())
    if len(preview) > 60:
        preview = preview[:59] + "…"
    return f"{run.created:%d %b %H:%M} — {preview or 'no inputs'}"


class ShareForm(forms.Form):
    title = forms.CharField(max_length=200, required=False, strip=True)
    description = forms.CharField(
        required=False, strip=True, widget=forms.Textarea(attrs={"rows": 2})
    )
    task_revision = forms.ChoiceField(
        label="Revision",
        help_text="The link keeps showing this revision, whatever you change later.",
    )
    task_run = forms.ChoiceField(
        label="Example run",
        required=False,
        help_text="Shown on the page; a link that takes no inputs runs this one.",
    )
    expires_in_hours = forms.IntegerField(
        label="Expires after (hours)",
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
    )
    expires_at = forms.DateTimeField(
        label="…or expires at (UTC)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    max_uses = forms.IntegerField(
        label="Maximum uses",
        required=False,
        help_text="Runs and clones together. Empty: unlimited.",
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
    )
    custom_short_id = forms.CharField(
        label="Custom short id",
        required=False,
        strip=True,
        help_text="3 to 5 letters or digits. Empty: we make an 8-character one.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    allow_inputs = forms.BooleanField(
        label="Visitors may enter their own inputs", required=False
    )
    show_output = forms.BooleanField(
        label="Show the example's output", required=False, initial=True
    )

    def __init__(
        self,
        *args,
        revisions: list[TaskRevision],
        live_ids: set[Any],
        runs: list[TaskRun],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        revision_field = self.fields["task_revision"]
        assert isinstance(revision_field, forms.ChoiceField)
        revision_field.choices = [
            (str(revision.pk), revision_label(revision, live_ids))
            for revision in revisions
        ]
        revision_field.widget = _SelectWithDisabled(
            choices=revision_field.choices,
            disabled_values={
                str(revision.pk)
                for revision in revisions
                if shareable_problem(revision)
            },
        )
        self.runs_by_revision: dict[str, list[TaskRun]] = {}
        for run in runs:
            self.runs_by_revision.setdefault(str(run.task_revision_id), []).append(run)
        self.set_example_runs(self.chosen_revision())

    def chosen_revision(self) -> str:
        if self.is_bound:
            return str(self.data.get("task_revision") or "")
        return str(self.initial.get("task_revision") or "")

    def set_example_runs(self, revision_id: str) -> None:
        """Offer only runs of the chosen revision as the example."""
        run_field = self.fields["task_run"]
        assert isinstance(run_field, forms.ChoiceField)
        run_field.choices = [("", "No example")] + [
            (str(run.pk), run_label(run))
            for run in self.runs_by_revision.get(revision_id, [])
        ]

    def add_domain_error(self, error: DomainError) -> None:
        field = _FIELD_OF.get((error.field or "").split(".")[0])
        self.add_error(field, error.message)


class CloneForm(forms.Form):
    project = forms.ChoiceField(label="Project", widget=forms.RadioSelect)

    def __init__(self, *args, projects: list, **kwargs):
        super().__init__(*args, **kwargs)
        project_field = self.fields["project"]
        assert isinstance(project_field, forms.ChoiceField)
        project_field.choices = [
            (str(project.pk), f"{project.organization.name} / {project.name}")
            for project in projects
        ]
        if len(projects) == 1:
            self.initial.setdefault("project", str(projects[0].pk))
