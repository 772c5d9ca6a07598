"""A worker killed in the middle of a run does not leave the run `running` for
ever: real worker processes, the real Redis broker, the real database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from rightbrain.celery import app as celery_app
from runs_app.models import TaskRun
from runs_app.services import RUN_TIMED_OUT, RUN_WORKER_LOST
from tests.helpers import need_service, port_open

PROJECT = Path(__file__).resolve().parents[2]
INPUT = {"task_input": {"review": "Great"}}

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_broker(broker):
    """Celery sends to this test's own queue on the configured Redis."""
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
    queue = f"test-runs-{uuid.uuid4().hex[:8]}"
    broker(redis_url)
    saved = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    yield redis_url, queue
    celery_app.conf.task_default_queue = saved


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}"
        f"/{db['NAME']}?pool=false"
    )


def _start_worker(name: str, args: list[str], tmp_path: Path, **env: str):
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed by _stop
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "rightbrain", "worker"),
            *("--without-mingle", "--without-gossip", *args),
        ],
        cwd=PROJECT,
        env={**os.environ, "DATABASE_URL": _database_url(), **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, log


def _stop(process: subprocess.Popen, log) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log.close()


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _status(run_id: str) -> str:
    return TaskRun.objects.values_list("status", flat=True).get(pk=run_id)


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_is_killed_mid_call_is_failed_not_left_running(
    run_task, fake_llm, redis_broker, tmp_path
):
    redis_url, queue = redis_broker
    client, task = run_task()
    fake_llm.slow(30, {"sentiment": "positive"})  # the first worker never hears back
    shared = {"REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url}
    first = _start_worker(
        "first", ["--pool", "solo", "-Q", queue, "-l", "info"], tmp_path, **shared
    )
    second = None
    try:
        response = client.post(f"/task/{task['id']}/run?async=true", INPUT)
        assert response.status_code == 202, response.json()
        run_id = response.json()["id"]
        mid_call = _wait_for(lambda: bool(fake_llm.requests), 30)
        assert mid_call, (tmp_path / "first.log").read_text()
        assert _status(run_id) == "running"

        os.kill(first[0].pid, signal.SIGKILL)  # no chance to tidy up
        first[0].wait(timeout=10)
        assert _status(run_id) == "running"  # what used to last for ever

        # The next worker, with beat and a short run deadline: the message the
        # dead worker held comes back to it after the visibility timeout, or
        # the sweeper finds the run first; either ends it.
        second = _start_worker(
            "second",
            ["--pool", "solo", "-Q", f"{queue},celery", "-l", "info", "-B"]
            + ["--schedule", str(tmp_path / "beat-schedule")],
            tmp_path,
            **shared,
            RB_STUCK_RUN_SECONDS="3",
            RB_STUCK_RUN_SWEEP_SECONDS="1",
            RB_BROKER_VISIBILITY_SECONDS="4",
        )
        ended = _wait_for(lambda: _status(run_id) != "running", 30)
        assert ended, (tmp_path / "second.log").read_text()
    finally:
        _stop(*first)
        if second is not None:
            _stop(*second)

    run = TaskRun.objects.get(pk=run_id)
    assert run.status == TaskRun.Status.FAILED
    assert run.is_error is True
    assert run.response in ({"error": RUN_TIMED_OUT}, {"error": RUN_WORKER_LOST})
    assert len(fake_llm.requests) == 1  # the model was not asked twice
    assert "runs_app.fail_stuck_runs" in (tmp_path / "second.log").read_text()


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    ]


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_pool_process_is_killed_mid_call_is_failed_at_once(
    run_task, fake_llm, redis_broker, tmp_path
):
    need_service(Path("/proc/self/task").is_dir(), "needs Linux's /proc")
    redis_url, queue = redis_broker
    client, task = run_task()
    fake_llm.slow(30, {"sentiment": "positive"})
    worker = _start_worker(
        "worker",
        ["--pool", "prefork", "--concurrency", "1", "-Q", queue, "-l", "info"],
        tmp_path,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
    )
    try:
        response = client.post(f"/task/{task['id']}/run?async=true", INPUT)
        run_id = response.json()["id"]
        mid_call = _wait_for(lambda: bool(fake_llm.requests), 30)
        assert mid_call, (tmp_path / "worker.log").read_text()
        [pool_process] = _children(worker[0].pid)

        os.kill(pool_process, signal.SIGKILL)  # as the out-of-memory killer does
        # The worker hands the message back and takes it again in a new pool
        # process, which fails the run rather than leave it to the sweeper.
        ended = _wait_for(lambda: _status(run_id) != "running", 15)
    finally:
        _stop(*worker)
    log = (tmp_path / "worker.log").read_text()
    assert ended, log
    assert "WorkerLostError" in log
    run = TaskRun.objects.get(pk=run_id)
    assert run.status == TaskRun.Status.FAILED
    assert run.response == {"error": RUN_WORKER_LOST}
    assert len(fake_llm.requests) == 1
