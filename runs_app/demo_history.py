"""A month of past runs for the demo project, recorded the way real runs are.

A fresh instance has no history, so its reports, charts and run log would be
empty. `demo_tasks_create` adds a few gallery tasks on the offline demo model
and gives each one weeks of runs. Every run is what `run_execute` writes: a
TaskRun row and its share of the hourly rollup through the same upsert; only
the `created` time lies in the past and the numbers come from a seeded random
generator instead of a model call. The same seed gives the same history,
relative to the moment it is generated.

The demo model is free, so its runs charge 0.00 credits. So that the credit
charts have something true to show, the Sentiment Analyser's A/B test pits it
against a priced catalogue model: its second revision runs on Claude Sonnet
4.5, with the demo model as its fallback. That revision's history is recorded
as if Sonnet had answered (the replies are still the demo model's), charged at
Sonnet's list price (runs_app/credits.py); the revision's annotation says so.
Run live without ANTHROPIC_API_KEY, the revision falls back to the demo model
(a fallback run, 0.00 credits), so every demo task still runs offline.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rightbrain.ids import uuid7
from rightbrain.orgs.models import Project, User
from runs_app.credits import credits_for
from runs_app.models import ReportingGroup, TaskRun
from runs_app.services import reporting_group_for, usage_add
from tasks_app.demo_output import demo_reply, estimate_tokens
from tasks_app.gallery import Template, task_create_from_template, template_named
from tasks_app.models import ActiveRevision, LLMModel, Task, TaskRevision
from tasks_app.output_format import compile_output_format
from tasks_app.services import (
    active_revisions_set,
    base_revision,
    task_mark_run,
    task_update,
)
from tasks_app.variables import render_prompt

HISTORY_DAYS = 30
ERROR_RATE = 0.03
# Why runs fail, and how often, among the failures: what providers answer.
_FAILURES = (
    ("timeout", "The provider did not answer in time.", 5),
    ("rate_limit", "The provider is rate-limiting requests.", 3),
    ("unavailable", "The provider failed: 503 Service Unavailable", 2),
)

# Traffic: from each moment on, runs go evenly to that period's revisions.
Traffic = Sequence[tuple[datetime, Sequence[TaskRevision]]]


@dataclass(frozen=True)
class DemoTask:
    template: str
    runs: int
    days: int = HISTORY_DAYS
    # Inputs besides the template's example, so that runs differ.
    more_inputs: tuple[dict[str, str], ...] = ()
    # (reporting group name, or None for none; relative share of runs)
    groups: tuple[tuple[str | None, float], ...] = ((None, 1),)
    # Revision fields of a second revision that takes half the traffic
    # from `split_days_ago` days ago: an A/B test in progress.
    second_revision: dict[str, Any] | None = None
    split_days_ago: int = 12
    # The catalogue model (vendor, name) the second revision runs on, the
    # demo model being its fallback; None: the demo model.
    second_model: tuple[str, str] | None = None


DEMO_TASKS = (
    DemoTask(
        "sentiment-analyser",
        runs=150,
        more_inputs=(
            {
                "customer_review": (
                    "Arrived a day early and the blender crushes ice like nothing. "
                    "A bit loud, but I'd buy it again."
                )
            },
            {
                "customer_review": (
                    "The lid cracked the second time I used it and support has not "
                    "answered in a week. Very disappointed."
                )
            },
        ),
        groups=(("web-shop", 6), ("mobile-app", 3), (None, 1)),
        second_revision={
            "output_format": {
                "sentiment": {
                    "type": "str",
                    "options": ["positive", "negative", "neutral"],
                    "description": "The review's overall sentiment",
                },
                "image_description": {
                    "type": "str",
                    "description": (
                        'A description of the product image. Returns "N/A" if no '
                        "image provided"
                    ),
                },
                "image_match": {
                    "type": "bool",
                    "description": "Whether the image shows the reviewed product",
                },
            },
            "annotation": "Sentiment as a fixed choice; image_match as a boolean",
        },
        second_model=("Anthropic", "claude-sonnet-4-5-20250929"),
    ),
    DemoTask(
        "customer-inquiry-router",
        runs=110,
        more_inputs=(
            {"customer_message": "I can't login to my account"},
            {
                "customer_message": (
                    "Do the Trailblazer boots come in wide fit? I'm a 44 and my "
                    "usual brand is always too narrow."
                )
            },
        ),
        groups=(("web-shop", 5), ("mobile-app", 3), (None, 2)),
    ),
    DemoTask(
        "review-insights",
        runs=70,
        days=24,
        more_inputs=(
            {"review": "Fits perfectly and looks great, but the laces fray fast."},
            {"review": "Terrible value. Soles came apart after two walks."},
        ),
        groups=(("web-shop", 1),),
    ),
    DemoTask(
        "pr-summariser",
        runs=40,
        days=18,
        more_inputs=(
            {
                "pull_request": (
                    "Cache product search results for 60 seconds in Redis; add a "
                    "cache-busting hook on product save."
                )
            },
        ),
    ),
    DemoTask(
        "blog-outline-generator",
        runs=30,
        days=14,
        more_inputs=(
            {"topic": "Choosing hiking boots for your first multi-day trek"},
            {"topic": "What an A/B test of prompts taught us about tone"},
        ),
    ),
)


def demo_model() -> LLMModel | None:
    """The catalogue's offline demo model, if this instance offers it."""
    return LLMModel.objects.filter(
        vendor="Rightbrain",
        name="rightbrain-demo",
        enabled=True,
        retired__isnull=True,
    ).first()


def priced_demo_revisions(*, project: Project) -> list[tuple[str, str]]:
    """(task name, model alias) of each active revision of the project's demo
    tasks that runs on a priced model rather than the free demo model."""
    demo = demo_model()
    return list(
        ActiveRevision.objects.filter(
            task__project=project,
            task__deleted__isnull=True,
            task__name__in=_demo_task_names(),
        )
        .exclude(task_revision__llm_model=demo)
        .order_by("task__name", "task_revision__created")
        .values_list("task__name", "task_revision__llm_model__alias")
    )


def _demo_task_names() -> list[str]:
    names = []
    for plan in DEMO_TASKS:
        template = template_named(plan.template)
        if template is not None:
            names.append(template.name)
    return names


@transaction.atomic
def demo_tasks_create(
    *, project: Project, user: User, now: datetime | None = None
) -> list[Task]:
    """Create the demo tasks `project` lacks (by name), each with its history.

    Tasks that exist are left alone, runs included, so running this again adds
    nothing. Returns the tasks it created.
    """
    model = demo_model()
    if model is None:
        return []
    now = now or timezone.now()
    existing = set(
        Task.objects.filter(project=project, deleted__isnull=True).values_list(
            "name", flat=True
        )
    )
    created = []
    for plan in DEMO_TASKS:
        template = template_named(plan.template)
        assert template is not None, f"no gallery template {plan.template}"
        if template.name not in existing:
            created.append(
                _demo_task_create(
                    plan, template, project=project, user=user, model=model, now=now
                )
            )
    return created


def _demo_task_create(
    plan: DemoTask,
    template: Template,
    *,
    project: Project,
    user: User,
    model: LLMModel,
    now: datetime,
) -> Task:
    # One generator per task: its history does not depend on the others'.
    rng = random.Random(f"rightbrain-demo:{plan.template}")
    start = now - timedelta(days=plan.days)
    task = task_create_from_template(
        project=project, user=user, template=template, llm_model_id=model.pk
    )
    first = base_revision(task)
    traffic: list[tuple[datetime, list[TaskRevision]]] = [(start, [first])]
    if plan.second_revision is not None:
        fields = dict(plan.second_revision)
        priced = _catalogue_model(plan.second_model) if plan.second_model else None
        if priced is not None:
            fields |= {
                "llm_model_id": priced.pk,
                "fallback_llm_model_id": model.pk,
                "annotation": f"{fields.get('annotation', '')}. {_priced_note(priced)}",
            }
        _task, second = task_update(task=task, user=user, revision_fields=fields)
        assert second is not None
        active_revisions_set(
            task=task,
            entries=[(first.pk, Decimal("0.5")), (second.pk, Decimal("0.5"))],
        )
        traffic.append((now - timedelta(days=plan.split_days_ago), [first, second]))
    _backdate(task, traffic, created=start - timedelta(hours=1))
    groups = [
        (reporting_group_for(project=project, name=name), share)
        for name, share in plan.groups
    ]
    demo_runs_create(
        task=task,
        user=user,
        count=plan.runs,
        inputs=[template.example_inputs, *plan.more_inputs],
        traffic=traffic,
        groups=groups,
        end=now,
        rng=rng,
    )
    return task


def _catalogue_model(key: tuple[str, str]) -> LLMModel | None:
    """The enabled catalogue model `key` names; None (the demo model serves
    instead) where an operator has disabled or retired it."""
    vendor, name = key
    return LLMModel.objects.filter(
        vendor=vendor, name=name, enabled=True, retired__isnull=True
    ).first()


def _priced_note(model: LLMModel) -> str:
    return (
        f"On {model.alias}, the demo model as fallback. Demo data: this "
        f"revision's past runs are simulated and charged at {model.alias}'s list "
        f"price; without {model.api_key_env} its live runs fall back to the free "
        "demo model."
    )


def _backdate(task: Task, traffic: Traffic, *, created: datetime) -> None:
    """Date the task and its revisions before the runs they served, so the
    history reads in order: created, then run, then changed."""
    Task.objects.filter(pk=task.pk).update(created=created, modified=traffic[-1][0])
    first_seen: dict[UUID, datetime] = {}
    for since, revisions in traffic:
        for revision in revisions:
            first_seen.setdefault(revision.pk, since)
    first_seen[traffic[0][1][0].pk] = created
    for revision_id, since in first_seen.items():
        TaskRevision.objects.filter(pk=revision_id).update(
            created=since, modified=since
        )


def demo_runs_create(
    *,
    task: Task,
    user: User | None,
    count: int,
    inputs: Sequence[dict[str, str]],
    traffic: Traffic,
    groups: Sequence[tuple[ReportingGroup | None, float]],
    end: datetime,
    rng: random.Random,
) -> list[TaskRun]:
    """`count` past runs of `task` between the first traffic period and `end`,
    stored with their hourly rollup like runs that really happened."""
    answers: dict[tuple[UUID, int], tuple[Any, int, int]] = {}
    runs = []
    for created in _run_times(rng, count, start=traffic[0][0], end=end):
        revisions = [revs for since, revs in traffic if since <= created][-1]
        revision = rng.choice(revisions)
        index = rng.randrange(len(inputs))
        key = (revision.pk, index)
        if key not in answers:
            answers[key] = _demo_answer(task, revision, inputs[index])
        group = rng.choices(
            [g for g, _share in groups], weights=[s for _g, s in groups]
        )[0]
        runs.append(
            _run(
                task,
                revision,
                user=user,
                task_input=inputs[index],
                answer=answers[key],
                group=group,
                created=created,
                rng=rng,
            )
        )
    TaskRun.objects.bulk_create(runs)
    # The real run path's upsert, once per run: rollups equal the runs by
    # construction. A few hundred upserts take well under a second.
    for run in runs:
        usage_add(run)
    if runs:
        task_mark_run(task=task, at=runs[-1].created)
    return runs


def _run_times(
    rng: random.Random, count: int, *, start: datetime, end: datetime
) -> list[datetime]:
    """Sorted moments in [start, end): busier in working hours and on weekdays,
    and growing towards the end, as a product finding its users would be."""
    hours = int((end - start).total_seconds() // 3600)
    slots = [start + timedelta(hours=i) for i in range(hours)]
    weights = [_busyness(slot) * (0.5 + i / hours) for i, slot in enumerate(slots)]
    picks = rng.choices(range(hours), weights=weights, k=count)
    return sorted(slots[i] + timedelta(seconds=rng.uniform(0, 3599.999)) for i in picks)


def _busyness(moment: datetime) -> float:
    if 9 <= moment.hour < 18:
        by_hour = 1.0
    elif 7 <= moment.hour < 22:
        by_hour = 0.45
    else:
        by_hour = 0.08
    return by_hour * (0.35 if moment.weekday() >= 5 else 1.0)


def _demo_answer(
    task: Task, revision: TaskRevision, task_input: dict[str, str]
) -> tuple[Any, int, int]:
    """(response, input tokens, output tokens) as the demo model gives them."""
    rendered = render_prompt(revision.user_prompt, task_input)
    # The demo model reads the system and user messages joined by a newline.
    prompt = "\n".join(
        part for part in (revision.system_prompt, rendered) if part.strip()
    )
    schema = (
        compile_output_format(revision.output_format)
        if task.output_modality == Task.OutputModality.JSON
        else None
    )
    text = demo_reply(prompt, schema)
    response = json.loads(text) if schema is not None else text
    return response, estimate_tokens(prompt), estimate_tokens(text)


def _run(
    task: Task,
    revision: TaskRevision,
    *,
    user: User | None,
    task_input: dict[str, str],
    answer: tuple[Any, int, int],
    group: ReportingGroup | None,
    created: datetime,
    rng: random.Random,
) -> TaskRun:
    model = revision.llm_model
    common: dict[str, Any] = {
        "id": _uuid7_at(created),
        "task": task,
        "task_revision": revision,
        "run_data": {"submitted": task_input},
        "llm_model": model,
        "user": user,
        "reporting_group": group,
        "input_processor_timing": round(rng.uniform(0.00005, 0.0004), 6),
        "created": created,
    }
    if rng.random() < ERROR_RATE:
        kind, message, _weight = rng.choices(
            _FAILURES, weights=[weight for _k, _m, weight in _FAILURES]
        )[0]
        attempts = settings.RB_LLM_ATTEMPTS
        seconds = (
            settings.RB_LLM_TIMEOUT * attempts * rng.uniform(1.0, 1.05)
            if kind == "timeout"
            else rng.uniform(0.4, 3.0)
        )
        return TaskRun(
            **common,
            response={"error": message},
            is_error=True,
            status=TaskRun.Status.FAILED,
            llm_retries=attempts - 1,
            primary_failure_reason=message,
            llm_call_timing=round(seconds, 6),
            charged_credits=credits_for(model=model, input_tokens=0, output_tokens=0),
        )
    response, prompt_tokens, reply_tokens = answer
    # Real inputs vary in length around the samples: spread the counts.
    input_tokens = max(1, round(prompt_tokens * rng.lognormvariate(0, 0.35)))
    output_tokens = max(1, round(reply_tokens * rng.lognormvariate(0, 0.25)))
    seconds = (0.35 + output_tokens * 0.012) * rng.lognormvariate(0, 0.3)
    return TaskRun(
        **common,
        response=response,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        llm_call_timing=round(seconds, 6),
        charged_credits=credits_for(
            model=model, input_tokens=input_tokens, output_tokens=output_tokens
        ),
    )


def _uuid7_at(moment: datetime) -> UUID:
    """A uuid7 carrying `moment` as its timestamp, so past runs' ids sort as the
    runs happened."""
    unix_ms = int(moment.timestamp() * 1000)
    return UUID(int=(uuid7().int & ((1 << 80) - 1)) | (unix_ms << 80))
