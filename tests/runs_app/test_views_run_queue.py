"""The Run view's asynchronous path and its usage & performance panel
(dashboard.md §3, checklist 135 and 137): a run is queued through Celery and
the result panel polls until it is done; a broker that is down is an inline
error with nothing kept; the panel shows the task's usage for a quick range."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from runs_app.models import DailyUsage, HourlyUsage, TaskRun
from runs_app.services import run_complete_queued
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel, Task
from tasks_app.services import RevisionSpec, task_create, task_update

HX = {"HX-Request": "true", "HX-Target": "run-workspace"}
POLL = {"HX-Request": "true", "HX-Target": "run-result"}


@pytest.fixture
def task(personas) -> Task:
    catalogue_sync()
    demo = LLMModel.objects.get(name="rightbrain-demo")
    return task_create(
        project=personas.project,
        user=personas.owner,
        name="Review judge",
        revision=RevisionSpec(
            user_prompt="Judge {customer_review}",
            llm_model_id=demo.pk,
            output_format={"sentiment": "str"},
        ),
        task_run_visibility=Task.RunVisibility.ALL_VIEWERS,
    )


def _url(personas, task) -> str:
    return reverse("task_run", args=[personas.project.pk, task.pk])


def _run(client, personas, task, headers=HX, **values):
    data = {"input_customer_review": "Great toaster", **values}
    return client.post(_url(personas, task), data, headers=headers)


def test_a_queued_run_is_polled_until_the_worker_is_done(
    personas, as_user, task, broker
):
    broker("memory://")  # a real transport that nobody consumes yet
    client = as_user("editor")
    response = _run(client, personas, task)
    run = TaskRun.objects.get()
    assert run.status == TaskRun.Status.QUEUED
    assert not HourlyUsage.objects.exists()
    assert "The run is queued" in response.text
    assert 'hx-trigger="load delay:500ms"' in response.text
    assert f'hx-get="{_url(personas, task)}?run={run.pk}"' in response.text

    still = client.get(f"{_url(personas, task)}?run={run.pk}", headers=POLL)
    assert still.text.lstrip().startswith('<div id="run-result"')
    assert "load delay:500ms" in still.text
    assert "HX-Trigger" not in still.headers

    run_complete_queued(run_id=run.pk)  # what the worker does

    done = client.get(f"{_url(personas, task)}?run={run.pk}", headers=POLL)
    assert done.text.lstrip().startswith('<div id="run-result"')
    assert "hx-trigger" not in done.text
    assert "badge-success" in done.text and "<dt>Sentiment</dt>" in done.text
    assert json.loads(done.headers["HX-Trigger"]) == {"run-finished": {}}
    # The history and the usage panel listen for it and reload themselves.
    history = client.get(
        f"{_url(personas, task)}?run={run.pk}",
        headers={"HX-Request": "true", "HX-Target": "run-history"},
    )
    assert history.text.lstrip().startswith('<section class="card card-flush"')
    assert ">Succeeded</span>" in history.text
    assert '<li class="current">' in history.text
    usage = client.get(
        f"{_url(personas, task)}?range=24h",
        headers={"HX-Request": "true", "HX-Target": "run-usage"},
    )
    assert "<div><dt>Runs</dt><dd>1</dd></div>" in usage.text


def test_polling_costs_a_fixed_number_of_queries(
    personas, as_user, task, broker, django_assert_num_queries
):
    broker("memory://")
    client = as_user("owner")
    _run(client, personas, task)
    run = TaskRun.objects.get()
    url = f"{_url(personas, task)}?run={run.pk}"
    client.get(url, headers=POLL)
    # 1 session, 2 user, 3 project with role, 4 task, 5 the run with its
    # revision and models.
    with django_assert_num_queries(5):
        client.get(url, headers=POLL)


def test_a_broker_that_is_down_is_an_inline_error_and_nothing_is_kept(
    personas, as_user, task, broker, run_media
):
    broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    client = as_user("editor")
    response = _run(client, personas, task)
    assert response.status_code == 200
    assert "The run queue is not answering" in response.text
    assert ">\nGreat toaster</textarea>" in response.text
    assert not TaskRun.objects.exists()
    # Edits tried while it is down leave no test revision behind either.
    source = task.revisions.get()
    edited = _run(
        client,
        personas,
        task,
        source_revision=str(source.pk),
        user_prompt="Judge {customer_review} again",
    )
    assert "The run queue is not answering" in edited.text
    assert "Judge {customer_review} again" in edited.text
    assert task.revisions.count() == 1
    assert not TaskRun.objects.exists()
    assert not any(run_media.rglob("*.*"))
    page = _run(client, personas, task, headers={})
    assert page.status_code == 503
    assert "The run queue is not answering" in page.text


def test_without_a_broker_the_run_is_done_before_the_answer(personas, as_user, task):
    # The embedded set-up runs Celery tasks in-process (settings: eager).
    response = _run(as_user("viewer"), personas, task)
    run = TaskRun.objects.get()
    assert run.status == TaskRun.Status.SUCCEEDED
    assert 'hx-trigger="load' not in response.text
    assert "badge-success" in response.text


def test_the_form_keeps_the_run_shortcut_and_waits_for_required_inputs(
    personas, as_user, task
):
    page = as_user("viewer").get(_url(personas, task)).text
    assert "data-run-form" in page and "data-run-button" in page
    assert 'name="input_customer_review" id="input-customer_review"' in page
    assert "data-required" in page
    assert 'hx-indicator="#run-indicator"' in page and "Running…" in page
    assert "<kbd>Ctrl</kbd>+<kbd>Enter</kbd>" in page


# Run history ------------------------------------------------------------------------


def test_a_reloaded_run_of_a_revision_no_longer_live_runs_on_it_again(
    personas, as_user, task
):
    client = as_user("editor")
    _run(client, personas, task)
    old = TaskRun.objects.get()
    _task, newer = task_update(
        task=task,
        user=personas.owner,
        revision_fields={"user_prompt": "Rate {customer_review}"},
    )
    task_update(task=task, user=personas.owner, active_revisions=[(newer.pk, None)])
    page = client.get(f"{_url(personas, task)}?run={old.pk}", headers=HX)
    assert f'<option value="{old.task_revision_id}" selected>' in page.text
    assert "not live" in page.text
    assert "Revision 1" in page.text  # the history names each run's revision
    assert ">\nGreat toaster</textarea>" in page.text


def test_history_marks_runs_of_test_revisions(personas, as_user, task):
    client = as_user("editor")
    source = task.revisions.get()
    _run(
        client,
        personas,
        task,
        source_revision=str(source.pk),
        user_prompt="Judge {customer_review}, please",
    )
    page = client.get(_url(personas, task))
    history = page.text.split('id="run-history"')[1]
    assert '<span class="badge badge-warning">Test</span>' in history


# Usage & performance -----------------------------------------------------------------


def _usage(client, personas, task, query=""):
    return client.get(
        f"{_url(personas, task)}{query}",
        headers={"HX-Request": "true", "HX-Target": "run-usage"},
    )


def _rollup(task, *, hours_ago: int, runs: int, errors: int = 0):
    revision = task.revisions.get()
    hour = (timezone.now() - timedelta(hours=hours_ago)).replace(
        minute=0, second=0, microsecond=0
    )
    key = {"task": task, "task_revision": revision, "llm_model": revision.llm_model}
    sums = {
        "runs": runs,
        "errors": errors,
        "input_tokens": 100 * runs,
        "output_tokens": 10 * runs,
        "credits": runs,
        "llm_seconds": 0.5 * runs,
    }
    # Both rollups, as a run writes them (reports read whole days from the daily one).
    HourlyUsage.objects.create(hour=hour, **key, **sums)
    day, _new = DailyUsage.objects.get_or_create(day=hour.replace(hour=0), **key)
    DailyUsage.objects.filter(pk=day.pk).update(
        **{name: F(name) + value for name, value in sums.items()}
    )


def test_the_usage_panel_shows_the_chosen_range(personas, as_user, task):
    _rollup(task, hours_ago=1, runs=3, errors=1)
    _rollup(task, hours_ago=24 * 5, runs=4)
    _rollup(task, hours_ago=24 * 20, runs=5)
    client = as_user("viewer")
    page = client.get(_url(personas, task))
    assert "Usage &amp; performance" in page.text
    assert "<div><dt>Runs</dt><dd>7</dd></div>" in page.text  # 7 days by default
    assert 'data-chart="usage-runs-chart"' in page.text
    assert 'data-chart="usage-latency-chart"' in page.text
    assert "plotly.min.js" in page.text
    for query, runs in (("?range=24h", 3), ("?range=30d", 12), ("?range=5y", 7)):
        fragment = _usage(client, personas, task, query)
        assert fragment.status_code == 200
        assert "<html" not in fragment.text
        assert fragment.text.lstrip().startswith('<section class="card run-usage"')
        assert f"<div><dt>Runs</dt><dd>{runs}</dd></div>" in fragment.text
    day = _usage(client, personas, task, "?range=24h").text
    assert '?range=24h" hx-target="#run-usage" hx-swap="outerHTML" aria-current' in day
    assert "330" in day  # tokens: 300 in + 30 out
    assert "33.3 %" in day  # the error rate
    assert "hour by hour" in day
    assert "usage-tokens-chart" not in day  # the Usage tab has the rest


def test_the_usage_panel_costs_the_same_with_more_data(
    personas, as_user, task, django_assert_num_queries
):
    client = as_user("owner")
    _usage(client, personas, task)
    # 1 session, 2 user, 3 project with role, 4 task, 5 the live revisions,
    # 6 the hourly rollups by bucket and revision, 7 the revisions' names.
    with django_assert_num_queries(7):
        _usage(client, personas, task, "?range=30d")
    for hours_ago in range(0, 24 * 30, 7):
        _rollup(task, hours_ago=hours_ago, runs=1)
    with django_assert_num_queries(7):
        _usage(client, personas, task, "?range=30d")


def test_outsiders_see_no_usage(personas, as_user, task):
    assert _usage(as_user("outsider"), personas, task).status_code == 404


def test_a_spent_project_budget_refuses_a_dashboard_run_with_its_reason(
    personas, as_user, task, broker
):
    broker("memory://")
    personas.project.monthly_credit_budget = 0
    personas.project.save()
    response = _run(as_user("editor"), personas, task)
    assert "The project&#x27;s monthly budget of 0.00 credits is spent" in (
        response.text
    )
    assert not TaskRun.objects.exists()
