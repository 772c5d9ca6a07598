"""Checklist items 101–103: runs delivered to task forwarders.

The destination is a real HTTP server on loopback; runs go through the real
engine (the fake LLM provider) with no broker, as in the embedded set-up, where
deliveries are made on a background thread of the web process: the tests commit
their rows so that thread sees them, and wait for it before they look.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rightbrain.celery import app as celery_app
from runs_app import forwarding
from runs_app.models import TaskRun
from tasks_app.models import ForwarderDelivery

GOOD = {"sentiment": "positive"}
KEY = "sdkjhsfd2sdfkj3223.23rh"

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook destination that answers as scripted (200 when not) and
    records every request."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    _answers: deque[int] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *statuses: int) -> None:
        self._answers.extend(statuses)

    def record(self, request: Received) -> int:
        with self._lock:
            self.received.append(request)
            return self._answers.popleft() if self._answers else 200


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = receiver.record(Received(dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    return Handler


@pytest.fixture(autouse=True)
def deliveries_in_process():
    """Deliveries run in the test's process, as with no broker configured (on
    a background thread, so the tests commit their rows); the real worker path
    over Redis is tests/runs_app/test_worker_services.py."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    # None may outlive the test and write into the next one's tables.
    assert forwarding.in_background.wait(timeout=30)
    conf.task_always_eager, conf.task_eager_propagates = saved


@pytest.fixture
def receiver(settings):
    settings.RB_ALLOW_PRIVATE_URLS = True
    settings.RB_FORWARDER_RETRY_BACKOFF = 0.01
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/runs"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def forwarded_task(run_task, receiver):
    """A task whose revision forwards to the receiver: (client, task, forwarder)."""

    def make(signing_key: str | None = KEY, url: str | None = None):
        client, _ = run_task()
        body: dict[str, Any] = {
            "name": "Webhook",
            "config": {"destination_url": url or receiver.url},
        }
        if signing_key is not None:
            body["config_sensitive"] = {"signing_key": signing_key}
        forwarder = client.post("/task_forwarder", body).json()
        _, task = run_task(name="Forwarded", task_forwarder_id=forwarder["id"])
        return client, task, forwarder

    return make


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a task and let its commit callbacks (the forwarding) happen."""

    def post(client, task, body=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/task/{task['id']}/run", body or {"task_input": {"review": "Great"}}
            )
        assert forwarding.in_background.wait(timeout=30)
        return response

    return post


def _verifies(received: Received, key: str) -> bool:
    """What a receiver does: recompute the HMAC of the raw body and compare."""
    expected = hmac.new(key.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(received.headers["X-Signature"], f"sha256={expected}")


# 102
def test_a_run_is_posted_to_the_destination_signed_with_the_key(
    forwarded_task, run, fake_llm, receiver
):
    client, task, forwarder = forwarded_task()
    fake_llm.answer(GOOD)
    response = run(client, task)
    assert response.status_code == 200
    run_id = response.json()["id"]
    [received] = receiver.received
    assert _verifies(received, KEY)
    assert not _verifies(received, "another key")
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["X-Task-Forwarder-Id"] == forwarder["id"]
    assert received.headers["X-Task-Run-Id"] == run_id
    assert abs(int(received.headers["X-Timestamp"]) - time.time()) < 60
    assert received.headers["Idempotency-Key"]
    # The body is the run exactly as the run API answers it.
    fetched = client.get(f"/task/{task['id']}/run/{run_id}")
    assert received.body == fetched.content
    delivery = ForwarderDelivery.objects.get()
    assert str(delivery.delivery_id) == received.headers["Idempotency-Key"]
    assert (delivery.attempt, delivery.status_code, delivery.error) == (1, 200, "")
    assert delivery.delivered_at is not None
    assert delivery.next_attempt_at is None


# 101
def test_after_the_key_is_updated_the_new_key_signs(
    forwarded_task, run, fake_llm, receiver
):
    client, task, forwarder = forwarded_task()
    fake_llm.answer(GOOD).answer(GOOD)
    run(client, task)
    update = {"config_sensitive": {"signing_key": "the-new-key"}}
    assert client.post(f"/task_forwarder/{forwarder['id']}", update).status_code == 200
    run(client, task)
    first, second = receiver.received
    assert _verifies(first, KEY)
    assert _verifies(second, "the-new-key")
    assert not _verifies(second, KEY)


def test_without_a_signing_key_deliveries_are_unsigned(
    forwarded_task, run, fake_llm, receiver
):
    client, task, _forwarder = forwarded_task(signing_key=None)
    fake_llm.answer(GOOD)
    run(client, task)
    [received] = receiver.received
    assert "X-Signature" not in received.headers


# 103
def test_a_failing_destination_is_retried_three_times_and_the_run_is_unaffected(
    forwarded_task, run, fake_llm, receiver
):
    client, task, _forwarder = forwarded_task()
    receiver.answer(500, 500, 500, 500)
    fake_llm.answer(GOOD)
    response = run(client, task)
    assert response.status_code == 200
    assert response.json()["response"] == GOOD
    assert response.json()["is_error"] is False
    assert TaskRun.objects.get().is_error is False
    assert len(receiver.received) == 4
    assert len({r.headers["Idempotency-Key"] for r in receiver.received}) == 1
    assert [r.headers["X-Delivery-Attempt"] for r in receiver.received] == [
        "1",
        "2",
        "3",
        "4",
    ]
    assert len({r.body for r in receiver.received}) == 1
    assert all(_verifies(r, KEY) for r in receiver.received)
    deliveries = list(ForwarderDelivery.objects.order_by("attempt"))
    assert [d.attempt for d in deliveries] == [1, 2, 3, 4]
    assert [d.status_code for d in deliveries] == [500, 500, 500, 500]
    assert all(d.delivered_at is None for d in deliveries)
    assert all("500" in d.error for d in deliveries)
    # Backoff: 1×, 6× and 30× the base before each retry; none after the last.
    pauses = [
        None
        if d.next_attempt_at is None
        else round((d.next_attempt_at - d.created).total_seconds(), 2)
        for d in deliveries
    ]
    assert pauses == [0.01, 0.06, 0.3, None]


def test_a_destination_that_recovers_gets_no_more_attempts(
    forwarded_task, run, fake_llm, receiver
):
    client, task, _forwarder = forwarded_task()
    receiver.answer(503, 200)
    fake_llm.answer(GOOD)
    run(client, task)
    assert len(receiver.received) == 2
    deliveries = list(ForwarderDelivery.objects.order_by("attempt"))
    assert [d.status_code for d in deliveries] == [503, 200]
    assert deliveries[-1].delivered_at is not None


def test_an_unreachable_destination_is_logged_and_the_run_is_unaffected(
    forwarded_task, run, fake_llm
):
    # Nothing listens on port 9 of loopback (discard): the connection is refused.
    client, task, _forwarder = forwarded_task(url="http://127.0.0.1:9/hook")
    fake_llm.answer(GOOD)
    response = run(client, task)
    assert response.status_code == 200
    deliveries = list(ForwarderDelivery.objects.order_by("attempt"))
    assert len(deliveries) == 4
    assert all(d.status_code is None and d.error for d in deliveries)


def test_a_destination_that_became_private_is_refused_at_delivery(
    forwarded_task, run, fake_llm, receiver, settings
):
    client, task, _forwarder = forwarded_task()
    settings.RB_ALLOW_PRIVATE_URLS = False
    fake_llm.answer(GOOD)
    assert run(client, task).status_code == 200
    assert receiver.received == []
    deliveries = list(ForwarderDelivery.objects.all())
    assert len(deliveries) == 4
    assert all("is not allowed" in d.error for d in deliveries)


def test_a_destination_that_rebinds_to_loopback_receives_nothing(
    forwarded_task, run, fake_llm, receiver, settings, fake_dns
):
    """DNS rebinding: the destination's name answers a public address first
    and loopback afterwards; no delivery reaches loopback."""
    port = receiver.url.split(":")[2].split("/")[0]
    client, task, _forwarder = forwarded_task(
        url=f"http://rebind.test:{port}/hooks/runs"
    )
    settings.RB_ALLOW_PRIVATE_URLS = False
    settings.RB_FORWARDER_TIMEOUT = 2
    fake_dns.answer("rebind.test", ["93.184.216.34"], ["127.0.0.1"])
    fake_llm.answer(GOOD)
    assert run(client, task).status_code == 200
    assert receiver.received == []
    deliveries = list(ForwarderDelivery.objects.order_by("attempt"))
    assert len(deliveries) == 4
    assert all(d.delivered_at is None for d in deliveries)
    # Later attempts resolve the name again, see loopback and say only that.
    assert "The address of rebind.test is not allowed" in deliveries[-1].error
    assert not any("127.0.0.1" in d.error for d in deliveries)
    # The first attempt went to the public address it vetted, and no further.
    assert fake_dns.connects == ["93.184.216.34"]


def test_a_key_that_can_no_longer_be_decrypted_stops_the_delivery(
    forwarded_task, run, fake_llm, receiver, settings
):
    client, task, _forwarder = forwarded_task()
    settings.RB_ENCRYPTION_KEY = "a key the forwarder was not encrypted with"
    fake_llm.answer(GOOD)
    assert run(client, task).status_code == 200
    assert receiver.received == []
    [delivery] = ForwarderDelivery.objects.all()
    assert "signing key" in delivery.error
    assert delivery.next_attempt_at is None


def test_failed_runs_are_forwarded_too(forwarded_task, run, fake_llm, receiver):
    client, task, _forwarder = forwarded_task()
    for _ in range(8):
        fake_llm.answer({"wrong": "shape"})
    response = run(client, task)
    assert response.status_code == 500
    [received] = receiver.received
    run_id = str(TaskRun.objects.get().pk)
    assert received.headers["X-Task-Run-Id"] == run_id
    assert b'"is_error": true' in received.body


def test_a_run_without_a_forwarder_posts_nothing(run_task, run, fake_llm, receiver):
    client, task = run_task()
    fake_llm.answer(GOOD)
    assert run(client, task).status_code == 200
    assert receiver.received == []
    assert not ForwarderDelivery.objects.exists()


# The delivery log -------------------------------------------------------------------


def test_the_delivery_log_lists_every_attempt_and_no_secret(
    forwarded_task, run, fake_llm, receiver
):
    client, task, forwarder = forwarded_task()
    receiver.answer(500)
    fake_llm.answer(GOOD)
    run_id = run(client, task).json()["id"]
    response = client.get(f"/task/{task['id']}/run/{run_id}/forwarder_delivery")
    assert response.status_code == 200
    log = response.json()["results"]
    assert [(d["attempt"], d["status_code"]) for d in log] == [(1, 500), (2, 200)]
    assert {d["task_forwarder_id"] for d in log} == {forwarder["id"]}
    assert {d["task_run_id"] for d in log} == {run_id}
    assert log[0]["next_attempt_at"] is not None
    assert log[1]["delivered_at"] is not None
    assert log[1]["error"] is None
    for raw in (
        response.content,
        client.get(f"/task_forwarder/{forwarder['id']}").content,
        client.get("/task_forwarder").content,
        client.get(f"/task/{task['id']}").content,
        client.get(f"/task/{task['id']}/run/{run_id}").content,
    ):
        assert KEY.encode() not in raw


def test_the_delivery_log_follows_the_run_visibility(
    forwarded_task, run, fake_llm, api
):
    client, task, _forwarder = forwarded_task()
    fake_llm.answer(GOOD)
    run_id = run(client, task).json()["id"]
    path = f"/task/{task['id']}/run/{run_id}/forwarder_delivery"
    assert client.get(path).status_code == 200
    # owner_only: a viewer sees only their own runs.
    assert api("viewer").get(path).status_code == 403
    assert api("outsider").get(path).status_code == 404
    assert api(None).get(path).status_code == 401
    unknown = "01900000-0000-7000-8000-000000000000"
    missing = f"/task/{task['id']}/run/{unknown}/forwarder_delivery"
    assert client.get(missing).status_code == 404


def test_deleting_the_task_removes_its_delivery_log(
    forwarded_task, run, fake_llm, receiver
):
    client, task, forwarder = forwarded_task()
    fake_llm.answer(GOOD)
    run(client, task)
    assert ForwarderDelivery.objects.exists()
    assert client.delete(f"/task/{task['id']}").status_code == 200
    assert not ForwarderDelivery.objects.exists()
    assert client.delete(f"/task_forwarder/{forwarder['id']}").status_code == 200


def test_the_delivery_log_queries_do_not_grow_with_attempts(
    forwarded_task, run, fake_llm, receiver, django_assert_num_queries
):
    client, task, _forwarder = forwarded_task()
    receiver.answer(500, 500, 500)
    fake_llm.answer(GOOD).answer(GOOD)
    retried = run(client, task).json()["id"]
    once = run(client, task).json()["id"]
    client.get(f"/task/{task['id']}/run/{once}/forwarder_delivery")  # warm the key
    # 1 key with user, project and role, 2 task, 3 caller's grants, 4 run,
    # 5 deliveries
    with django_assert_num_queries(5):
        short = client.get(f"/task/{task['id']}/run/{once}/forwarder_delivery")
    with django_assert_num_queries(5):
        long = client.get(f"/task/{task['id']}/run/{retried}/forwarder_delivery")
    assert len(short.json()["results"]) == 1
    assert len(long.json()["results"]) == 4


# Without a broker -----------------------------------------------------------------


@pytest.fixture
def hanging_url(settings):
    """A destination that takes every request and never answers it."""
    settings.RB_ALLOW_PRIVATE_URLS = True
    settings.RB_FORWARDER_RETRY_BACKOFF = 0.01
    released = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            released.wait(timeout=30)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/runs"
    released.set()
    server.shutdown()
    server.server_close()


def test_a_run_returns_at_once_while_its_destination_hangs(
    forwarded_task, fake_llm, hanging_url, settings, django_capture_on_commit_callbacks
):
    # Four attempts of one second each: seconds the request would have waited.
    settings.RB_FORWARDER_TIMEOUT = 1
    client, task, _forwarder = forwarded_task(url=hanging_url)
    fake_llm.answer(GOOD)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/task/{task['id']}/run", {"task_input": {"review": "Great"}}
        )
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["response"] == GOOD
    assert elapsed < 1
    # On a daemon thread: a server that stops does not wait out the retries.
    delivering = [t for t in threading.enumerate() if t.name.startswith("forwarder-")]
    assert delivering and all(thread.daemon for thread in delivering)
    # The attempts go on after the response, each ending in the timeout.
    assert forwarding.in_background.wait(timeout=30)
    deliveries = list(ForwarderDelivery.objects.order_by("attempt"))
    assert [d.attempt for d in deliveries] == [1, 2, 3, 4]
    assert all("Timeout" in d.error and d.status_code is None for d in deliveries)
    assert all(d.delivered_at is None for d in deliveries)
