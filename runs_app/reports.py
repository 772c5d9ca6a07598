"""Reads behind the reports and the usage charts (api.md §5): sums of the
rollups (HourlyUsage, and DailyUsage for whole days), never the runs
themselves.

Windows are whole UTC hours. A rollup row holds one hour, so a window's start
is taken back to the start of its hour and its end on to the end of its hour
(`xx:59:59.999999`); the `date_range` a report answers with is that window, and
its totals are exactly the sums over the runs created inside it. Dates that
name whole days (`2024-01-15`, `today`, `yesterday`) are already whole hours.

Bucketed reports (usage, timing, the charts) step by the hour or by the UTC
day, every bucket present and zero-filled. A window may hold at most
MAX_BUCKETS buckets (a leap year of hours): a longer hourly window is refused
with a 400 that says to step by the day (api.md leaves it to us; refusing is
clearer than answering with other buckets than were asked for).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncDay

from rightbrain.errors import BadRequest
from rightbrain.orgs.auth import Principal
from rightbrain.orgs.selectors import ProjectAccess
from runs_app import latency
from runs_app.credits import credits_shown
from runs_app.dates import parse_date
from runs_app.models import NO_GROUP, DailyUsage, HourlyUsage, ReportingGroup
from runs_app.project_runs import task_roles
from tasks_app.models import ActiveRevision, Task, TaskRevision

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MAX_BUCKETS = 366 * 24
# All runs of test revisions are reported as one revision (api.md §5.1).
TEST = "test"
RevisionKey = UUID | str


class Step(StrEnum):
    HOUR = "hour"
    DAY = "day"


# Windows ------------------------------------------------------------------------------


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_start(moment: datetime) -> datetime:
    return hour_start(moment).replace(hour=0)


@dataclass(frozen=True)
class Window:
    """From `start` (on the hour) to `end` (the last microsecond of an hour),
    both included."""

    start: datetime
    end: datetime

    @classmethod
    def around(cls, start: datetime, end: datetime) -> Window:
        """The whole hours that hold `start` … `end`."""
        return cls(
            hour_start(start), hour_start(end) + HOUR - timedelta(microseconds=1)
        )

    def as_json(self) -> dict[str, str]:
        return {"start": _iso(self.start), "end": _iso(self.end)}

    def includes(self, moment: datetime) -> bool:
        return self.start <= moment <= self.end


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def window_between(
    *,
    start_date: str | None,
    end_date: str | None,
    default_start: datetime,
    now: datetime,
) -> Window:
    """The window `start_date` … `end_date` name (api.md §5.1); BadRequest
    naming the parameter for a date that is not one, or a start after the end.
    Without a start, the window opens at `default_start` (a task's creation)."""
    end = (
        parse_date(end_date, as_end=True, now=now, field="end_date")
        if end_date
        else now
    )
    if start_date:
        start = parse_date(start_date, as_end=False, now=now, field="start_date")
    else:
        start = min(default_start, end)
    if start > end:
        raise BadRequest(
            f"start_date ({_iso(start)}) is after end_date ({_iso(end)}).",
            field="start_date",
        )
    return Window.around(start, end)


def last_hours(now: datetime, hours: int = 24) -> Window:
    """The current UTC hour and the `hours` - 1 before it."""
    return Window.around(hour_start(now) - (hours - 1) * HOUR, now)


def last_days(now: datetime, days: int = 7) -> Window:
    """Today (UTC) and the `days` - 1 days before it, whole days."""
    today = day_start(now)
    return Window(today - (days - 1) * DAY, today + DAY - timedelta(microseconds=1))


def bucket_starts(window: Window, step: Step) -> list[datetime]:
    """The start of every bucket of the window, oldest first."""
    size = HOUR if step == Step.HOUR else DAY
    first = window.start if step == Step.HOUR else day_start(window.start)
    count = (window.end - first) // size + 1
    if count > MAX_BUCKETS:
        raise BadRequest(
            f"That window holds {count} {step}ly buckets; at most {MAX_BUCKETS} "
            "are answered. Use aggregation=day or a shorter window.",
            field="aggregation",
        )
    return [first + index * size for index in range(count)]


def bucket_label(moment: datetime, step: Step) -> str:
    """`YYYY-MM-DDTHH:00:00Z` for hours, `YYYY-MM-DD` for days."""
    if step == Step.HOUR:
        return moment.strftime("%Y-%m-%dT%H:00:00Z")
    return moment.strftime("%Y-%m-%d")


# Sums ---------------------------------------------------------------------------------


# What each read sums: only the columns it shows, which keeps both the
# database's work and the rows' conversion small.
COUNTS: tuple[str, ...] = ("runs", "errors")
TOKENS: tuple[str, ...] = ("runs", "input_tokens", "output_tokens")
CREDITS: tuple[str, ...] = ("runs", "credits")
TIMINGS: tuple[str, ...] = (
    "runs",
    "llm_seconds",
    "processor_seconds",
    *latency.COLUMNS,
)
_SCALARS = (
    "runs",
    "errors",
    "input_tokens",
    "output_tokens",
    "credits",
    "llm_seconds",
    "processor_seconds",
)
EVERYTHING: tuple[str, ...] = (*_SCALARS, *latency.COLUMNS)


class _CountSum(Sum):
    """The SUM of a count column (32-bit integers): SQLite and PostgreSQL
    (bigint) both answer with a Python int already, so Django's int() on
    every value is skipped; a month of hourly timing buckets reads seventeen
    such values per row."""

    def get_db_converters(self, connection):
        return self.output_field.get_db_converters(connection)


# Only 32-bit columns: PostgreSQL sums bigints as numeric (Decimal).
_COUNTS = frozenset({"runs", "errors", *latency.COLUMNS})


def _sums(metrics: Iterable[str]) -> dict[str, Sum]:
    return {name: (_CountSum if name in _COUNTS else Sum)(name) for name in metrics}


@dataclass
class Totals:
    """What a set of runs adds up to, with the averages and percentiles read
    from those sums."""

    runs: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    credits: Decimal = Decimal(0)
    llm_seconds: float = 0.0
    processor_seconds: float = 0.0
    histogram: list[int] = field(default_factory=lambda: [0] * latency.BUCKETS)

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> Totals:
        """The sums a query row holds (those it did not sum stay zero)."""
        totals = cls()
        for name in _SCALARS:
            value = row.get(name)
            if value:
                setattr(totals, name, value)
        if latency.COLUMNS[0] in row:
            totals.histogram = [row[column] or 0 for column in latency.COLUMNS]
        return totals

    def add(self, other: Totals) -> Totals:
        self.runs += other.runs
        self.errors += other.errors
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.credits += other.credits
        self.llm_seconds += other.llm_seconds
        self.processor_seconds += other.processor_seconds
        self.histogram = [
            a + b for a, b in zip(self.histogram, other.histogram, strict=True)
        ]
        return self

    @property
    def succeeded(self) -> int:
        return self.runs - self.errors

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def credits_text(self) -> str:
        return credits_shown(self.credits)

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.runs if self.runs else None

    @property
    def error_percent(self) -> float | None:
        return 100 * self.errors / self.runs if self.runs else None

    @property
    def avg_tokens(self) -> float | None:
        return self.total_tokens / self.runs if self.runs else None

    @property
    def avg_credits(self) -> Decimal | None:
        return self.credits / self.runs if self.runs else None

    @property
    def avg_llm_seconds(self) -> float | None:
        return self.llm_seconds / self.runs if self.runs else None

    @property
    def avg_processor_seconds(self) -> float | None:
        return self.processor_seconds / self.runs if self.runs else None

    @property
    def p50_llm_seconds(self) -> float | None:
        return latency.percentile(self.histogram, 0.5)

    @property
    def p95_llm_seconds(self) -> float | None:
        return latency.percentile(self.histogram, 0.95)

    def llm_percentiles(self) -> tuple[float | None, float | None]:
        """p50 and p95 together, the histogram read once."""
        p50, p95 = latency.percentiles(self.histogram, (0.5, 0.95))
        return p50, p95


Rows = QuerySet[HourlyUsage] | QuerySet[DailyUsage]


def _rollups(
    *,
    task_ids: Collection[UUID],
    window: Window,
    reporting_group: UUID | None,
    whole_days: bool = True,
) -> list[tuple[Rows, str]]:
    """The rollup rows that add up to exactly the window, each set with the
    name of its period column: the daily rows of the window's whole UTC days
    and the hourly rows of the hours before and after them, or (not
    `whole_days`, for hourly buckets) the hourly rows alone.

    A month holds 30 daily rows per key against 720 hourly ones; a window
    cut at odd hours adds at most 46 hours of hourly rows around its days."""

    def scoped(rows: Rows) -> Rows:
        rows = rows.filter(task_id__in=task_ids)
        if reporting_group is not None:
            rows = rows.filter(reporting_group_key=reporting_group)
        return rows.order_by()

    after = window.end + timedelta(microseconds=1)
    # The first midnight at or after the start, the last at or before the end.
    first_day = day_start(window.start + DAY - HOUR)
    days_end = day_start(after)
    if not whole_days or first_day >= days_end:
        hours = HourlyUsage.objects.filter(hour__gte=window.start, hour__lt=after)
        return [(scoped(hours), "hour")]
    parts: list[tuple[Rows, str]] = [
        (
            scoped(DailyUsage.objects.filter(day__gte=first_day, day__lt=days_end)),
            "day",
        )
    ]
    edges = Q()
    if window.start < first_day:
        edges |= Q(hour__gte=window.start, hour__lt=first_day)
    if days_end < after:
        edges |= Q(hour__gte=days_end, hour__lt=after)
    if edges:
        parts.append((scoped(HourlyUsage.objects.filter(edges)), "hour"))
    return parts


def _grouped_sums(
    parts: list[tuple[Rows, str]],
    fields: Sequence[str],
    metrics: Sequence[str],
    step: Step | None = None,
) -> QuerySet[Any]:
    """One query: the sums of `metrics` per `fields` (and per bucket of
    `step`, days cut in UTC) of each part, the parts' rows one after the other
    (UNION ALL). A group split over parts comes back once per part; the
    callers add those up."""
    queries = []
    for rows, period in parts:
        names = list(fields)
        if step is not None:
            bucket = (
                F(period)
                if period == "day" or step == Step.HOUR
                else TruncDay(period, tzinfo=UTC)
            )
            rows = rows.annotate(bucket=bucket)
            names.insert(0, "bucket")
        queries.append(rows.values(*names).annotate(**_sums(metrics)))
    first, *rest = queries
    return first.union(*rest, all=True) if rest else first


def _revision_key(row: dict[str, Any]) -> RevisionKey:
    return TEST if row["task_revision__test"] else row["task_revision_id"]


def _revision_order(key: RevisionKey) -> tuple[int, str]:
    # Revisions in the order they were made (their ids are time-ordered), then
    # the pooled test runs.
    return (1, "") if key == TEST else (0, str(key))


def _active_revisions(task: Task) -> list[UUID]:
    return list(
        ActiveRevision.objects.filter(task=task)
        .order_by("-weight", "task_revision_id")
        .values_list("task_revision_id", flat=True)
    )


# Per revision (and reporting group) ---------------------------------------------------


@dataclass
class RevisionRow:
    revision: RevisionKey
    totals: Totals
    # Only when split by group: the group's id and name; NO_GROUP / None for
    # runs without one.
    group: UUID | None = None
    group_name: str | None = None


def revision_totals(
    *,
    task: Task,
    window: Window,
    metrics: Sequence[str] = EVERYTHING,
    by_group: bool = False,
) -> tuple[Totals, list[RevisionRow]]:
    """The window's totals and one row per revision (and per reporting group
    when `by_group`): revisions with runs in the window and every active one.

    Two queries, three with groups that have names to read."""
    fields = ["task_revision_id", "task_revision__test"]
    if by_group:
        fields.append("reporting_group_key")
    rows = _grouped_sums(
        _rollups(task_ids=[task.pk], window=window, reporting_group=None),
        fields,
        metrics,
    )
    found: dict[tuple[RevisionKey, UUID | None], Totals] = {}
    for row in rows:
        group = row["reporting_group_key"] if by_group else None
        key = (_revision_key(row), group)
        found.setdefault(key, Totals()).add(Totals.of_row(row))
    for revision in _active_revisions(task):
        if not any(key[0] == revision for key in found):
            found[revision, NO_GROUP if by_group else None] = Totals()
    names = _group_names({group for _revision, group in found if group})
    result = [
        RevisionRow(
            revision=revision,
            totals=totals,
            group=group,
            group_name=names.get(group) if group else None,
        )
        for (revision, group), totals in found.items()
    ]
    result.sort(key=lambda row: (_revision_order(row.revision), row.group_name or ""))
    overall = Totals()
    for row in result:
        overall.add(row.totals)
    return overall, result


def _group_names(keys: Iterable[UUID]) -> dict[UUID, str]:
    wanted = [key for key in keys if key != NO_GROUP]
    if not wanted:
        return {}
    return dict(ReportingGroup.objects.filter(pk__in=wanted).values_list("pk", "name"))


# Per bucket ---------------------------------------------------------------------------


@dataclass
class Series:
    """Totals per bucket for each line of a chart or report row, every bucket
    present (zero-filled). `lines` keeps the order in which rows are shown."""

    step: Step
    starts: list[datetime]
    lines: dict[Any, list[Totals]]

    @property
    def labels(self) -> list[str]:
        return [bucket_label(start, self.step) for start in self.starts]

    def runs_total(self, *, errors_only: bool = False) -> list[int]:
        """The runs (or failed runs) of all lines together, bucket by bucket:
        what the reports' totals show, without adding up every sum."""
        summed = [0] * len(self.starts)
        for values in self.lines.values():
            for index, totals in enumerate(values):
                summed[index] += totals.errors if errors_only else totals.runs
        return summed


def _series(
    rows: Iterable[dict[str, Any]],
    *,
    step: Step,
    starts: list[datetime],
    line_of,
    lines: Iterable[Any] = (),
) -> Series:
    position = {start: index for index, start in enumerate(starts)}
    # Most (line, bucket) pairs are one row of the query: take its Totals as
    # they are, and add only where rows meet (pooled test revisions).
    found: dict[Any, list[Totals | None]] = {
        line: [None] * len(starts) for line in lines
    }
    for row in rows:
        values = found.setdefault(line_of(row), [None] * len(starts))
        index = position.get(row["bucket"].astimezone(UTC))
        if index is None:
            continue
        totals = Totals.of_row(row)
        slot = values[index]
        values[index] = totals if slot is None else slot.add(totals)
    return Series(
        step=step,
        starts=starts,
        lines={
            line: [totals or Totals() for totals in values]
            for line, values in found.items()
        },
    )


def revision_series(
    *,
    task: Task,
    window: Window,
    step: Step,
    metrics: Sequence[str] = EVERYTHING,
    reporting_group: UUID | None = None,
) -> Series:
    """Per revision and bucket: every active revision (zero-filled if idle)
    and every other revision with runs in the window, in the order they were
    made, pooled test runs last. Two queries."""
    starts = bucket_starts(window, step)
    rows = _grouped_sums(
        _rollups(
            task_ids=[task.pk],
            window=window,
            reporting_group=reporting_group,
            whole_days=step == Step.DAY,
        ),
        ["task_revision_id", "task_revision__test"],
        metrics,
        step,
    )
    series = _series(
        rows,
        step=step,
        starts=starts,
        line_of=_revision_key,
        lines=_active_revisions(task),
    )
    series.lines = dict(
        sorted(series.lines.items(), key=lambda item: _revision_order(item[0]))
    )
    return series


def task_series(
    *,
    task_ids: Collection[UUID],
    window: Window,
    step: Step,
    metrics: Sequence[str] = EVERYTHING,
    reporting_group: UUID | None = None,
) -> Series:
    """Per task and bucket: every task of `task_ids`, in that order,
    zero-filled. One query."""
    rows = _grouped_sums(
        _rollups(
            task_ids=task_ids,
            window=window,
            reporting_group=reporting_group,
            whole_days=step == Step.DAY,
        ),
        ["task_id"],
        metrics,
        step,
    )
    return _series(
        rows,
        step=step,
        starts=bucket_starts(window, step),
        line_of=lambda row: row["task_id"],
        lines=task_ids,
    )


def task_totals(
    *,
    task_ids: Collection[UUID],
    window: Window,
    metrics: Sequence[str] = EVERYTHING,
    reporting_group: UUID | None = None,
) -> dict[UUID, Totals]:
    """Each task's totals over the window (tasks without runs are absent).
    One query."""
    rows = _grouped_sums(
        _rollups(task_ids=task_ids, window=window, reporting_group=reporting_group),
        ["task_id"],
        metrics,
    )
    found: dict[UUID, Totals] = {}
    for row in rows:
        totals = Totals.of_row(row)
        if row["task_id"] in found:
            found[row["task_id"]].add(totals)
        else:
            found[row["task_id"]] = totals
    return found


def total_series(
    *,
    task_ids: Collection[UUID],
    window: Window,
    step: Step,
    reporting_group: UUID | None = None,
) -> Series:
    """All the tasks together, bucket by bucket: one line, "all". One query."""
    rows = _grouped_sums(
        _rollups(
            task_ids=task_ids,
            window=window,
            reporting_group=reporting_group,
            whole_days=step == Step.DAY,
        ),
        [],
        EVERYTHING,
        step,
    )
    return _series(
        rows,
        step=step,
        starts=bucket_starts(window, step),
        line_of=lambda row: "all",
        lines=["all"],
    )


# Whose tasks --------------------------------------------------------------------------


def tasks_visible_to(*, principal: Principal, access: ProjectAccess) -> dict[UUID, str]:
    """Id → name of the project's live tasks the caller may view, oldest
    first. Two queries."""
    roles = task_roles(principal=principal, access=access)
    return {task.pk: task.name for task, _role in reversed(roles)}


def revision_names(*, task_ids: Collection[UUID]) -> dict[UUID, str]:
    """“Revision 3” for each revision of the tasks, numbered per task as they
    were made, and “Test” for test revisions. One query."""
    names: dict[UUID, str] = {}
    numbers: dict[UUID, int] = {}
    for pk, task_id, test in (
        TaskRevision.objects.filter(task_id__in=task_ids)
        .order_by("task_id", "created", "id")
        .values_list("pk", "task_id", "test")
    ):
        if test:
            names[pk] = "Test"
        else:
            numbers[task_id] = numbers.get(task_id, 0) + 1
            names[pk] = f"Revision {numbers[task_id]}"
    return names


def revision_labels(*, task_id: UUID) -> dict[RevisionKey, str]:
    """The task's revisions by name, and “Test runs” for the pooled test
    revisions. One query."""
    labels: dict[RevisionKey, str] = {
        pk: name
        for pk, name in revision_names(task_ids=[task_id]).items()
        if name != "Test"
    }
    labels[TEST] = "Test runs"
    return labels


# The usage pages ----------------------------------------------------------------------


@dataclass
class Overview:
    """What a usage page shows: the window's totals, its lines bucket by bucket
    (named), and one row per revision or per task."""

    window: Window
    series: Series
    names: dict[Any, str]
    rows: list[tuple[Any, Totals]]

    @property
    def overall(self) -> Totals:
        overall = Totals()
        for _key, totals in self.rows:
            overall.add(totals)
        return overall

    def named_lines(self) -> list[tuple[str, list[Totals]]]:
        return [
            (self.names.get(key, str(key)), values)
            for key, values in self.series.lines.items()
        ]

    def ranked(self, attribute: str, limit: int = 5) -> list[tuple[Any, Totals]]:
        """The rows with the most of `attribute` (none with zero)."""
        rows = [row for row in self.rows if getattr(row[1], attribute)]
        rows.sort(key=lambda row: getattr(row[1], attribute), reverse=True)
        return rows[:limit]


def _summed(values: Iterable[Totals]) -> Totals:
    total = Totals()
    for totals in values:
        total.add(totals)
    return total


def task_overview(
    *, task: Task, window: Window, step: Step, reporting_group: UUID | None
) -> Overview:
    """A task's usage split by revision. Three queries."""
    series = revision_series(
        task=task, window=window, step=step, reporting_group=reporting_group
    )
    return Overview(
        window=window,
        series=series,
        names=revision_labels(task_id=task.pk),
        rows=[(key, _summed(values)) for key, values in series.lines.items()],
    )


def project_overview(
    *,
    tasks: dict[UUID, str],
    window: Window,
    step: Step,
    reporting_group: UUID | None,
) -> Overview:
    """All of `tasks` together bucket by bucket, and each task's runs, errors
    and credits. Two queries, whatever the number of tasks and runs: grouped
    by bucket and by task apart, PostgreSQL hashes a few groups each instead
    of sorting every (task, bucket) pair."""
    totals = task_totals(
        task_ids=tasks,
        window=window,
        metrics=("runs", "errors", "credits"),
        reporting_group=reporting_group,
    )
    return Overview(
        window=window,
        series=total_series(
            task_ids=tasks, window=window, step=step, reporting_group=reporting_group
        ),
        names={"all": "All tasks", **tasks},
        rows=list(totals.items()),
    )
