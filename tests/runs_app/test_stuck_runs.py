"""A queued run always ends: whatever stops it is recorded as its error, a late
or repeated delivery changes nothing, and the sweeper fails the runs that never
finished."""

from __future__ import annotations

import base64
import logging
import threading
import time
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import connections
from django.utils import timezone

from rightbrain.celery import app as celery_app
from runs_app.models import HourlyUsage, RunFile, TaskRun
from runs_app.services import (
    RUN_BROKE,
    RUN_TIMED_OUT,
    RUN_WORKER_LOST,
    run_complete_queued,
    runs_fail_stuck,
)
from runs_app.tasks import fail_stuck_runs
from tests.fake_llm import tiny_png

GOOD = {"sentiment": "positive"}
INPUT = {"task_input": {"review": "Great"}}
Status = TaskRun.Status


def _submit(client, task, body=INPUT):
    response = client.post(f"/task/{task['id']}/run?async=true", body)
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def _fetch(client, task, run_id):
    return client.get(f"/task/{task['id']}/run/{run_id}").json()


def _usage_totals() -> tuple[int, int]:
    rows = HourlyUsage.objects.all()
    return sum(row.runs for row in rows), sum(row.errors for row in rows)


# Every path ends the run ---------------------------------------------------------


def test_a_run_whose_stored_input_file_is_gone_ends_failed_with_the_reason(
    run_task, fake_llm, broker, run_media
):
    broker("memory://")
    client, task = run_task(image_required=True)
    photo = {"filename": "photo.png", "content": base64.b64encode(tiny_png()).decode()}
    run_id = _submit(client, task, {**INPUT, "task_files": [photo]})
    stored = RunFile.objects.get(task_run_id=run_id)
    default_storage.delete(stored.storage_key)  # lost before the worker read it

    run_complete_queued(run_id=run_id)

    done = _fetch(client, task, run_id)
    assert done["status"] == "failed"
    assert done["is_error"] is True
    assert "“photo.png”" in done["response"]["error"]
    assert "could not be read" in done["response"]["error"]
    assert not fake_llm.requests
    usage = HourlyUsage.objects.get()  # in the task's figures as a failed run
    assert (usage.runs, usage.errors, usage.credits) == (1, 1, 0)


def test_an_unexpected_error_ends_the_run_failed_and_logs_the_traceback(
    run_task, fake_llm, broker, caplog
):
    broker("memory://")
    client, task = run_task()
    run_id = _submit(client, task)
    # A row the worker cannot make sense of (written by hand, or by an older
    # release): its input is not where the worker reads it.
    TaskRun.objects.filter(pk=run_id).update(run_data={"input": {"review": "x"}})

    with caplog.at_level(logging.ERROR, logger="runs_app.services"):
        run_complete_queued(run_id=run_id)

    done = _fetch(client, task, run_id)
    assert done["status"] == "failed"
    assert done["is_error"] is True
    assert done["response"] == {"error": RUN_BROKE}
    [record] = caplog.records
    assert str(run_id) in record.getMessage()
    assert record.exc_info and record.exc_info[0] is KeyError
    assert not fake_llm.requests


def test_a_run_deleted_with_its_task_before_the_worker_takes_it_is_skipped(
    run_task, fake_llm, broker
):
    broker("memory://")
    client, task = run_task()
    run_id = _submit(client, task)
    assert client.delete(f"/task/{task['id']}").status_code == 200

    assert run_complete_queued(run_id=run_id) is None
    assert not fake_llm.requests


def test_a_second_delivery_of_a_failed_run_changes_nothing(run_task, fake_llm, broker):
    broker("memory://")
    client, task = run_task()
    run_id = _submit(client, task)
    TaskRun.objects.filter(pk=run_id).update(run_data={})
    run_complete_queued(run_id=run_id)
    fake_llm.answer(GOOD)

    assert run_complete_queued(run_id=run_id) is None

    assert _fetch(client, task, run_id)["response"] == {"error": RUN_BROKE}
    assert not fake_llm.requests


def test_a_redelivered_message_fails_the_run_its_lost_worker_had_started(
    run_task, fake_llm, broker
):
    broker("memory://")
    client, task = run_task()
    run_id = _submit(client, task)
    # Taken by a worker that then died: the broker hands the message back.
    TaskRun.objects.filter(pk=run_id).update(status=Status.RUNNING)
    fake_llm.answer(GOOD)

    assert run_complete_queued(run_id=run_id) is None  # a plain duplicate
    assert _fetch(client, task, run_id)["status"] == "running"

    assert run_complete_queued(run_id=run_id, redelivered=True) is None

    done = _fetch(client, task, run_id)
    assert done["status"] == "failed"
    assert done["response"] == {"error": RUN_WORKER_LOST}
    assert not fake_llm.requests  # not run again
    assert _usage_totals() == (1, 1)


def test_a_redelivered_message_of_a_finished_run_changes_nothing(
    run_task, fake_llm, broker
):
    broker("memory://")
    client, task = run_task()
    run_id = _submit(client, task)
    fake_llm.answer(GOOD)
    run_complete_queued(run_id=run_id)

    assert run_complete_queued(run_id=run_id, redelivered=True) is None

    done = _fetch(client, task, run_id)
    assert (done["status"], done["response"]) == ("succeeded", GOOD)
    assert _usage_totals() == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_a_result_that_arrives_after_the_sweeper_failed_the_run_is_dropped(
    run_task, fake_llm, broker, settings
):
    broker("memory://")
    client, task = run_task()
    run_id = _submit(client, task)
    fake_llm.slow(1.5, GOOD)

    def worker() -> None:
        try:
            run_complete_queued(run_id=run_id)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    deadline = time.monotonic() + 10
    while not fake_llm.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake_llm.requests, "the worker is waiting on the model"
    settings.RB_STUCK_RUN_SECONDS = 0
    assert runs_fail_stuck() == 1
    thread.join(timeout=10)

    done = _fetch(client, task, run_id)
    assert done["status"] == "failed"
    assert done["response"] == {"error": RUN_TIMED_OUT}
    assert done["input_tokens"] == 0
    # Counted once, as the failure it ended as.
    usage = HourlyUsage.objects.get()
    assert (usage.runs, usage.errors, usage.input_tokens) == (1, 1, 0)


# The sweeper --------------------------------------------------------------------


def test_the_sweeper_fails_unfinished_runs_older_than_the_cutoff_and_no_others(
    run_task, fake_llm, broker, settings
):
    settings.RB_STUCK_RUN_SECONDS = 600
    client, task = run_task()
    fake_llm.answer(GOOD)
    finished = client.post(f"/task/{task['id']}/run", INPUT).json()["id"]
    broker("memory://")
    now = timezone.now()

    def run_aged(seconds: float, status: Status, run_id: str | None = None) -> str:
        run_id = run_id or _submit(client, task)
        TaskRun.objects.filter(pk=run_id).update(
            created=now - timedelta(seconds=seconds), status=status
        )
        return run_id

    queued_too_long = run_aged(600.001, Status.QUEUED)
    running_too_long = run_aged(600.001, Status.RUNNING)
    running_at_cutoff = run_aged(600, Status.RUNNING)
    queued_just_now = run_aged(1, Status.QUEUED)
    old_success = run_aged(10_000, Status.SUCCEEDED, finished)

    assert runs_fail_stuck(now=now) == 2

    for run_id in (queued_too_long, running_too_long):
        failed = _fetch(client, task, run_id)
        assert failed["status"] == "failed"
        assert failed["is_error"] is True
        assert failed["response"]["error"].startswith("The run did not finish in time")
    assert _fetch(client, task, running_at_cutoff)["status"] == "running"
    assert _fetch(client, task, queued_just_now)["status"] == "queued"
    assert _fetch(client, task, old_success)["response"] == GOOD
    assert client.get(f"/task/{task['id']}/run?status=error").json()["results"]
    assert _usage_totals() == (3, 2)  # the success and the two failures
    # Swept once: a second sweep finds nothing, and the failed run's message,
    # delivered late, does not run it.
    assert runs_fail_stuck(now=now) == 0
    assert run_complete_queued(run_id=queued_too_long) is None
    assert len(fake_llm.requests) == 1
    assert _usage_totals() == (3, 2)


def test_the_sweeper_runs_on_the_beat_schedule(run_task, broker, settings):
    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "runs_app.fail_stuck_runs"
    )
    assert 0 < entry["schedule"] <= 300
    assert "runs_app.fail_stuck_runs" in celery_app.tasks

    broker("memory://")
    client, task = run_task()
    run_id = _submit(client, task)
    settings.RB_STUCK_RUN_SECONDS = 0
    assert fail_stuck_runs.apply().get() == 1
    assert _fetch(client, task, run_id)["status"] == "failed"
