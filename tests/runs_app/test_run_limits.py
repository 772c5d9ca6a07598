"""Runs per minute per credential and per project (rightbrain/orgs/limits.py)."""

from __future__ import annotations

import pytest

from rightbrain.orgs.services import api_key_create
from runs_app.models import TaskRun
from tests.helpers import ApiClient, room_in_this_minute

GOOD = {"sentiment": "positive"}
INPUT = {"task_input": {"review": "Great"}}


@pytest.fixture(autouse=True)
def _one_window(settings):
    room_in_this_minute()
    settings.RB_API_RUNS_PER_MINUTE = 2
    settings.RB_PROJECT_RUNS_PER_MINUTE = 100


def test_a_key_makes_exactly_its_runs_per_minute_then_gets_429(run_task, fake_llm):
    client, task = run_task()
    for _ in range(2):
        fake_llm.answer(GOOD)
        assert client.post(f"/task/{task['id']}/run", INPUT).status_code == 200
    refused = client.post(f"/task/{task['id']}/run", INPUT)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["detail"].startswith("This API key may make 2 runs a minute")
    # Nothing of the refused run was recorded or sent to the model.
    assert TaskRun.objects.count() == 2
    assert len(fake_llm.requests) == 2
    # Reading is limited by requests per minute, not runs.
    assert client.get(f"/task/{task['id']}/run").status_code == 200


def test_queued_runs_count_too(run_task, fake_llm, broker):
    broker("memory://")
    client, task = run_task()
    for _ in range(2):
        accepted = client.post(f"/task/{task['id']}/run?async=true", INPUT)
        assert accepted.status_code == 202
    refused = client.post(f"/task/{task['id']}/run?async=true", INPUT)
    assert refused.status_code == 429
    assert TaskRun.objects.count() == 2


def test_a_task_token_has_its_own_count_and_the_project_counts_all(
    run_task, fake_llm, settings, personas, project_base
):
    settings.RB_PROJECT_RUNS_PER_MINUTE = 3
    client, task = run_task()
    token = ApiClient(task["access_token"], project_base)
    for caller in (client, client, token):
        fake_llm.answer(GOOD)
        assert caller.post(f"/task/{task['id']}/run", INPUT).status_code == 200
    _other, secret = api_key_create(
        project=personas.project, user=personas.editor, name="second"
    )
    refused = ApiClient(secret, project_base).post(f"/task/{task['id']}/run", INPUT)
    assert refused.status_code == 429
    assert "This project may make 3 runs a minute" in refused.json()["detail"]


def test_a_keys_own_runs_per_minute_overrides_the_setting(
    run_task, fake_llm, personas, project_base
):
    _client, task = run_task()
    api_key, secret = api_key_create(
        project=personas.project, user=personas.editor, name="batch"
    )
    api_key.runs_per_minute = 3
    api_key.save()
    batch = ApiClient(secret, project_base)
    for _ in range(3):
        fake_llm.answer(GOOD)
        assert batch.post(f"/task/{task['id']}/run", INPUT).status_code == 200
    assert batch.post(f"/task/{task['id']}/run", INPUT).status_code == 429


def test_a_limit_of_one_reads_as_one_run(run_task, fake_llm, settings):
    settings.RB_API_RUNS_PER_MINUTE = 1
    client, task = run_task()
    fake_llm.answer(GOOD)
    assert client.post(f"/task/{task['id']}/run", INPUT).status_code == 200
    refused = client.post(f"/task/{task['id']}/run", INPUT)
    assert refused.json()["detail"].startswith("This API key may make 1 run a minute;")
