"""A worker killed in the middle of a run does not leave the run `running` for
ever: real worker processes, the real Redis broker, the real database."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import pytest

from runs_app.models import TaskRun
from runs_app.services import RUN_TIMED_OUT, RUN_WORKER_LOST
from tests.helpers import need_service
from tests.integration.worker import redis_services, start_worker, wait_for

INPUT = {"task_input": {"review": "Great"}}

pytestmark = pytest.mark.integration

# A fixture shared with other modules, named here so pytest finds it.
__all__ = ["redis_services"]


@pytest.fixture
def worker_queue() -> str:
    """A queue for each test: a killed worker's message stays with Redis, and
    must not reach the next test's worker."""
    return f"test-runs-{uuid.uuid4().hex[:8]}"


def _status(run_id: str) -> str:
    return TaskRun.objects.values_list("status", flat=True).get(pk=run_id)


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_is_killed_mid_call_is_failed_not_left_running(
    run_task, fake_llm, redis_services, tmp_path
):
    redis_url, queue = redis_services.url, redis_services.queue
    client, task = run_task()
    fake_llm.slow(30, {"sentiment": "positive"})  # the first worker never hears back
    shared = {"REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url}
    first = start_worker(
        "first",
        ["--pool", "solo", "-Q", queue, "-l", "info"],
        tmp_path,
        queue=queue,
        **shared,
    )
    second = None
    try:
        response = client.post(f"/task/{task['id']}/run?async=true", INPUT)
        assert response.status_code == 202, response.json()
        run_id = response.json()["id"]
        mid_call = wait_for(lambda: bool(fake_llm.requests), 30)
        assert mid_call, first.log()
        assert _status(run_id) == "running"

        os.kill(first.process.pid, signal.SIGKILL)  # no chance to tidy up
        first.process.wait(timeout=10)
        assert _status(run_id) == "running"  # what used to last for ever

        # The next worker, with beat and a short run deadline: the message the
        # dead worker held comes back to it after the visibility timeout, or
        # the sweeper finds the run first; either ends it.
        second = start_worker(
            "second",
            ["--pool", "solo", "-Q", f"{queue},celery", "-l", "info", "-B"]
            + ["--schedule", str(tmp_path / "beat-schedule")],
            tmp_path,
            queue=queue,
            **shared,
            RB_STUCK_RUN_SECONDS="3",
            RB_STUCK_RUN_SWEEP_SECONDS="1",
            RB_BROKER_VISIBILITY_SECONDS="4",
        )
        ended = wait_for(lambda: _status(run_id) != "running", 30)
        assert ended, second.log()
    finally:
        first.stop()
        if second is not None:
            second.stop()

    run = TaskRun.objects.get(pk=run_id)
    assert run.status == TaskRun.Status.FAILED
    assert run.is_error is True
    assert run.response in ({"error": RUN_TIMED_OUT}, {"error": RUN_WORKER_LOST})
    assert len(fake_llm.requests) == 1  # the model was not asked twice
    assert "runs_app.fail_stuck_runs" in second.log()


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    ]


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_pool_process_is_killed_mid_call_is_failed_at_once(
    run_task, fake_llm, redis_services, tmp_path
):
    need_service(Path("/proc/self/task").is_dir(), "needs Linux's /proc")
    redis_url, queue = redis_services.url, redis_services.queue
    client, task = run_task()
    fake_llm.slow(30, {"sentiment": "positive"})
    worker = start_worker(
        "worker",
        ["--pool", "prefork", "--concurrency", "1", "-Q", queue, "-l", "info"],
        tmp_path,
        queue=queue,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
    )
    try:
        response = client.post(f"/task/{task['id']}/run?async=true", INPUT)
        run_id = response.json()["id"]
        mid_call = wait_for(lambda: bool(fake_llm.requests), 30)
        assert mid_call, worker.log()
        [pool_process] = _children(worker.process.pid)

        os.kill(pool_process, signal.SIGKILL)  # as the out-of-memory killer does
        # The worker hands the message back and takes it again in a new pool
        # process, which fails the run rather than leave it to the sweeper.
        ended = wait_for(lambda: _status(run_id) != "running", 15)
    finally:
        worker.stop()
    log = worker.log()
    assert ended, log
    assert "WorkerLostError" in log
    run = TaskRun.objects.get(pk=run_id)
    assert run.status == TaskRun.Status.FAILED
    assert run.response == {"error": RUN_WORKER_LOST}
    assert len(fake_llm.requests) == 1
