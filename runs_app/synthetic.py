"""Synthetic run history in bulk, for benchmarks only.

`synthetic_runs_create` writes N runs over a project's new tasks with plain
bulk inserts, and their hourly and daily rollups summed in Python and inserted
once at the end: a million runs take a minute or two instead of the hours two
million upserts would. The rollups equal what the run path's upserts would make
(the same sums, the same latency buckets), so reports read them as they read
real ones. Never used by the product itself.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from rightbrain.orgs.models import Project, User
from runs_app import latency
from runs_app.credits import credits_stored
from runs_app.models import (
    NO_GROUP,
    DailyUsage,
    HourlyUsage,
    ReportingGroup,
    TaskRun,
    UsageSums,
)
from runs_app.reports import Totals
from runs_app.services import reporting_group_for
from tasks_app.models import LLMModel, Task, TaskRevision
from tasks_app.services import (
    RevisionSpec,
    active_revisions_set,
    task_create,
    task_mark_run,
    task_update,
)

ERROR_RATE = 0.03
GROUPS = ("web-shop", "mobile-app", "partner-api", None)
# A made-up list price, so that credits are not all zero: $3 / $15 per
# million tokens, at $0.001 per credit.
INPUT_CREDITS = Decimal("0.003")
OUTPUT_CREDITS = Decimal("0.015")


def _tasks_create(
    *, project: Project, user: User, model: LLMModel, count: int, since: datetime
) -> list[tuple[Task, list[TaskRevision]]]:
    made = []
    for number in range(1, count + 1):
        task = task_create(
            project=project,
            user=user,
            name=f"Synthetic {number:03d}",
            revision=RevisionSpec(user_prompt="Classify {text}", llm_model_id=model.pk),
        )
        first = task.revisions.get()
        _task, second = task_update(
            task=task, user=user, revision_fields={"user_prompt": "Label {text}"}
        )
        assert second is not None
        active_revisions_set(
            task=task,
            entries=[(first.pk, Decimal("0.5")), (second.pk, Decimal("0.5"))],
        )
        Task.objects.filter(pk=task.pk).update(created=since)
        made.append((task, [first, second]))
    return made


@transaction.atomic
def synthetic_runs_create(
    *,
    project: Project,
    user: User,
    runs: int,
    tasks: int = 20,
    days: int = 30,
    seed: int = 1,
    batch_size: int = 5000,
    now: datetime | None = None,
) -> list[Task]:
    """`runs` runs spread over `days` days and `tasks` new tasks of `project`
    (two revisions each, split 50/50; four reporting groups, one of them
    none), with their rollups. Returns the tasks."""
    model = LLMModel.objects.filter(enabled=True).order_by("created").first()
    assert model is not None, "no LLM model to run on"
    now = now or timezone.now()
    start = now - timedelta(days=days)
    made = _tasks_create(
        project=project, user=user, model=model, count=tasks, since=start
    )
    groups: list[ReportingGroup | None] = [
        reporting_group_for(project=project, name=name) for name in GROUPS
    ]
    rng = random.Random(seed)
    span = (now - start).total_seconds()
    rollups: dict[tuple, Totals] = {}
    written = 0
    while written < runs:
        chunk = []
        for _ in range(min(batch_size, runs - written)):
            task, revisions = made[rng.randrange(len(made))]
            run = _run(
                rng,
                task=task,
                revision=revisions[rng.randrange(2)],
                model=model,
                group=groups[rng.randrange(len(groups))],
                created=start + timedelta(seconds=rng.uniform(0, span)),
                user=user,
            )
            chunk.append(run)
            _add(rollups, run)
        TaskRun.objects.bulk_create(chunk, batch_size=batch_size)
        written += len(chunk)
    HourlyUsage.objects.bulk_create(
        (_rollup_row(HourlyUsage, key, rollup) for key, rollup in rollups.items()),
        batch_size=batch_size,
    )
    DailyUsage.objects.bulk_create(
        (
            _rollup_row(DailyUsage, key, rollup)
            for key, rollup in _by_day(rollups).items()
        ),
        batch_size=batch_size,
    )
    for task, _revisions in made:
        task_mark_run(task=task, at=now)
    return [task for task, _revisions in made]


def _run(
    rng: random.Random,
    *,
    task: Task,
    revision: TaskRevision,
    model: LLMModel,
    group: ReportingGroup | None,
    created: datetime,
    user: User,
) -> TaskRun:
    failed = rng.random() < ERROR_RATE
    input_tokens = 0 if failed else int(rng.lognormvariate(5.3, 0.5))
    output_tokens = 0 if failed else int(rng.lognormvariate(4.2, 0.6))
    # Kept exact, as the run path keeps them (runs_app/credits.py).
    credits = credits_stored(
        input_tokens * INPUT_CREDITS + output_tokens * OUTPUT_CREDITS
    )
    return TaskRun(
        task=task,
        task_revision=revision,
        response={"error": "timeout"} if failed else {"label": "positive"},
        run_data={"submitted": {"text": "synthetic"}},
        is_error=failed,
        status=TaskRun.Status.FAILED if failed else TaskRun.Status.SUCCEEDED,
        llm_model=model,
        user=user,
        reporting_group=group,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        input_processor_timing=round(rng.uniform(0.0001, 0.002), 6),
        llm_call_timing=round(rng.lognormvariate(0.2, 0.6), 6),
        charged_credits=credits,
        created=created,
    )


def _add(rollups: dict[tuple, Totals], run: TaskRun) -> None:
    key = (
        run.task_id,
        run.task_revision_id,
        run.reporting_group_id or NO_GROUP,
        run.llm_model_id,
        run.created.replace(minute=0, second=0, microsecond=0),
    )
    rollup = rollups.get(key)
    if rollup is None:
        rollup = rollups[key] = Totals()
    rollup.runs += 1
    rollup.errors += int(run.is_error)
    rollup.input_tokens += run.input_tokens
    rollup.output_tokens += run.output_tokens
    rollup.credits += run.charged_credits or Decimal(0)
    rollup.llm_seconds += run.llm_call_timing or 0.0
    rollup.processor_seconds += run.input_processor_timing or 0.0
    if run.llm_call_timing is not None:
        rollup.histogram[latency.bucket_of(run.llm_call_timing)] += 1


def _by_day(hours: dict[tuple, Totals]) -> dict[tuple, Totals]:
    """The hourly sums added up per UTC day (the hours are UTC already)."""
    days: dict[tuple, Totals] = {}
    for (*key, hour), rollup in hours.items():
        day_key = (*key, hour.replace(hour=0))
        days.setdefault(day_key, Totals()).add(rollup)
    return days


def _rollup_row[Row: UsageSums](model: type[Row], key: tuple, rollup: Totals) -> Row:
    task_id, revision_id, group_key, model_id, period = key
    return model(
        task_id=task_id,
        task_revision_id=revision_id,
        reporting_group_key=group_key,
        llm_model_id=model_id,
        **{"hour" if model is HourlyUsage else "day": period},
        runs=rollup.runs,
        errors=rollup.errors,
        input_tokens=rollup.input_tokens,
        output_tokens=rollup.output_tokens,
        credits=rollup.credits,
        llm_seconds=rollup.llm_seconds,
        processor_seconds=rollup.processor_seconds,
        **dict(zip(latency.COLUMNS, rollup.histogram, strict=True)),
    )
