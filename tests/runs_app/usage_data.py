"""Runs recorded the way the run engine records them (a TaskRun row and its
share of the hourly rollup through the same upsert), at chosen moments, for
the report, chart and usage-page tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from rightbrain.orgs.models import ApiKey, Project, User
from runs_app.models import ReportingGroup, TaskRun
from runs_app.services import reporting_group_for, usage_add
from tasks_app.models import LLMModel, Task, TaskRevision
from tasks_app.services import (
    RevisionSpec,
    active_revisions_set,
    task_create,
    task_update,
)

# Tasks made here date from before every run the tests record, so that a
# report's default window (from the task's creation) holds them all.
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def make_task(
    *, project: Project, user: User, model: LLMModel, name: str = "Reviews", **fields
) -> Task:
    task = task_create(
        project=project,
        user=user,
        name=name,
        revision=RevisionSpec(user_prompt="Review {text}", llm_model_id=model.pk),
        **fields,
    )
    Task.objects.filter(pk=task.pk).update(created=LONG_AGO)
    task.refresh_from_db()
    return task


def add_revision(
    task: Task, user: User, *, test: bool = False, prompt: str = "Again {text}"
) -> TaskRevision:
    _task, revision = task_update(
        task=task, user=user, revision_fields={"user_prompt": prompt, "test": test}
    )
    assert revision is not None
    return revision


def split_traffic(task: Task, *revisions: TaskRevision) -> None:
    share = Decimal(1) / len(revisions)
    active_revisions_set(
        task=task, entries=[(revision.pk, share) for revision in revisions]
    )


def group(project: Project, name: str) -> ReportingGroup:
    found = reporting_group_for(project=project, name=name)
    assert found is not None
    return found


def record_run(
    task: Task,
    revision: TaskRevision,
    *,
    at: datetime,
    input_tokens: int = 10,
    output_tokens: int = 5,
    credits: str | None = "0.25",
    llm_seconds: float | None = 1.0,
    processor_seconds: float | None = 0.01,
    error: bool = False,
    reporting_group: ReportingGroup | None = None,
    user: User | None = None,
    api_key: ApiKey | None = None,
) -> TaskRun:
    run = TaskRun.objects.create(
        task=task,
        task_revision=revision,
        response={"error": "failed"} if error else {"ok": True},
        run_data={"submitted": {"text": "x"}},
        is_error=error,
        status=TaskRun.Status.FAILED if error else TaskRun.Status.SUCCEEDED,
        llm_model=revision.llm_model,
        user=user,
        api_key=api_key,
        reporting_group=reporting_group,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        input_processor_timing=processor_seconds,
        llm_call_timing=llm_seconds,
        charged_credits=None if credits is None else Decimal(credits),
        created=at,
    )
    usage_add(run)
    return run
