"""Delivering runs to task forwarders (api.md §8).

Once a run of a revision that names a forwarder is recorded, `enqueue` hands it
to the `forward_run` Celery task (with no broker configured: to a background
thread of this process, see `in_background`), which POSTs the run (the very
JSON the run API answers) to the forwarder's destination, signed with its key.
A destination that does not answer 2xx gets three more tries after growing
pauses. Every attempt is logged as a ForwarderDelivery; none of it changes the run.

Receivers verify `X-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body
under the signing key, and may drop repeats by `Idempotency-Key`, which all
attempts of one delivery share.

The run API and the Celery tasks are imported as modules, not names: both
import this module back (the API through the run service).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import httpx
from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone
from ninja.responses import NinjaJSONEncoder

from rightbrain import outbound
from rightbrain.ids import uuid7
from runs_app import api as runs_api
from runs_app import tasks as runs_tasks
from runs_app.models import TaskRun
from tasks_app import selectors as tasks_selectors
from tasks_app.models import ForwarderDelivery, TaskForwarder

# The pause before each retry, as a multiple of RB_FORWARDER_RETRY_BACKOFF:
# 10 s, 60 s and 300 s at the default (api.md §8).
RETRY_FACTORS = (1, 6, 30)
MAX_ATTEMPTS = 1 + len(RETRY_FACTORS)
USER_AGENT = "Rightbrain-Forwarder/1"

logger = logging.getLogger(__name__)


def enqueue(run: TaskRun) -> None:
    """Queue the delivery of a recorded run, if its revision names a forwarder."""
    forwarder_id = run.task_revision.task_forwarder_id
    if forwarder_id is None:
        return
    delivery = (str(run.pk), str(forwarder_id), str(uuid7()))
    if runs_tasks.forward_run.app.conf.task_always_eager:
        in_background.submit(*delivery)
    else:
        runs_tasks.forward_run.delay(*delivery)


class BackgroundDeliveries:
    """Deliveries made on threads of this process, for the embedded set-up.

    With no broker, Celery runs a task in the caller, here the request that
    made the run: a destination that hangs would hold it for four timeouts and
    the pauses between them. Here every attempt and pause happens off the
    request instead. The threads are daemons, so a process that stops does not
    wait out minutes of pauses: nothing queued survives a restart without a
    broker, and neither do these.
    """

    def __init__(self) -> None:
        self._pending: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def submit(self, task_run_id: str, forwarder_id: str, delivery_id: str) -> None:
        thread = threading.Thread(
            target=self._deliver,
            args=(task_run_id, forwarder_id, delivery_id),
            name=f"forwarder-{delivery_id}",
            daemon=True,
        )
        with self._lock:
            self._pending.add(thread)
        thread.start()

    def wait(self, timeout: float) -> bool:
        """Wait for the deliveries under way to end (a shutdown hook may, and
        tests do); False when some are still going after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            pending = set(self._pending)
        for thread in pending:
            thread.join(max(deadline - time.monotonic(), 0))
        return not any(thread.is_alive() for thread in pending)

    def _deliver(self, task_run_id: str, forwarder_id: str, delivery_id: str) -> None:
        try:
            attempt = 1
            while True:
                retry_in = delivery_attempt(
                    task_run_id=UUID(task_run_id),
                    forwarder_id=UUID(forwarder_id),
                    delivery_id=UUID(delivery_id),
                    attempt=attempt,
                )
                # The thread's own connections, which Django does not close
                # for it: none is held through a pause of minutes.
                connections.close_all()
                if retry_in is None:
                    return
                time.sleep(retry_in)
                attempt += 1
        except Exception:
            # A worker would log it; here nobody else would see it.
            logger.exception("Delivering run %s to its forwarder failed", task_run_id)
        finally:
            connections.close_all()
            with self._lock:
                self._pending.discard(threading.current_thread())


in_background = BackgroundDeliveries()


def signature(key: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def run_body(run: TaskRun) -> bytes:
    """The run exactly as `GET .../task/{task_id}/run/{task_run_id}` answers it."""
    project = run.task.project
    base = runs_api._base(project.organization_id, project.pk)
    return json.dumps(runs_api.run_out(run, base), cls=NinjaJSONEncoder).encode()


def retry_delay(attempt: int) -> float | None:
    """Seconds between attempt number `attempt` and the next; None after the last."""
    if attempt >= MAX_ATTEMPTS:
        return None
    return settings.RB_FORWARDER_RETRY_BACKOFF * RETRY_FACTORS[attempt - 1]


@dataclass
class _Answer:
    status_code: int | None = None
    error: str = ""
    # Another attempt cannot help when the key itself is unreadable.
    retryable: bool = True

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _post(
    run: TaskRun, forwarder: TaskForwarder, *, delivery_id: UUID, attempt: int
) -> _Answer:
    sensitive = tasks_selectors.forwarder_sensitive_config(forwarder=forwarder)
    if sensitive is None:
        return _Answer(
            error="The signing key can no longer be decrypted (RB_ENCRYPTION_KEY "
            "or SECRET_KEY changed); set it again on the forwarder.",
            retryable=False,
        )
    body = run_body(run)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Task-Forwarder-Id": str(forwarder.pk),
        "X-Task-Run-Id": str(run.pk),
        "X-Timestamp": str(int(time.time())),
        "X-Delivery-Attempt": str(attempt),
        "Idempotency-Key": str(delivery_id),
    }
    if sensitive.get("signing_key"):
        headers["X-Signature"] = signature(sensitive["signing_key"], body)
    try:
        # Redirects are not followed: a POST has no safe meaning after one, and
        # the destination is what its owner configured.
        with outbound.client(
            timeout=settings.RB_FORWARDER_TIMEOUT, follow_redirects=False
        ) as client:
            response = client.post(
                forwarder.destination_url, content=body, headers=headers
            )
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return _Answer(error=f"{type(error).__name__}: {error}"[:1000])
    answer = _Answer(status_code=response.status_code)
    if not answer.delivered:
        answer.error = f"The destination answered {response.status_code}."
    return answer


def delivery_attempt(
    *, task_run_id: UUID, forwarder_id: UUID, delivery_id: UUID, attempt: int
) -> float | None:
    """Make attempt number `attempt` of a delivery and log it.

    Returns the seconds to wait before the next attempt, or None when there is
    none to make (delivered, out of attempts, or nothing left to deliver).
    """
    run = (
        TaskRun.objects.select_related(
            "task__project", "task_revision", "reporting_group"
        )
        .prefetch_related("files")
        .filter(pk=task_run_id)
        .first()
    )
    forwarder = TaskForwarder.objects.filter(pk=forwarder_id).first()
    if run is None or forwarder is None:
        # Deleted meanwhile, with their task.
        return None
    made = ForwarderDelivery.objects.filter(
        Q(attempt=attempt) | Q(delivered_at__isnull=False), delivery_id=delivery_id
    )
    if made.exists():
        # A redelivered message (workers acknowledge late): already done.
        return None
    answer = _post(run, forwarder, delivery_id=delivery_id, attempt=attempt)
    retry_in = None
    if not answer.delivered and answer.retryable:
        retry_in = retry_delay(attempt)
    now = timezone.now()
    ForwarderDelivery.objects.create(
        delivery_id=delivery_id,
        forwarder=forwarder,
        task_id=run.task_id,
        task_run_id=run.pk,
        attempt=attempt,
        status_code=answer.status_code,
        error=answer.error,
        delivered_at=now if answer.delivered else None,
        next_attempt_at=None if retry_in is None else now + timedelta(seconds=retry_in),
        created=now,
    )
    return retry_in
