"""Monthly credit budgets of a project and of an API key (runs_app/budgets.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rightbrain.orgs.models import ApiKey
from rightbrain.orgs.services import api_key_create
from runs_app.budgets import month_after, month_of
from runs_app.models import ApiKeyMonthlyUsage, DailyUsage, TaskRun
from tests.helpers import ApiClient

GOOD = {"sentiment": "positive"}
INPUT = {"task_input": {"review": "Great"}}


def _answer(fake_llm):
    # 2051 in / 130 out at $3 / $15 per million: 8.10 credits.
    fake_llm.answer(GOOD, prompt_tokens=2051, completion_tokens=130)


def _run(client, task, query=""):
    return client.post(f"/task/{task['id']}/run{query}", INPUT)


def _next_month_start() -> str:
    return f"{month_after(month_of(timezone.now())):%Y-%m-%d}"


def test_a_spent_project_budget_refuses_runs_with_402(run_task, fake_llm, personas):
    client, task = run_task()
    personas.project.monthly_credit_budget = Decimal("8.10")
    personas.project.save()
    _answer(fake_llm)
    assert _run(client, task).status_code == 200

    refused = _run(client, task)
    assert refused.status_code == 402
    body = refused.json()
    assert body["type"] == "authorization_error"
    assert body["detail"] == (
        "The project's monthly budget of 8.10 credits is spent (8.10 credits this "
        f"month). Runs resume on {_next_month_start()} at 00:00 UTC, or when an "
        "owner or admin raises the budget."
    )
    # Nothing recorded, nothing sent to the model.
    assert TaskRun.objects.count() == 1
    assert len(fake_llm.requests) == 1


def test_a_project_budget_not_yet_reached_lets_runs_through(
    run_task, fake_llm, personas
):
    client, task = run_task()
    personas.project.monthly_credit_budget = Decimal("16.21")
    personas.project.save()
    for _ in range(2):
        _answer(fake_llm)
        assert _run(client, task).status_code == 200  # 8.10, then 16.20
    _answer(fake_llm)
    assert _run(client, task).status_code == 200  # 16.20 < 16.21: one more
    assert _run(client, task).status_code == 402


def test_last_months_spend_does_not_count(run_task, fake_llm, personas):
    client, task = run_task()
    personas.project.monthly_credit_budget = Decimal("5")
    personas.project.save()
    _answer(fake_llm)
    assert _run(client, task).status_code == 200
    assert _run(client, task).status_code == 402
    # Move the month's spend to last month, as if the month had turned.
    last_month = datetime(2020, 1, 1, tzinfo=UTC)
    DailyUsage.objects.update(day=last_month)
    _answer(fake_llm)
    assert _run(client, task).status_code == 200


def test_a_spent_key_budget_refuses_that_key_only(
    run_task, fake_llm, personas, project_base
):
    _client, task = run_task()
    capped, capped_secret = api_key_create(
        project=personas.project, user=personas.editor, name="capped"
    )
    capped.monthly_credit_budget = Decimal("1.00")
    capped.save()
    capped_client = ApiClient(capped_secret, project_base)
    _answer(fake_llm)
    assert _run(capped_client, task).status_code == 200

    refused = _run(capped_client, task)
    assert refused.status_code == 402
    assert refused.json()["detail"].startswith(
        "This API key's monthly budget of 1.00 credits is spent (8.10 credits this "
        f"month). Its runs resume on {_next_month_start()}"
    )
    _other, secret = api_key_create(
        project=personas.project, user=personas.editor, name="other"
    )
    _answer(fake_llm)
    assert _run(ApiClient(secret, project_base), task).status_code == 200


def test_a_key_budget_of_zero_refuses_every_run(
    run_task, fake_llm, personas, project_base
):
    _client, task = run_task()
    frozen, secret = api_key_create(
        project=personas.project, user=personas.editor, name="frozen"
    )
    frozen.monthly_credit_budget = Decimal(0)
    frozen.save()
    assert _run(ApiClient(secret, project_base), task).status_code == 402
    assert not fake_llm.requests


def test_an_async_run_is_refused_before_it_is_queued(
    run_task, fake_llm, personas, broker
):
    broker("memory://")
    client, task = run_task()
    personas.project.monthly_credit_budget = Decimal(0)
    personas.project.save()
    assert _run(client, task, "?async=true").status_code == 402
    assert not TaskRun.objects.exists()


def test_a_keys_month_adds_up_its_runs_and_only_its_runs(
    run_task, fake_llm, personas, project_base
):
    client, task = run_task()
    for _ in range(2):
        _answer(fake_llm)
        assert _run(client, task).status_code == 200
    _answer(fake_llm)
    token = ApiClient(task["access_token"], project_base)
    assert _run(token, task).status_code == 200  # a task token: no key

    key = ApiKey.objects.get(name="tests")
    month = ApiKeyMonthlyUsage.objects.get()
    assert (month.api_key, month.month, month.runs) == (
        key,
        month_of(timezone.now()),
        2,
    )
    # Two runs of 8.103 credits, summed unrounded.
    assert month.credits == Decimal("16.206")
    assert set(TaskRun.objects.values_list("api_key_id", flat=True)) == {key.pk, None}


@pytest.mark.parametrize("budgets", ["project", "key", "both"])
def test_a_set_budget_costs_one_small_read_before_the_run(
    run_task, fake_llm, personas, budgets
):
    """Without budgets the run's queries are unchanged (test_run_api pins
    them); each budget set adds one read: the project's daily rollups summed
    for the month, or the key's one monthly row."""
    client, task = run_task()
    key = ApiKey.objects.get(name="tests")
    if budgets in ("project", "both"):
        personas.project.monthly_credit_budget = Decimal(1000)
        personas.project.save()
    if budgets in ("key", "both"):
        key.monthly_credit_budget = Decimal(1000)
        key.save()
    for _ in range(2):  # the first run caches the active revisions
        _answer(fake_llm)
        assert _run(client, task).status_code == 200
    _answer(fake_llm)
    with CaptureQueriesContext(connection) as queries:
        assert _run(client, task).status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    budget_reads = [
        sql
        for sql in reads
        if sql.startswith("SELECT")
        and ("runs_app_dailyusage" in sql or "runs_app_apikeymonthlyusage" in sql)
    ]
    assert len(budget_reads) == {"project": 1, "key": 1, "both": 2}[budgets]
