"""Filters of the usage pages and the runs view (GET forms: they change no
state, so a filtered page is a link that can be shared)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django import forms

from rightbrain.errors import BadRequest
from runs_app import reports
from runs_app.dates import parse_date
from runs_app.models import NO_GROUP, ReportingGroup, TaskRun
from runs_app.reports import Step, Window

DATE_HELP = "2025-03-01, an ISO time, today, yesterday, '2 weeks ago', 'last month'…"
# Up to two days are drawn hour by hour, longer windows day by day.
HOURLY_UP_TO = timedelta(hours=48)
NO_GROUP_CHOICE = "none"
DEFAULT_RANGE = "7d"


def _group_choices(groups: list[ReportingGroup]) -> list[tuple[str, str]]:
    return [
        ("", "All reporting groups"),
        (NO_GROUP_CHOICE, "No reporting group"),
        *((str(group.pk), group.name) for group in groups),
    ]


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _readable(message: str) -> str:
    """A report's message about its date parameters, for people using a form."""
    for name, words in (("start_date", "the start"), ("end_date", "the end")):
        message = message.replace(name, words)
    return message[:1].upper() + message[1:]


def _group_of(value: str | None) -> UUID | None:
    if value == NO_GROUP_CHOICE:
        return NO_GROUP
    return UUID(value) if value else None


class UsageFilterForm(forms.Form):
    RANGES = {
        "24h": "Last 24 hours",
        "7d": "Last 7 days",
        "30d": "Last 30 days",
        "custom": "Custom range",
    }

    range = forms.ChoiceField(
        choices=list(RANGES.items()),
        required=False,
        label="Range",
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )
    start = forms.CharField(
        required=False,
        max_length=40,
        label="From",
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. 2 weeks ago", "data-custom-range": ""}
        ),
    )
    end = forms.CharField(
        required=False,
        max_length=40,
        label="To",
        widget=forms.TextInput(attrs={"placeholder": "now", "data-custom-range": ""}),
    )
    group = forms.ChoiceField(
        required=False,
        label="Reporting group",
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )

    def __init__(
        self,
        data: Any,
        *,
        groups: list[ReportingGroup],
        now: datetime,
        default_start: datetime,
    ):
        data = data.copy()
        # The form is always bound (it filters a GET); this is its default.
        data["range"] = data.get("range") or DEFAULT_RANGE
        super().__init__(data)
        self.now = now
        self.default_start = default_start
        _set_choices(self, "group", _group_choices(groups))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("range") or DEFAULT_RANGE
        try:
            window = self._window(choice, data)
            data["window"] = window
            data["step"] = (
                Step.HOUR if window.end - window.start < HOURLY_UP_TO else Step.DAY
            )
            reports.bucket_starts(window, data["step"])
        except BadRequest as error:
            field = {"start_date": "start", "end_date": "end"}.get(error.field or "")
            self.add_error(field, _readable(error.message))
        return data

    def _window(self, choice: str, data: dict[str, Any]) -> Window:
        if choice == "24h":
            return reports.last_hours(self.now, 24)
        if choice == "30d":
            return reports.last_days(self.now, 30)
        if choice == "custom":
            return reports.window_between(
                start_date=data.get("start") or None,
                end_date=data.get("end") or None,
                default_start=self.default_start,
                now=self.now,
            )
        return reports.last_days(self.now, 7)

    def reporting_group(self) -> UUID | None:
        return _group_of(self.cleaned_data.get("group"))


class RunFilterForm(forms.Form):
    """The runs view's filters (dashboard.md §11)."""

    task = forms.ChoiceField(required=False, label="Task")
    status = forms.ChoiceField(
        choices=[("", "Any status"), *TaskRun.Status.choices],
        required=False,
        label="Status",
    )
    revision = forms.ChoiceField(required=False, label="Revision")
    group = forms.ChoiceField(required=False, label="Reporting group")
    after = forms.CharField(
        required=False, max_length=40, label="From", help_text=DATE_HELP
    )
    before = forms.CharField(required=False, max_length=40, label="To")
    cursor = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        data: Any,
        *,
        tasks: dict[UUID, str],
        revisions: dict[UUID, str],
        groups: list[ReportingGroup],
        now: datetime,
    ):
        super().__init__(data)
        self.now = now
        _set_choices(
            self,
            "task",
            [("", "All tasks"), *((str(pk), name) for pk, name in tasks.items())],
        )
        _set_choices(
            self,
            "revision",
            [
                ("", "Any revision"),
                *((str(pk), name) for pk, name in revisions.items()),
            ],
        )
        _set_choices(self, "group", _group_choices(groups))

    def _date(self, name: str, *, as_end: bool) -> datetime | None:
        value = self.cleaned_data.get(name)
        if not value:
            return None
        try:
            return parse_date(value, as_end=as_end, now=self.now, field=name)
        except BadRequest:
            raise forms.ValidationError(
                f"“{value}” is not a date. Use {DATE_HELP}"
            ) from None

    def clean_after(self) -> datetime | None:
        return self._date("after", as_end=False)

    def clean_before(self) -> datetime | None:
        return self._date("before", as_end=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        after, before = data.get("after"), data.get("before")
        if after and before and after > before:
            self.add_error("after", "The start is after the end.")
        return data

    def reporting_group(self) -> UUID | None:
        return _group_of(self.cleaned_data.get("group"))
