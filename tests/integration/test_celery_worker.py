"""A real Celery worker and beat consume tasks from the real Redis broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from celery import Celery
from django.core.cache.backends.redis import RedisCache

from rightbrain.orgs.tasks import HEARTBEAT_CACHE_KEY
from tests.helpers import need_service, port_open

PROJECT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("RB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_url():
    parts = urlsplit(REDIS_URL)
    need_service(
        port_open(parts.hostname or "127.0.0.1", parts.port or 6379),
        f"Redis is not answering at {REDIS_URL}",
    )
    return REDIS_URL


def _start(args: list[str], redis_url: str, tmp_path: Path, **extra_env):
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'celery.sqlite3'}",
        **extra_env,
    }
    log = open(tmp_path / f"{args[0]}.log", "w")  # noqa: SIM115 - closed by caller
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "rightbrain", *args],
        cwd=PROJECT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, log


def _wait_for(cache: RedisCache, key: str, seconds: float) -> str | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = cache.get(key)
        if value:
            return value
        time.sleep(0.2)
    return None


def _stop(*processes):
    for process, log in processes:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_a_worker_consumes_a_task_sent_through_redis(redis_url, tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    cache = RedisCache(redis_url, {})
    worker = _start(
        ["worker", "--pool", "solo", "-Q", queue, "-l", "info"], redis_url, tmp_path
    )
    try:
        token = uuid.uuid4().hex
        sender = Celery(broker=redis_url)
        sender.send_task("rightbrain.heartbeat", args=[token], queue=queue)
        stamp = _wait_for(cache, f"{HEARTBEAT_CACHE_KEY}:{token}", 60)
    finally:
        _stop(worker)
    log = (tmp_path / "worker.log").read_text()
    assert stamp is not None, log
    assert "rightbrain.heartbeat" in log


def test_beat_schedules_the_heartbeat_and_a_worker_runs_it(redis_url, tmp_path):
    cache = RedisCache(redis_url, {})
    cache.delete(f"{HEARTBEAT_CACHE_KEY}:beat")
    env = {"RB_HEARTBEAT_SECONDS": "1"}
    worker = _start(
        ["worker", "--pool", "solo", "-l", "info"],
        redis_url,
        tmp_path,
        **env,
    )
    beat = _start(
        ["beat", "-l", "info", "--schedule", str(tmp_path / "beat-schedule")],
        redis_url,
        tmp_path,
        **env,
    )
    try:
        stamp = _wait_for(cache, f"{HEARTBEAT_CACHE_KEY}:beat", 60)
    finally:
        _stop(beat, worker)
    assert stamp is not None, (tmp_path / "beat.log").read_text()
