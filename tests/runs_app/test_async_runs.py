"""Asynchronous runs: `?async=true` answers 202 with a queued run that a
worker completes; a broker that cannot take the run is a 503 with nothing kept."""

from __future__ import annotations

from rightbrain.celery import app as celery_app
from runs_app.models import HourlyUsage, TaskRun
from runs_app.services import run_complete_queued

GOOD = {"sentiment": "positive"}
INPUT = {"task_input": {"review": "Great"}}


def test_an_async_run_is_queued_then_completed_by_the_worker(
    run_task, fake_llm, broker
):
    broker("memory://")  # a real transport nobody consumes: the run waits
    client, task = run_task()
    fake_llm.answer(GOOD, prompt_tokens=10, completion_tokens=2)
    response = client.post(f"/task/{task['id']}/run?async=true", INPUT)
    assert response.status_code == 202
    queued = response.json()
    assert queued["status"] == "queued"
    assert queued["response"] is None
    assert queued["run_data"] == {"submitted": {"review": "Great"}}
    assert not fake_llm.requests
    assert not HourlyUsage.objects.exists()

    fetched = client.get(f"/task/{task['id']}/run/{queued['id']}").json()
    assert fetched["status"] == "queued"

    run_complete_queued(run_id=queued["id"])  # what the worker does

    done = client.get(f"/task/{task['id']}/run/{queued['id']}").json()
    assert done["status"] == "succeeded"
    assert done["is_error"] is False
    assert done["response"] == GOOD
    assert done["input_tokens"] == 10
    assert HourlyUsage.objects.get().runs == 1
    assert TaskRun.objects.count() == 1


def test_a_run_delivered_twice_runs_once(run_task, fake_llm, broker):
    broker("memory://")
    client, task = run_task()
    fake_llm.answer(GOOD).answer(GOOD)
    run_id = client.post(f"/task/{task['id']}/run?async=true", INPUT).json()["id"]
    assert run_complete_queued(run_id=run_id) is not None
    assert run_complete_queued(run_id=run_id) is None
    assert len(fake_llm.requests) == 1
    assert HourlyUsage.objects.get().runs == 1


def test_a_failing_provider_ends_the_async_run_as_failed(
    run_task, fake_llm, broker, settings
):
    settings.RB_LLM_ATTEMPTS = 2
    broker("memory://")
    client, task = run_task()
    fake_llm.fail(500).fail(500)
    run_id = client.post(f"/task/{task['id']}/run?async=true", INPUT).json()["id"]
    run_complete_queued(run_id=run_id)
    done = client.get(f"/task/{task['id']}/run/{run_id}").json()
    assert done["status"] == "failed"
    assert done["is_error"] is True
    assert "provider failed" in done["response"]["error"]
    assert client.get(f"/task/{task['id']}/run?status=error").json()["results"]


def test_queued_runs_are_neither_successes_nor_errors_in_the_list(run_task, broker):
    broker("memory://")
    client, task = run_task()
    client.post(f"/task/{task['id']}/run?async=true", INPUT)
    assert len(client.get(f"/task/{task['id']}/run").json()["results"]) == 1
    assert client.get(f"/task/{task['id']}/run?status=success").json()["results"] == []
    assert client.get(f"/task/{task['id']}/run?status=error").json()["results"] == []


def test_without_a_broker_an_async_run_completes_in_process(run_task, fake_llm):
    # The embedded set-up (no REDIS_URL) runs Celery tasks eagerly.
    conf = celery_app.conf
    saved = conf.task_always_eager
    conf.task_always_eager = True
    try:
        client, task = run_task()
        fake_llm.answer(GOOD)
        response = client.post(f"/task/{task['id']}/run?async=true", INPUT)
    finally:
        conf.task_always_eager = saved
    assert response.status_code == 202
    assert response.json()["status"] == "succeeded"
    assert response.json()["response"] == GOOD


def test_bad_input_is_refused_before_anything_is_queued(run_task, fake_llm, broker):
    broker("memory://")
    client, task = run_task()
    response = client.post(
        f"/task/{task['id']}/run?async=true", {"task_input": {"other": 1}}
    )
    assert response.status_code == 422
    assert not TaskRun.objects.exists()


def test_an_unreachable_broker_is_a_503_and_nothing_is_kept(
    run_task, fake_llm, broker, run_media
):
    broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    client, task = run_task()
    response = client.post(f"/task/{task['id']}/run?async=true", INPUT)
    assert response.status_code == 503
    assert response.json()["type"] == "server_error"
    assert "nothing was queued" in response.json()["detail"]
    assert not TaskRun.objects.exists()
    assert not any(run_media.rglob("*.*"))
    assert not fake_llm.requests
