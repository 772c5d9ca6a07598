"""A real Celery worker process for tests: fed through the real Redis broker,
sharing the real Redis cache and the test database with the test process.

`redis_services` points this process's Celery and cache at REDIS_URL, with a
queue of the module's own; `celery_worker` is a worker process that consumes it,
started once per module (with the module's `worker_env`). Tests that use them need
`django_db(transaction=True)`, so that the worker sees the test's rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import pytest
from django.db import connection

from rightbrain.celery import app as celery_app
from tests.helpers import need_service, port_open

PROJECT = Path(__file__).resolve().parents[2]

# What the run engine's tests use in-process (tests/runs_app/conftest.py), so a
# failing provider costs no pauses in the worker either.
QUICK_RUNS = {"RB_LLM_RETRY_BACKOFF": "0", "RB_LLM_TIMEOUT": "5"}


@dataclass
class RedisServices:
    url: str
    queue: str


def _redis_url() -> str:
    redis_url = os.environ.get("REDIS_URL", "")
    parts = urlsplit(redis_url)
    need_service(
        parts.scheme == "redis" and port_open(parts.hostname or "", parts.port or 6379),
        "REDIS_URL does not name a Redis that answers",
    )
    need_service(
        connection.vendor == "postgresql",
        "worker processes share the test database only on PostgreSQL",
    )
    return redis_url


@pytest.fixture(scope="module")
def worker_queue() -> str:
    """The queue of this module's tests on the broker, which no one else uses."""
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def redis_services(broker, settings, worker_queue) -> Iterator[RedisServices]:
    """Celery sends to the module's queue on the Redis of REDIS_URL, and the
    cache is the project's Redis cache there, as the worker's is."""
    redis_url = _redis_url()
    settings.CACHES = {
        "default": {
            "BACKEND": "rightbrain.cache_safe.DegradingRedisCache",
            "LOCATION": redis_url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    broker(redis_url)
    saved = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = worker_queue
    yield RedisServices(redis_url, worker_queue)
    celery_app.conf.task_default_queue = saved


def database_url() -> str:
    """The test database (DB_TEST_NAME's) as a DATABASE_URL for a subprocess."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}"
        f"/{db['NAME']}?pool=false"
    )


@dataclass
class Worker:
    process: subprocess.Popen
    log_path: Path
    _log: IO[str]

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def start_worker(
    name: str, args: list[str], tmp_path: Path, *, queue: str, **env: str
) -> Worker:
    """A `celery worker` process with `args`, whose own messages (a forwarder's
    next attempt) go to `queue` as this process's do (tests/integration/
    run_worker.py)."""
    log_path = tmp_path / f"{name}.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed by Worker.stop
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.integration.run_worker"),
            *("--without-mingle", "--without-gossip", *args),
        ],
        cwd=PROJECT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "RB_TEST_QUEUE": queue,
            **env,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Worker(process, log_path, log)


@pytest.fixture(scope="module")
def worker_env() -> dict[str, str]:
    """Environment variables for the module's worker; override to add some."""
    return {}


@pytest.fixture(scope="module")
def _module_worker(
    django_db_setup, worker_queue, worker_env, tmp_path_factory
) -> Iterator[Worker]:
    # One worker for the module: starting and stopping one takes seconds.
    # (django_db_setup: the test database exists and `connection` names it.)
    redis_url = _redis_url()
    worker = start_worker(
        "worker",
        ["--pool", "solo", "-Q", worker_queue, "-l", "info"],
        tmp_path_factory.mktemp("worker"),
        queue=worker_queue,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        **{**QUICK_RUNS, **worker_env},
    )
    yield worker
    worker.stop()


@pytest.fixture
def celery_worker(_module_worker, redis_services) -> Worker:
    """A solo worker on the test's queue, with the REDIS_URL broker and cache
    and the test database (one per module, started with `worker_env`)."""
    assert _module_worker.process.poll() is None, _module_worker.log()
    return _module_worker


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False
