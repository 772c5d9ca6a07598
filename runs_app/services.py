"""The run (ARCHITECTURE.md, "The run"): resolve, prepare, call, record.

`run_execute` takes a task and the caller's input, picks the revision, calls the
model through the gateway with retries and the fallback, and records the run and
its hourly usage in one transaction. Failed runs are recorded too.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError

from rightbrain.errors import BadRequest, DomainError, Forbidden, Invalid, NotFound
from rightbrain.orgs.models import ApiKey, Project, User
from runs_app import circuit, files, forwarding, latency, outputs, processors
from runs_app.budgets import budgets_check, month_of
from runs_app.credits import credits_for
from runs_app.models import (
    NO_GROUP,
    ApiKeyMonthlyUsage,
    DailyUsage,
    HourlyUsage,
    ReportingGroup,
    RunFile,
    TaskRun,
    UsageSums,
)
from tasks_app import llm
from tasks_app.models import ActiveRevision, LLMModel, Task, TaskRevision
from tasks_app.output_format import compile_output_format
from tasks_app.services import revision_create_test, task_mark_run
from tasks_app.serving import config_in_service, model_in_service
from tasks_app.snapshots import task_cached
from tasks_app.variables import render_prompt

# Kinds of failure that another attempt on the same model cannot fix.
_NOT_RETRYABLE = {"auth", "bad_request", "not_configured"}

logger = logging.getLogger(__name__)


# Choosing the revision ---------------------------------------------------------------


def revision_for_run(
    *,
    task: Task,
    revision_id: UUID | None = None,
    revision_tag: str | None = None,
    rng: random.Random | None = None,
) -> TaskRevision:
    """`revision_id`, else a revision tagged `revision_tag`, else a weighted draw."""
    if revision_id is not None and revision_tag is not None:
        raise Invalid(
            "Give revision_id or revision_tag, not both.", field="revision_tag"
        )
    revisions = TaskRevision.objects.select_related("llm_model", "fallback_llm_model")
    if revision_id is not None:
        revision = revisions.filter(pk=revision_id, task=task).first()
        if revision is None:
            raise NotFound(
                "This task has no revision with that id.", field="revision_id"
            )
        return revision
    active = task_cached(
        task,
        "active-revisions",
        lambda: list(
            ActiveRevision.objects.filter(task=task).select_related(
                "task_revision__llm_model", "task_revision__fallback_llm_model"
            )
        ),
    )
    if revision_tag is not None:
        tagged = list(revisions.filter(task=task, tags__name=revision_tag).distinct())
        if not tagged:
            raise NotFound(
                f"No revision of this task is tagged “{revision_tag}”.",
                field="revision_tag",
            )
        weights = {entry.task_revision_id: entry.weight for entry in active}
        tagged.sort(
            key=lambda r: (weights.get(r.pk, Decimal(-1)), r.created), reverse=True
        )
        return tagged[0]
    draw = Decimal(str((rng or random).random()))
    cumulative = Decimal(0)
    for entry in active:
        cumulative += entry.weight
        if draw < cumulative:
            return entry.task_revision
    return active[-1].task_revision


# Preparing the prompt -----------------------------------------------------------------


def _checked_input(
    revision: TaskRevision, task_input: dict[str, Any]
) -> dict[str, Any]:
    missing = [name for name in revision.input_params if name not in task_input]
    if missing:
        raise Invalid(
            "task_input is missing " + ", ".join(missing) + ".",
            field=f"task_input.{missing[0]}",
        )
    return task_input


def _schema_for(task: Task, revision: TaskRevision) -> dict[str, Any] | None:
    if task.output_modality == Task.OutputModality.JSON:
        return compile_output_format(revision.output_format)
    return None


# Calling the model --------------------------------------------------------------------


@dataclass
class Outcome:
    reply: llm.LLMReply | None
    model: LLMModel  # the model that produced the reply, or failed last
    calls: int
    used_fallback: bool
    primary_failure: str
    error: str
    seconds: float


@dataclass(frozen=True)
class RunModels:
    """The models a run may call, as the catalogue stands: a retired model's
    replacement in its place, with the settings that replacement takes."""

    primary: LLMModel | None  # None when the run goes straight to the fallback
    primary_config: dict[str, Any]
    fallback: LLMModel | None
    fallback_config: dict[str, Any]

    def to_call(self) -> list[LLMModel]:
        return [model for model in (self.primary, self.fallback) if model is not None]


def run_models(revision: TaskRevision, *, use_fallback: bool) -> RunModels:
    """The models that answer for `revision` (domain.md §14): refused with a
    422 when the primary or the fallback is disabled, or retired with no
    replacement, so such a run is refused before anything is written."""
    primary = None
    primary_config: dict[str, Any] = {}
    if not use_fallback:
        primary = model_in_service(revision.llm_model, field="llm_model_id")
        primary_config = config_in_service(
            revision.llm_config, saved_for=revision.llm_model, answering=primary
        )
    fallback = None
    fallback_config: dict[str, Any] = {}
    if revision.fallback_llm_model is not None:
        fallback = model_in_service(
            revision.fallback_llm_model, field="fallback_llm_model_id"
        )
        fallback_config = config_in_service(
            revision.fallback_llm_config,
            saved_for=revision.fallback_llm_model,
            answering=fallback,
        )
    return RunModels(primary, primary_config, fallback, fallback_config)


@dataclass(frozen=True)
class _Produce:
    """A step of the call plan: one attempt at the output on `model`."""

    model: LLMModel
    config: dict[str, Any]


@dataclass(frozen=True)
class _Pause:
    seconds: float


def _attempts(
    model: LLMModel, *, config: dict[str, Any], on_failure=None
) -> Generator[_Produce | _Pause, llm.LLMReply, tuple[llm.LLMReply | None, int, str]]:
    """Up to RB_LLM_ATTEMPTS calls: (the reply or None, calls made, last failure)."""
    attempts = settings.RB_LLM_ATTEMPTS
    last = ""
    for attempt in range(attempts):
        try:
            reply = yield _Produce(model, config)
            return reply, attempt + 1, last
        except llm.LLMError as error:
            last = error.message
            if on_failure is not None:
                on_failure()
            if error.kind in _NOT_RETRYABLE:
                return None, attempt + 1, last
            if attempt + 1 < attempts:
                yield _Pause(settings.RB_LLM_RETRY_BACKOFF * (2**attempt))
    return None, attempts, last


def _call_plan(
    revision: TaskRevision, models: RunModels
) -> Generator[_Produce | _Pause, llm.LLMReply, Outcome]:
    """The primary with retries, then the fallback (domain.md §8.1 step 5).

    A plan of steps (`_Produce`, `_Pause`) that `call_model` and
    `call_model_async` carry out, so the two share every decision."""
    started = time.perf_counter()
    primary = models.primary
    fallback = models.fallback
    primary_calls = 0
    primary_failure = ""
    if primary is None:
        pass
    elif fallback is not None and circuit.is_open(revision.pk):
        primary_failure = "The primary model failed repeatedly; its circuit is open."
    else:
        reply, primary_calls, primary_failure = yield from _attempts(
            primary,
            config=models.primary_config,
            on_failure=lambda: circuit.record_failure(revision.pk),
        )
        if reply is not None:
            circuit.record_success(revision.pk)
        if reply is not None or fallback is None:
            return Outcome(
                reply=reply,
                model=primary,
                calls=primary_calls,
                used_fallback=False,
                primary_failure="" if reply else primary_failure,
                error="" if reply else primary_failure,
                seconds=time.perf_counter() - started,
            )
    assert fallback is not None
    reply, fallback_calls, fallback_failure = yield from _attempts(
        fallback, config=models.fallback_config
    )
    return Outcome(
        reply=reply,
        model=fallback,
        calls=primary_calls + fallback_calls,
        used_fallback=True,
        primary_failure=primary_failure,
        error="" if reply else fallback_failure,
        seconds=time.perf_counter() - started,
    )


def call_model(prepared: PreparedRun) -> Outcome:
    """Carry out the call plan, blocking (workers, the dashboard, WSGI)."""
    plan = _call_plan(prepared.revision, prepared.models)
    try:
        step = next(plan)
        while True:
            if isinstance(step, _Pause):
                time.sleep(step.seconds)
                step = next(plan)
                continue
            try:
                reply = outputs.produce(
                    prepared.modality,
                    model=step.model,
                    messages=prepared.messages,
                    config=step.config,
                    schema=prepared.schema,
                    timeout=settings.RB_LLM_TIMEOUT,
                )
            except llm.LLMError as error:
                step = plan.throw(error)
            else:
                step = plan.send(reply)
    except StopIteration as done:
        return done.value


async def call_model_async(prepared: PreparedRun) -> Outcome:
    """Carry out the call plan on the event loop (the ASGI run endpoint)."""
    plan = _call_plan(prepared.revision, prepared.models)
    try:
        step = next(plan)
        while True:
            if isinstance(step, _Pause):
                await asyncio.sleep(step.seconds)
                step = next(plan)
                continue
            try:
                reply = await outputs.produce_async(
                    prepared.modality,
                    model=step.model,
                    messages=prepared.messages,
                    config=step.config,
                    schema=prepared.schema,
                    timeout=settings.RB_LLM_TIMEOUT,
                )
            except llm.LLMError as error:
                step = plan.throw(error)
            else:
                step = plan.send(reply)
    except StopIteration as done:
        return done.value


# Recording ----------------------------------------------------------------------------


def reporting_group_for(*, project: Project, name: str | None) -> ReportingGroup | None:
    if not name:
        return None
    group, _ = ReportingGroup.objects.get_or_create(project=project, name=name[:100])
    return group


def usage_add(run: TaskRun) -> None:
    """Add the run to its hour's and its day's rollup rows (UTC): one UPSERT
    each, in the caller's transaction, its LLM latency counted as one more run
    in its histogram bucket; a run made with an API key also to that key's
    month (its budget's figure). SQLite and PostgreSQL alike.

    Every run of a task in the same hour updates the same two rows, so
    concurrent runs queue on their row locks until each commits. On
    PostgreSQL the UPSERTs go in one statement (data-modifying CTEs): fewer
    round trips while the locks are held."""
    created = run.created.astimezone(UTC)
    hour = created.replace(minute=0, second=0, microsecond=0)
    sums: dict[str, Any] = {
        "runs": 1,
        "errors": int(run.is_error),
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "credits": run.charged_credits or Decimal(0),
        "llm_seconds": run.llm_call_timing or 0.0,
        "processor_seconds": run.input_processor_timing or 0.0,
    }
    if run.llm_call_timing is not None:
        sums[latency.column_of(run.llm_call_timing)] = 1
    key = {
        "task_id": run.task_id,
        "task_revision_id": run.task_revision_id,
        "reporting_group_key": run.reporting_group_id or NO_GROUP,
        "llm_model_id": run.llm_model_id,
    }
    upserts = [
        _usage_upsert(HourlyUsage, key | {"hour": hour}, sums),
        _usage_upsert(DailyUsage, key | {"day": hour.replace(hour=0)}, sums),
    ]
    if run.api_key_id is not None:
        upserts.append(
            _usage_upsert(
                ApiKeyMonthlyUsage,
                {"api_key_id": run.api_key_id, "month": month_of(created)},
                {"runs": 1, "credits": sums["credits"]},
            )
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            *leading, (last_sql, last_params) = upserts
            ctes = ", ".join(
                f"upsert_{number} AS ({sql})" for number, (sql, _) in enumerate(leading)
            )
            cursor.execute(
                f"WITH {ctes} {last_sql}",
                [param for _, params in upserts for param in params],
            )
        else:
            for sql, params in upserts:
                cursor.execute(sql, params)


def _usage_upsert(
    model: type[UsageSums] | type[ApiKeyMonthlyUsage],
    key: dict[str, Any],
    sums: dict[str, Any],
) -> tuple[str, list[Any]]:
    """The UPSERT adding `sums` to `model`'s row at `key`, and its parameters."""
    table = model._meta.db_table
    values = key | sums
    additions = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in sums)
    fields = {field.attname: field for field in model._meta.concrete_fields}
    # Each value as the database expects it (UUIDs are text on SQLite).
    params = [
        fields[name].get_db_prep_value(value, connection, prepared=False)
        for name, value in values.items()
    ]
    sql = (
        f"INSERT INTO {table} ({', '.join(values)}) VALUES "
        f"({', '.join(['%s'] * len(params))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {additions}"
    )
    return sql, params


@dataclass
class PreparedRun:
    """A run ready for the model: the checked input, the processed prompt."""

    task: Task
    revision: TaskRevision
    task_input: dict[str, Any]
    user: User | None
    reporting_group: ReportingGroup | None
    reference: str
    context_id: str
    use_fallback_model: bool
    uploads: Sequence[files.Upload]
    api_key: ApiKey | None
    messages: list[dict[str, Any]]
    schema: dict[str, Any] | None
    models: RunModels
    processor_seconds: float
    access_token_hash: str = ""

    @property
    def modality(self) -> str:
        return self.task.output_modality


def _check_submission(
    *,
    task: Task,
    revision: TaskRevision,
    task_input: dict[str, Any],
    use_fallback_model: bool,
    uploads: Sequence[files.Upload],
    api_key: ApiKey | None = None,
) -> tuple[list[files.Upload], RunModels]:
    """Everything about a run request that can be refused before any work
    (no network, no model): returns the images among the uploads and the
    models the run may call."""
    if not task.enabled:
        raise Forbidden("This task is disabled.")
    if use_fallback_model and revision.fallback_llm_model_id is None:
        raise Invalid(
            "This revision has no fallback model.", field="use_fallback_model"
        )
    models = run_models(revision, use_fallback=use_fallback_model)
    outputs.check_models(modality=task.output_modality, models=models.to_call())
    _checked_input(revision, task_input)
    images = _checked_images(revision, uploads, models.to_call()[0])
    # Last: the input's own problems are worth hearing even with no budget left.
    budgets_check(project=task.project, api_key=api_key)
    return images, models


def run_submission_check(
    *,
    task: Task,
    revision: TaskRevision,
    task_input: dict[str, Any],
    uploads: Sequence[files.Upload] = (),
) -> None:
    """Refuse a run request as `run_submit` would, writing nothing: for a
    caller that submits several runs and wants all or none of them."""
    _check_submission(
        task=task,
        revision=revision,
        task_input=task_input,
        use_fallback_model=False,
        uploads=uploads,
    )


def run_prepare(
    *,
    task: Task,
    revision: TaskRevision,
    task_input: dict[str, Any],
    user: User | None,
    reporting_group: ReportingGroup | None = None,
    reference: str = "",
    context_id: str = "",
    use_fallback_model: bool = False,
    uploads: Sequence[files.Upload] = (),
    access_token_hash: str = "",
    api_key: ApiKey | None = None,
) -> PreparedRun:
    """Check the request and run the input processors; raises on bad input
    and on a spent budget.

    `access_token_hash` is the digest of the task access token the run is made
    with, if it is: that token may read the run afterwards. `api_key` is the key
    the run is made with, whose budget it spends."""
    images, models = _check_submission(
        task=task,
        revision=revision,
        task_input=task_input,
        use_fallback_model=use_fallback_model,
        uploads=uploads,
        api_key=api_key,
    )
    processor_started = time.perf_counter()
    values = processors.processed_values(
        revision=revision, values=task_input, uploads=uploads
    )
    rendered = render_prompt(revision.user_prompt, values)
    model_images = [
        llm.Image(
            upload.content_type,
            files.optimised(upload) if revision.optimise_images else upload.data,
        )
        for upload in images
    ]
    processor_seconds = time.perf_counter() - processor_started
    return PreparedRun(
        task=task,
        revision=revision,
        task_input=task_input,
        user=user,
        reporting_group=reporting_group,
        reference=reference,
        context_id=context_id,
        use_fallback_model=use_fallback_model,
        uploads=uploads,
        api_key=api_key,
        messages=llm.build_messages(
            system_prompt=revision.system_prompt,
            user_prompt=rendered,
            images=model_images,
        ),
        schema=_schema_for(task, revision),
        models=models,
        processor_seconds=processor_seconds,
        access_token_hash=access_token_hash,
    )


def run_record(
    prepared: PreparedRun, outcome: Outcome, *, queued: TaskRun | None = None
) -> TaskRun:
    """Write the finished run, its files and its hourly usage in one
    transaction; `queued` is the row an asynchronous run was submitted as."""
    task = prepared.task
    generated = files.store_all(outputs.uploads_of(outcome.reply), task_id=task.pk)
    run = queued or TaskRun(
        task=task,
        task_revision=prepared.revision,
        run_data={"submitted": prepared.task_input},
        user=prepared.user,
        reporting_group=prepared.reporting_group,
        api_key=prepared.api_key,
        reference=prepared.reference,
        context_id=prepared.context_id,
        access_token_hash=prepared.access_token_hash,
        created=timezone.now(),
    )
    run.response = (
        outputs.response_of(
            task.output_modality, outcome.reply, [name for _u, name, _k in generated]
        )
        if outcome.reply is not None
        else {"error": outcome.error}
    )
    run.is_error = outcome.reply is None
    run.status = TaskRun.Status.FAILED if run.is_error else TaskRun.Status.SUCCEEDED
    run.llm_retries = max(outcome.calls - 1, 0)
    run.used_fallback_model = outcome.used_fallback
    run.primary_failure_reason = outcome.primary_failure
    run.llm_model = outcome.model
    run.fallback_llm_model = outcome.model if outcome.used_fallback else None
    run.input_tokens = outcome.reply.input_tokens if outcome.reply else 0
    run.output_tokens = outcome.reply.output_tokens if outcome.reply else 0
    run.input_processor_timing = round(prepared.processor_seconds, 6)
    run.llm_call_timing = round(outcome.seconds, 6)
    run.charged_credits = credits_for(
        model=outcome.model,
        input_tokens=run.input_tokens,
        output_tokens=run.output_tokens,
    )
    # A queued run's input files were stored when it was submitted.
    try:
        stored = [] if queued else files.store_all(prepared.uploads, task_id=task.pk)
    except files.StoreUnavailable:
        files.delete_stored([key for _upload, _name, key in generated])
        raise
    try:
        with transaction.atomic():
            if queued is not None and not _still_running(run):
                raise RunNoLongerRunning(str(run.pk))
            run.save(force_insert=queued is None)
            run_files = RunFile.objects.bulk_create(
                [
                    *_run_files(run, stored, RunFile.Direction.INPUT),
                    *_run_files(run, generated, RunFile.Direction.OUTPUT),
                ]
            )
            if queued is None:
                # A new run's files are all here: `run.files.all()` (the
                # response, forwarders) reads them without a query, as after
                # prefetch_related.
                known = run.files.all()
                known._result_cache = run_files
                known._prefetch_done = True  # type: ignore[attr-defined]
                run._prefetched_objects_cache = {"files": known}  # type: ignore[attr-defined]
            usage_add(run)
            task_mark_run(task=task, at=run.created)
            transaction.on_commit(lambda: forwarding.enqueue(run), robust=True)
    except Exception:
        # Nothing half-written: the bytes go when the rows do not exist.
        files.delete_stored([key for _upload, _name, key in [*stored, *generated]])
        raise
    return run


def _still_running(run: TaskRun) -> bool:
    """Lock the queued run's row and say whether it is still `running`: the
    sweeper or a late duplicate may have ended it while the model answered."""
    return (
        TaskRun.objects.select_for_update()
        .filter(pk=run.pk, status=TaskRun.Status.RUNNING)
        .exists()
    )


def run_execute(
    *,
    task: Task,
    revision: TaskRevision,
    task_input: dict[str, Any],
    user: User | None,
    reporting_group: ReportingGroup | None = None,
    reference: str = "",
    context_id: str = "",
    use_fallback_model: bool = False,
    uploads: Sequence[files.Upload] = (),
    access_token_hash: str = "",
    api_key: ApiKey | None = None,
) -> TaskRun:
    """Run `revision` of `task` on `task_input` and record the run.

    Input errors raise before anything is written; model failures are recorded
    as error runs (`is_error`) and returned.
    """
    prepared = run_prepare(
        task=task,
        revision=revision,
        task_input=task_input,
        user=user,
        reporting_group=reporting_group,
        reference=reference,
        context_id=context_id,
        use_fallback_model=use_fallback_model,
        uploads=uploads,
        access_token_hash=access_token_hash,
        api_key=api_key,
    )
    return run_record(prepared, call_model(prepared))


# Asynchronous runs ----------------------------------------------------------------


class QueueUnavailable(Exception):
    """The run could not be handed to the queue; nothing of it was kept."""


def run_submit(
    *,
    task: Task,
    revision: TaskRevision,
    task_input: dict[str, Any],
    user: User | None,
    reporting_group: ReportingGroup | None = None,
    reference: str = "",
    context_id: str = "",
    use_fallback_model: bool = False,
    uploads: Sequence[files.Upload] = (),
    access_token_hash: str = "",
    api_key: ApiKey | None = None,
) -> TaskRun:
    """Check the request, write the run as `queued` and hand it to a worker.

    Bad input raises as for `run_execute`. When the broker cannot take the
    run, the row and its files are removed again and `QueueUnavailable` is
    raised, so the caller can answer 503 and nothing lingers as queued.
    """
    _check_submission(
        task=task,
        revision=revision,
        task_input=task_input,
        use_fallback_model=use_fallback_model,
        uploads=uploads,
        api_key=api_key,
    )
    run = TaskRun(
        task=task,
        task_revision=revision,
        run_data={"submitted": task_input},
        status=TaskRun.Status.QUEUED,
        # Until the run is done this holds the request to use the fallback.
        used_fallback_model=use_fallback_model,
        user=user,
        reporting_group=reporting_group,
        api_key=api_key,
        reference=reference,
        context_id=context_id,
        access_token_hash=access_token_hash,
        created=timezone.now(),
    )
    stored = files.store_all(uploads, task_id=task.pk)
    try:
        with transaction.atomic():
            run.save(force_insert=True)
            RunFile.objects.bulk_create(
                _run_files(run, stored, RunFile.Direction.INPUT)
            )
    except Exception:
        files.delete_stored([key for _upload, _name, key in stored])
        raise
    from runs_app.tasks import execute_queued_run

    try:
        execute_queued_run.delay(str(run.pk))
    except OperationalError as error:
        run.delete()
        files.delete_stored([key for _upload, _name, key in stored])
        raise QueueUnavailable(str(error)) from error
    run.refresh_from_db()
    return run


def run_submit_edited(
    *,
    task: Task,
    source: TaskRevision,
    changes: Mapping[str, Any],
    task_input: dict[str, Any],
    user: User | None,
    uploads: Sequence[files.Upload] = (),
) -> TaskRun:
    """Submit a run of `source` with `changes` (edited prompts, format) as a
    new test revision, so edits are tried without touching traffic.

    The revision is kept only with its run: one that the input does not suit
    is never written, and one the queue cannot take is removed again."""
    with transaction.atomic():
        revision = revision_create_test(
            task=task, source=source, user=user, changes=changes
        )
        _check_submission(
            task=task,
            revision=revision,
            task_input=task_input,
            use_fallback_model=False,
            uploads=uploads,
        )
    try:
        return run_submit(
            task=task,
            revision=revision,
            task_input=task_input,
            user=user,
            uploads=uploads,
        )
    except QueueUnavailable:
        revision.delete()
        raise


# Every way out of a queued run ends it: the run's own outcome, a reason the
# input could not be used, this for anything unforeseen, or the sweeper's.
RUN_BROKE = (
    "The run stopped on an unexpected error and was not completed; submit it again."
)
RUN_WORKER_LOST = (
    "The worker running this run stopped before it finished; submit it again."
)
RUN_TIMED_OUT = (
    "The run did not finish in time: its worker stopped or the queue was "
    "too long. Submit it again."
)
_UNFINISHED = (TaskRun.Status.QUEUED, TaskRun.Status.RUNNING)


class RunNoLongerRunning(Exception):
    """A queued run's result arrived after the run had already ended."""


def run_complete_queued(*, run_id: UUID, redelivered: bool = False) -> TaskRun | None:
    """The worker's half of an asynchronous run: queued → running → done.

    A run delivered twice is run once: only the delivery that moves it from
    queued to running goes on. Once taken the run always ends `succeeded` or
    `failed`: whatever goes wrong is recorded on the run as its error.

    A later delivery of an ended run does nothing. One the broker marks
    `redelivered` comes back because the worker that took the message died
    (its pool process killed, or the whole worker gone for longer than the
    visibility timeout, which outlasts any run): if that worker had started
    the run, the run is failed at once rather than left to the sweeper. It is
    not run again, so a run that kills its worker cannot do so in a loop."""
    taken = TaskRun.objects.filter(pk=run_id, status=TaskRun.Status.QUEUED).update(
        status=TaskRun.Status.RUNNING
    )
    if not taken:
        if redelivered and _run_fail(
            run_id=run_id, error=RUN_WORKER_LOST, ending=TaskRun.Status.RUNNING
        ):
            logger.warning("Run %s was failed: its worker stopped mid-run.", run_id)
        else:
            logger.info("Run %s is not queued; this delivery does nothing.", run_id)
        return None
    try:
        return _run_taken(run_id)
    except DomainError as error:
        # What the submit could not check (a page that would not load, an
        # unreadable document, a stored file gone, a file store that is down)
        # ends the run as failed, with the reason.
        _run_fail(run_id=run_id, error=error.message, ending=TaskRun.Status.RUNNING)
    except RunNoLongerRunning:
        logger.warning(
            "Run %s finished after it had been ended; its result is dropped.", run_id
        )
    except Exception:
        # The worker is the boundary: the traceback goes to the log, and the
        # caller sees a failed run rather than one running for ever.
        logger.exception("Run %s failed on an unexpected error.", run_id)
        _run_fail(run_id=run_id, error=RUN_BROKE, ending=TaskRun.Status.RUNNING)
    return TaskRun.objects.filter(pk=run_id).first()


def _run_taken(run_id: UUID) -> TaskRun | None:
    run = (
        TaskRun.objects.select_related(
            "task__project",
            "task_revision__llm_model",
            "task_revision__fallback_llm_model",
            "user",
            "reporting_group",
            "api_key",
        )
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        return None  # deleted with its task since it was taken
    prepared = run_prepare(
        task=run.task,
        revision=run.task_revision,
        task_input=run.run_data["submitted"],
        user=run.user,
        reporting_group=run.reporting_group,
        reference=run.reference,
        context_id=run.context_id,
        use_fallback_model=run.used_fallback_model,
        uploads=_stored_uploads(run),
        api_key=run.api_key,
    )
    return run_record(prepared, call_model(prepared), queued=run)


def _stored_uploads(run: TaskRun) -> list[files.Upload]:
    """The input files stored when the run was submitted, read back."""
    uploads = []
    for file in run.files.filter(direction=RunFile.Direction.INPUT):
        try:
            data = files.read_stored(file.storage_key)
        except files.StoredFileMissing as error:
            logger.warning(
                "Run %s: stored input file %s is unreadable: %s",
                run.pk,
                file.storage_key,
                error,
            )
            raise BadRequest(
                f"The input file “{file.original_filename}” of this run could "
                "not be read from storage; submit the run again.",
                field="task_files",
            ) from error
        uploads.append(
            files.Upload(
                file.original_filename,
                data,
                file.content_type,
                is_image=file.content_type in files.IMAGE_TYPES.values(),
            )
        )
    return uploads


def _run_fail(*, run_id: UUID, error: str, ending: TaskRun.Status) -> bool:
    """End the run as failed with `error` if it is still `ending`, so a run
    that finished meanwhile keeps its result."""
    return bool(
        _runs_fail(TaskRun.objects.filter(pk=run_id, status=ending), error=error)
    )


def runs_fail_stuck(*, now: datetime | None = None) -> int:
    """Fail the queued and running runs submitted more than
    RB_STUCK_RUN_SECONDS ago: their worker died, or the queue never reached
    them. Returns how many were failed."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.RB_STUCK_RUN_SECONDS)
    failed = _runs_fail(
        TaskRun.objects.filter(status__in=_UNFINISHED, created__lt=cutoff),
        error=RUN_TIMED_OUT,
    )
    if failed:
        logger.warning("Failed %d runs that did not finish in time.", failed)
    return failed


@transaction.atomic
def _runs_fail(runs: QuerySet[TaskRun], *, error: str) -> int:
    """Fail the unfinished `runs` with `error`, each counted in usage as a
    failed run of the model it was to call; returns how many.

    The rows are locked first and the status filter is checked again once a
    lock is had (PostgreSQL re-reads a row it waited for): a run whose worker
    records its result at the same moment keeps that result, and no run is
    failed twice. Locked in key order, so two sweeps at once cannot deadlock."""
    ending = list(
        runs.select_for_update(of=("self",))
        .select_related("task_revision")
        .order_by("pk")
    )
    for run in ending:
        revision = run.task_revision
        if run.llm_model_id is None:
            run.llm_model_id = (
                revision.fallback_llm_model_id
                if run.used_fallback_model and revision.fallback_llm_model_id
                else revision.llm_model_id
            )
        run.status = TaskRun.Status.FAILED
        run.is_error = True
        run.response = {"error": error}
        run.save(update_fields=["status", "is_error", "response", "llm_model"])
        usage_add(run)
    return len(ending)


def _run_files(
    run: TaskRun,
    stored: Sequence[tuple[files.Upload, str, str]],
    direction: RunFile.Direction,
) -> list[RunFile]:
    return [
        RunFile(
            task_run=run,
            direction=direction,
            original_filename=upload.filename,
            stored_filename=stored_filename,
            content_type=upload.content_type,
            size_bytes=len(upload.data),
            storage_key=key,
        )
        for upload, stored_filename, key in stored
    ]


def _checked_images(
    revision: TaskRevision, uploads: Sequence[files.Upload], model: LLMModel
) -> list[files.Upload]:
    images = [upload for upload in uploads if upload.is_image]
    if revision.image_required and not images:
        raise BadRequest(
            "This task needs at least one image (JPEG or PNG) in task_files.",
            field="task_files",
        )
    if images and not model.supports_vision:
        raise Invalid(
            f"{model.alias} cannot read images; this revision takes none.",
            field="task_files",
        )
    return images


def delete_run_files_of(task: Task) -> None:
    """Remove a task's stored run files once its deletion has committed."""
    keys = list(
        RunFile.objects.filter(task_run__task=task).values_list(
            "storage_key", flat=True
        )
    )
    if keys:
        transaction.on_commit(lambda: files.delete_stored(keys))
