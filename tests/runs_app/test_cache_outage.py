"""With Redis down the cache is skipped, not fatal: tasks are read from the
database, runs go ahead (synchronous and queued), the circuit breaker and rate
limits let traffic through, and a warning is logged. When Redis comes back,
nothing cached before the outage is served stale."""

from __future__ import annotations

import logging
import os
import socket
import time
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from runs_app.models import TaskRun
from tests.helpers import PASSWORD, make_user, need_service
from tests.redis_outage import RedisRelay

GOOD = {"sentiment": "positive"}
UNREACHABLE = "the cache is unreachable"


def _redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "rightbrain.cache_safe.DegradingRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def cache_down(settings, caplog):
    """The cache is a Redis on a loopback port nothing listens on."""
    settings.CACHES = _redis_cache("redis://127.0.0.1:1/0")
    caplog.set_level(logging.WARNING, logger="rightbrain.cache_safe")
    return caplog


def _cache_warnings(caplog) -> list[logging.LogRecord]:
    records = caplog.get_records("setup") + caplog.get_records("call")
    return [
        record
        for record in records
        if record.name == "rightbrain.cache_safe" and UNREACHABLE in record.message
    ]


def _run(client, task, query=""):
    path = f"/task/{task['id']}/run" + query
    return client.post(path, {"task_input": {"review": "Great"}})


def test_tasks_are_listed_read_and_run_with_the_cache_down(
    cache_down, run_task, fake_llm
):
    client, task = run_task()
    assert client.get("/task").json()["results"][0]["id"] == task["id"]
    assert client.get(f"/task/{task['id']}").json()["name"] == "Sentiment"
    fake_llm.answer(GOOD)
    run = _run(client, task)
    assert run.status_code == 200
    assert run.json()["response"] == GOOD
    # Logged once, however many cache calls failed.
    assert len(_cache_warnings(cache_down)) == 1


def test_an_async_run_is_queued_with_only_the_cache_down(cache_down, run_task, broker):
    broker("memory://")  # a real transport nobody consumes: the run waits
    client, task = run_task()
    response = _run(client, task, "?async=true")
    assert response.status_code == 202, response.content
    assert TaskRun.objects.get().status == TaskRun.Status.QUEUED


def test_an_async_run_is_a_503_when_the_broker_is_down_too(
    cache_down, run_task, broker
):
    broker("redis://127.0.0.1:1/0")
    client, task = run_task()
    response = _run(client, task, "?async=true")
    assert response.status_code == 503
    assert response.json()["msg"] == "The run queue is unavailable."
    assert not TaskRun.objects.exists()


def test_without_the_cache_the_circuit_stays_closed_and_runs_fall_back(
    cache_down, run_task, fake_llm, served
):
    client, task = run_task(fallback_llm_model_id=str(served[1].pk))
    for _attempt in range(2):
        for _ in range(4):
            fake_llm.fail(500)
        fake_llm.answer(GOOD)
        run = _run(client, task)
        assert run.status_code == 200
        assert run.json()["used_fallback_model"] is True
    # With nothing counted the circuit never opens: each run tried its primary
    # (with a cache, the second run goes straight to the fallback).
    models = [request["model"] for request in fake_llm.requests]
    assert models == (["primary"] * 4 + ["backup"]) * 2


def test_rate_limits_let_requests_through_with_the_cache_down(
    cache_down, run_task, settings
):
    settings.RB_API_REQUESTS_PER_MINUTE = 1
    client, task = run_task()
    assert all(client.get("/task").status_code == 200 for _ in range(4))
    assert _cache_warnings(cache_down)


def test_the_dashboard_run_page_works_with_the_cache_down(
    cache_down, run_task, personas, as_user, fake_llm
):
    _client, task = run_task()
    url = reverse("task_run", args=[personas.project.pk, task["id"]])
    client = as_user("editor")
    page = client.get(url)
    assert page.status_code == 200
    assert "Sentiment" in page.text
    fake_llm.answer(GOOD)
    ran = client.post(url, {"input_review": "Great"})
    assert ran.status_code == 302
    assert "positive" in client.get(ran["Location"]).text


def test_without_the_cache_the_task_list_costs_the_same_few_queries(
    cache_down, run_task, django_assert_num_queries
):
    client, _task = run_task()
    client.get("/task")  # stamps last_used on the key
    # 1 key with user, project and role, 2 page of tasks with the total count,
    # 3 caller's grants, then what the cache would have held: 4 tasks,
    # 5 revisions + models, 6 revision tags, 7 model comments, 8 active
    # revisions, 9 task tags.
    with django_assert_num_queries(9):
        client.get("/task")
    for number in range(5):
        run_task(name=f"Sentiment {number}")
    with django_assert_num_queries(9):
        assert len(client.get("/task").json()["results"]) == 6


def test_a_redis_that_hangs_costs_one_timeout_not_one_per_call(
    settings, run_task, caplog
):
    # A loopback listener that accepts connections and never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    try:
        settings.CACHES = _redis_cache(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        client, task = run_task()
        started = time.monotonic()
        assert client.get(f"/task/{task['id']}").status_code == 200
        # A read of a task makes several cache calls (its rate limits, the
        # versions, the snapshot), each of which would wait 0.5 s.
        assert time.monotonic() - started < 0.5
    finally:
        silent.close()


def test_people_sign_in_with_the_cache_down(db, cache_down, client):
    # allauth counts failed sign-ins in the cache itself.
    make_user("lin@example.test")
    login = reverse("account_login")
    wrong = client.post(login, {"login": "lin@example.test", "password": "nope"})
    assert wrong.status_code == 200
    assert "not correct" in wrong.text
    right = client.post(login, {"login": "lin@example.test", "password": PASSWORD})
    assert right.status_code == 302
    assert _cache_warnings(cache_down)


# Redis comes back ------------------------------------------------------------


@pytest.fixture
def redis_relay(settings):
    """The real Redis (its REDIS_URL database) behind a relay the test can
    stop and start; the cache is retried on every call, as if the pause after
    a failure had passed."""
    url = os.environ.get("REDIS_URL")
    need_service(bool(url), "REDIS_URL is not set")
    parts = urlsplit(url)
    relay = RedisRelay(parts.hostname or "127.0.0.1", parts.port or 6379)
    relay.start()
    settings.CACHES = _redis_cache(relay.url(int(parts.path.lstrip("/") or 0)))
    settings.RB_CACHE_RETRY_SECONDS = 0
    yield relay
    relay.stop()


def test_a_tag_renamed_while_redis_was_down_is_not_served_stale_after(
    redis_relay, run_task
):
    client, task = run_task()
    tag = client.post("/task/tag", {"name": "billing", "entity_type": "task"}).json()
    client.post(f"/task/{task['id']}", {"tags": [tag["id"]]})

    def tag_names() -> list[str]:
        return [t["name"] for t in client.get(f"/task/{task['id']}").json()["tags"]]

    assert tag_names() == ["billing"]  # now cached in Redis
    assert tag_names() == ["billing"]

    redis_relay.stop()
    renamed = client.post(f"/task/tag/{tag['id']}", {"name": "invoices"})
    assert renamed.status_code == 200
    assert tag_names() == ["invoices"]

    redis_relay.start()
    assert tag_names() == ["invoices"]
    assert [t["name"] for t in client.get("/task").json()["results"][0]["tags"]] == [
        "invoices"
    ]
