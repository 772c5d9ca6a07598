"""Compare mode (dashboard.md §6, checklist 138): one input set on 2–4
revisions of a task, run at the same time, the outputs laid side by side.

`comparison_run` writes: every column is an ordinary run, recorded by the same
engine as an API run, so it counts in the history, the usage and the credits.
`compared_runs` reads the runs of a comparison back (a shared link), and
`comparison_rows` lines their outputs up field by field and marks what differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync

from rightbrain.errors import DomainError
from rightbrain.ids import uuid7
from rightbrain.orgs.models import User
from runs_app import files, selectors, services
from runs_app.display import field_label, friendly
from runs_app.models import TaskRun
from tasks_app.models import Task, TaskRevision

MIN_REVISIONS = 2
MAX_REVISIONS = 4
# Nested objects are lined up field by field down to this depth; deeper
# values are compared and shown whole.
MAX_PATH_DEPTH = 4


# Running ------------------------------------------------------------------------------


class RevisionRefused(DomainError):
    """A service refused the request for one of the compared revisions."""

    def __init__(self, revision: TaskRevision, error: DomainError):
        super().__init__(error.message, field=error.field)
        self.status = error.status
        self.revision = revision


def comparison_run(
    *,
    task: Task,
    revisions: Sequence[TaskRevision],
    values: dict[str, Any],
    user: User | None,
    uploads_for: Callable[[TaskRevision], list[files.Upload]] = lambda _r: [],
) -> list[TaskRun]:
    """Run each revision on `values` at once and record every run, in order.

    Each revision gets the values of its own input parameters and the uploads
    `uploads_for` picks for it. Every request is checked and prepared before
    any model is called, so bad input raises (`RevisionRefused`, naming the
    revision) with nothing written. The model calls then run concurrently;
    each finished call is recorded on its own, as any run is: a call that was
    made (and paid for) is never rolled back because another column failed to
    record.

    For synchronous callers (a view, a worker): the calls are awaited through
    `async_to_sync`, on the server's event loop under ASGI and on a loop of
    their own under WSGI, so the thread waits once for the slowest model.
    """
    context_id = f"compare-{uuid7()}"
    prepared = []
    for revision in revisions:
        try:
            prepared.append(
                services.run_prepare(
                    task=task,
                    revision=revision,
                    task_input={
                        name: values.get(name, "") for name in revision.input_params
                    },
                    user=user,
                    context_id=context_id,
                    uploads=uploads_for(revision),
                )
            )
        except DomainError as error:
            raise RevisionRefused(revision, error) from error
    outcomes = async_to_sync(_call_all)(prepared)
    return [
        services.run_record(one, outcome)
        for one, outcome in zip(prepared, outcomes, strict=True)
    ]


def comparison_submit(
    *,
    task: Task,
    revisions: Sequence[TaskRevision],
    values: dict[str, Any],
    user: User | None,
    uploads_for: Callable[[TaskRevision], list[files.Upload]] = lambda _r: [],
) -> list[TaskRun]:
    """Queue a run of each revision on `values`, in order, for the workers.

    Every request is checked before any is queued, so bad input raises
    (`RevisionRefused`) with nothing written. A queue that stops answering
    part-way raises `QueueUnavailable`; the columns queued before it stay,
    as the runs they are.
    """
    context_id = f"compare-{uuid7()}"
    requests = [
        (revision, {name: values.get(name, "") for name in revision.input_params})
        for revision in revisions
    ]
    for revision, task_input in requests:
        try:
            services.run_submission_check(
                task=task,
                revision=revision,
                task_input=task_input,
                uploads=uploads_for(revision),
            )
        except DomainError as error:
            raise RevisionRefused(revision, error) from error
    runs = []
    for revision, task_input in requests:
        try:
            runs.append(
                services.run_submit(
                    task=task,
                    revision=revision,
                    task_input=task_input,
                    user=user,
                    context_id=context_id,
                    uploads=uploads_for(revision),
                )
            )
        except DomainError as error:
            raise RevisionRefused(revision, error) from error
    return runs


async def _call_all(prepared: list[services.PreparedRun]) -> list[services.Outcome]:
    return list(
        await asyncio.gather(*(services.call_model_async(one) for one in prepared))
    )


# Reading a comparison back ------------------------------------------------------------


def compared_runs(
    *, task: Task, role: str, user_id: UUID, run_ids: Sequence[UUID]
) -> list[TaskRun]:
    """The runs of `run_ids` the caller may see, in the order given (one query)."""
    found = {
        run.pk: run
        for run in selectors.runs_for_task(
            task=task,
            sees_all=selectors.sees_all_runs(task, role),
            user_id=user_id,
        ).filter(pk__in=run_ids)
    }
    return [found[run_id] for run_id in dict.fromkeys(run_ids) if run_id in found]


# Lining the outputs up ----------------------------------------------------------------


@dataclass
class Cell:
    display: dict[str, Any] | None  # a runs_app.display node; None: not in this output
    differs: bool = False


@dataclass
class Row:
    path: str  # "vendor.name"
    labels: list[str]  # ["Vendor", "Name"]
    cells: list[Cell] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " › ".join(self.labels)

    @property
    def name(self) -> str:
        return self.labels[-1]

    @property
    def parents(self) -> list[str]:
        return self.labels[:-1]

    @property
    def differs(self) -> bool:
        return any(cell.differs for cell in self.cells)


_MISSING = object()  # the field is not in this output
_AGREED = object()  # every column has the same value
_NONE = object()  # the columns disagree with no value most share


def _leaves(
    value: Any, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], Any]]:
    """(path, value) for every field of an output, objects opened up."""
    if isinstance(value, dict) and value and len(path) < MAX_PATH_DEPTH:
        leaves: list[tuple[tuple[str, ...], Any]] = []
        for key, item in value.items():
            leaves += _leaves(item, (*path, str(key)))
        return leaves
    return [(path, value)]


def comparison_rows(outputs: Sequence[Any | None]) -> list[Row]:
    """One row per output field (nested fields by path), a cell per column.

    `outputs` holds each column's output, None for a column whose run failed.
    When the columns disagree, a cell differs when its value is not the one
    more columns share than any other; with no such value (two columns that
    disagree, a tie) every cell of the row differs. Failed columns take no part.
    """
    leaves = [
        dict(_leaves(output)) if output is not None else None for output in outputs
    ]
    paths: dict[tuple[str, ...], None] = {}
    for fields in leaves:
        for path in fields or {}:
            paths.setdefault(path)
    compared = [fields for fields in leaves if fields is not None]
    rows = []
    for path in paths:
        usual = _usual([fields.get(path, _MISSING) for fields in compared])
        row = Row(
            path=".".join(path),
            labels=[field_label(part) for part in path] or ["Output"],
        )
        for fields in leaves:
            if fields is None:
                row.cells.append(Cell(display=None))
                continue
            value = fields.get(path, _MISSING)
            row.cells.append(
                Cell(
                    display=None if value is _MISSING else friendly(value),
                    differs=usual is not _AGREED and not _same(value, usual),
                )
            )
        rows.append(row)
    return rows


def _same(left: Any, right: Any) -> bool:
    """Equal as JSON values: 1 and 1.0 are, 1 and True (equal in Python) not."""
    numbers = (int, float)
    if (
        isinstance(left, numbers)
        and isinstance(right, numbers)
        and not isinstance(left, bool)
        and not isinstance(right, bool)
    ):
        return left == right
    return type(left) is type(right) and left == right


def _usual(values: list[Any]) -> Any:
    """`_AGREED` when every value is the same; else the value more columns
    share than any other, or `_NONE` when no value stands out."""
    counts: list[tuple[Any, int]] = []
    for value in values:
        for index, (seen, count) in enumerate(counts):
            if _same(seen, value):
                counts[index] = (seen, count + 1)
                break
        else:
            counts.append((value, 1))
    if len(counts) <= 1:
        return _AGREED
    ranked = sorted((count for _value, count in counts), reverse=True)
    if ranked[0] == 1 or ranked[0] == ranked[1]:
        return _NONE
    return max(counts, key=lambda entry: entry[1])[0]
