"""The paths that queue, end to end: a real worker process takes the work from
the real Redis broker, shares the real Redis cache with the web process (this
one) and writes to the test database, which the web process then reads back.

Runs go to the fake LLM server and deliveries to a receiver, both on loopback.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from decimal import Decimal

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from rightbrain.settings import file_storage
from runs_app import circuit
from runs_app.models import DailyUsage, HourlyUsage, RunFile, TaskRun
from tasks_app.models import ForwarderDelivery
from tests.fake_s3 import ACCESS_KEY, REGION, SECRET_KEY, Bucket, s3_client
from tests.integration.worker import (
    _module_worker,
    celery_worker,
    redis_services,
    wait_for,
    worker_queue,
)
from tests.runs_app.test_forwarding import KEY, _verifies, forwarded_task, receiver

GOOD = {"sentiment": "positive"}
INPUT = {"task_input": {"review": "Great"}}

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Fixtures shared with other modules, named here so pytest finds them.
__all__ = [
    "_module_worker",
    "celery_worker",
    "forwarded_task",
    "receiver",
    "redis_services",
    "worker_queue",
]


@pytest.fixture(scope="module")
def bucket(_s3_server) -> Bucket:
    """A bucket on the local S3 server for this module's run files."""
    found = Bucket(
        _s3_server,
        f"rb-test-{uuid.uuid4().hex[:16]}",
        "rightbrain",
        s3_client(_s3_server),
    )
    found.client.create_bucket(Bucket=found.name)
    return found


@pytest.fixture(scope="module")
def bucket_env(bucket) -> dict[str, str]:
    return {
        "RB_S3_BUCKET": bucket.name,
        "RB_S3_ENDPOINT_URL": bucket.endpoint_url,
        "RB_S3_REGION": REGION,
        "RB_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "RB_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "RB_S3_PREFIX": bucket.prefix,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="module")
def worker_env(bucket_env) -> dict[str, str]:
    """The worker stores run files in the bucket, reaches the forwarders'
    receiver on loopback, and retries a delivery 0.2 s, then 1.2 s, later."""
    return {
        **bucket_env,
        "RB_ALLOW_PRIVATE_URLS": "true",
        "RB_FORWARDER_RETRY_BACKOFF": "0.2",
    }


@pytest.fixture
def bucket_storage(bucket, bucket_env, monkeypatch, settings) -> Bucket:
    """This process stores run files in the worker's bucket too."""
    for variable, value in bucket_env.items():
        monkeypatch.setenv(variable, value)
    settings.STORAGES = {**settings.STORAGES, "default": file_storage()}
    return bucket


def _poll(client, task_id: str, run_id: str, seconds: float = 60) -> dict:
    """The run as the API answers it, once it is no longer queued or running."""
    seen: dict = {}

    def finished() -> bool:
        seen.update(client.get(f"/task/{task_id}/run/{run_id}").json())
        return seen["status"] not in {"queued", "running"}

    wait_for(finished, seconds)
    return seen


def test_an_async_api_run_is_completed_by_the_worker(run_task, fake_llm, celery_worker):
    client, task = run_task()
    fake_llm.answer(GOOD, prompt_tokens=10, completion_tokens=2)
    worker = celery_worker

    response = client.post(f"/task/{task['id']}/run?async=true", INPUT)

    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued"
    done = _poll(client, task["id"], response.json()["id"])
    assert done["status"] == "succeeded", worker.log()
    assert done["response"] == GOOD
    assert (done["input_tokens"], done["output_tokens"]) == (10, 2)
    assert "runs_app.execute_queued_run" in worker.log()
    assert len(fake_llm.requests) == 1
    for rollup in (HourlyUsage, DailyUsage):
        usage = rollup.objects.get()
        assert (usage.runs, usage.errors) == (1, 0)
        assert (usage.input_tokens, usage.output_tokens) == (10, 2)
        # 10 in at 3/Mtok and 2 out at 15/Mtok, in credits of 0.001 USD.
        assert usage.credits == Decimal("0.060000")


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 220)).save(out, "PNG")
    return out.getvalue()


def test_an_async_run_with_an_upload_is_completed_by_the_worker(
    run_task, fake_llm, bucket_storage, celery_worker
):
    # Web and worker share run files through the bucket, as they must when
    # they run on different machines.
    client, task = run_task()
    fake_llm.answer(GOOD)
    worker = celery_worker

    response = client.client.post(
        client.url(f"/task/{task['id']}/run?async=true"),
        {
            "task_input": json.dumps({"review": "see the photo"}),
            "task_files": [SimpleUploadedFile("photo.png", _png((64, 48)))],
        },
    )

    assert response.status_code == 202, response.json()
    done = _poll(client, task["id"], response.json()["id"])
    assert done["status"] == "succeeded", worker.log()
    assert done["response"] == GOOD
    [file] = done["files"]
    assert file["original_filename"] == "photo.png"
    # The worker read the upload from the bucket and sent it to the model.
    content = fake_llm.requests[0]["messages"][-1]["content"]
    [image_url] = [part["image_url"]["url"] for part in content if "image_url" in part]
    assert image_url.startswith("data:image/png;base64,")
    sent = base64.b64decode(image_url.split(",", 1)[1])
    assert Image.open(io.BytesIO(sent)).size == (64, 48)
    stored = RunFile.objects.get()
    image = bucket_storage.read(bucket_storage.object_key(stored.storage_key))
    assert Image.open(io.BytesIO(image)).size == (64, 48)


def test_the_worker_delivers_a_run_to_a_forwarder_and_retries_after_a_500(
    forwarded_task, fake_llm, receiver, celery_worker
):
    client, task, forwarder = forwarded_task()
    receiver.answer(500)  # then 200
    fake_llm.answer(GOOD)
    worker = celery_worker

    response = client.post(f"/task/{task['id']}/run?async=true", INPUT)

    run_id = response.json()["id"]
    assert _poll(client, task["id"], run_id)["status"] == "succeeded", worker.log()
    delivered = wait_for(lambda: len(receiver.received) == 2, 20)
    assert delivered, worker.log()
    first, second = receiver.received
    assert first.headers["X-Delivery-Attempt"] == "1"
    assert second.headers["X-Delivery-Attempt"] == "2"
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert second.headers["X-Task-Run-Id"] == run_id
    assert _verifies(second, KEY)
    assert json.loads(second.body)["response"] == GOOD
    logged = wait_for(
        lambda: ForwarderDelivery.objects.filter(delivered_at__isnull=False).exists(),
        10,
    )
    assert logged, worker.log()
    attempts = ForwarderDelivery.objects.order_by("attempt")
    assert [(a.attempt, a.status_code) for a in attempts] == [(1, 500), (2, 200)]
    assert attempts[0].forwarder_id == attempts[1].forwarder_id
    assert str(attempts[0].forwarder_id) == forwarder["id"]


HX = {"HX-Request": "true", "HX-Target": "run-workspace"}
POLL = {"HX-Request": "true", "HX-Target": "run-result"}


def test_a_dashboard_run_is_queued_and_completed_by_the_worker(
    run_task, personas, fake_llm, celery_worker
):
    _client, task = run_task()
    fake_llm.answer(GOOD)
    worker = celery_worker
    browser = personas.client_for(personas.editor)
    url = reverse("task_run", args=[personas.project.pk, task["id"]])

    queued = browser.post(url, {"input_review": "Great toaster"}, headers=HX)

    assert queued.status_code == 200
    assert "The run is queued" in queued.text
    run = TaskRun.objects.get()
    finished = wait_for(
        lambda: (
            "hx-trigger" not in browser.get(f"{url}?run={run.pk}", headers=POLL).text
        ),
        30,
    )
    assert finished, worker.log()
    done = browser.get(f"{url}?run={run.pk}", headers=POLL)
    assert "badge-success" in done.text and "<dt>Sentiment</dt>" in done.text
    assert json.loads(done.headers["HX-Trigger"]) == {"run-finished": {}}
    run.refresh_from_db()
    assert run.status == TaskRun.Status.SUCCEEDED
    assert run.user == personas.editor
    assert fake_llm.requests[0]["messages"][-1]["content"] == "Review: Great toaster"


def _redis_keys(services, pattern: str) -> list[str]:
    client = redis.Redis.from_url(services.url)
    return [key.decode() for key in client.scan_iter(match=pattern)]


def test_an_edit_in_the_web_process_reaches_the_snapshots_the_worker_cached(
    run_task, fake_llm, celery_worker, redis_services
):
    client, task = run_task()
    fake_llm.answer(GOOD).answer(GOOD)
    worker = celery_worker
    assert client.get(f"/task/{task['id']}").status_code == 200
    first = client.post(f"/task/{task['id']}/run?async=true", INPUT).json()
    assert _poll(client, task["id"], first["id"])["status"] == "succeeded"
    # The task's representation (web) and active revisions (worker) are in Redis.
    assert _redis_keys(redis_services, f"*rb:task:{task['id']}:*")
    assert _redis_keys(redis_services, f"*rb:active-revisions:{task['id']}:*")

    # A new revision, then made the live one: two edits of the task.
    edited = client.post(f"/task/{task['id']}", {"system_prompt": "Judge the tone."})
    assert edited.status_code == 200, edited.json()
    [new] = [
        r for r in edited.json()["revisions"] if r["id"] != first["task_revision_id"]
    ]
    live = [{"task_revision_id": new["id"], "weight": 1}]
    assert (
        client.post(f"/task/{task['id']}", {"active_revisions": live}).status_code
        == 200
    )

    shown = client.get(f"/task/{task['id']}").json()
    [active] = shown["active_revisions"]
    [revision] = [
        r for r in shown["revisions"] if r["id"] == active["task_revision_id"]
    ]
    assert revision["system_prompt"] == "Judge the tone."
    second = client.post(f"/task/{task['id']}/run?async=true", INPUT).json()
    done = _poll(client, task["id"], second["id"])
    assert done["status"] == "succeeded", worker.log()
    assert done["task_revision_id"] == revision["id"]
    prompts = [request["messages"][0]["content"] for request in fake_llm.requests]
    assert prompts == ["Classify.", "Judge the tone."]


def test_a_circuit_opened_in_the_worker_sends_web_runs_to_the_fallback(
    run_task, fake_llm, served, celery_worker
):
    client, task = run_task(fallback_llm_model_id=str(served[1].pk))
    revision_id = task["revisions"][0]["id"]
    for _ in range(4):  # RB_LLM_ATTEMPTS, which is also RB_CIRCUIT_FAILURES
        fake_llm.fail(500)
    fake_llm.answer(GOOD)
    worker = celery_worker

    queued = client.post(f"/task/{task['id']}/run?async=true", INPUT).json()

    done = _poll(client, task["id"], queued["id"])
    assert done["status"] == "succeeded", worker.log()
    assert done["used_fallback_model"] is True
    assert circuit.is_open(revision_id)  # as the worker recorded it in Redis
    fake_llm.answer(GOOD)
    here = client.post(f"/task/{task['id']}/run", INPUT).json()
    assert here["used_fallback_model"] is True
    assert [r["model"] for r in fake_llm.requests] == ["primary"] * 4 + ["backup"] * 2


def test_a_circuit_opened_in_the_web_process_sends_worker_runs_to_the_fallback(
    run_task, fake_llm, served, celery_worker
):
    client, task = run_task(fallback_llm_model_id=str(served[1].pk))
    for _ in range(4):
        fake_llm.fail(500)
    fake_llm.answer(GOOD).answer(GOOD)
    worker = celery_worker

    here = client.post(f"/task/{task['id']}/run", INPUT).json()
    assert here["used_fallback_model"] is True
    assert circuit.is_open(task["revisions"][0]["id"])

    queued = client.post(f"/task/{task['id']}/run?async=true", INPUT).json()
    done = _poll(client, task["id"], queued["id"])
    assert done["status"] == "succeeded", worker.log()
    assert done["used_fallback_model"] is True
    assert [r["model"] for r in fake_llm.requests] == ["primary"] * 4 + ["backup"] * 2
