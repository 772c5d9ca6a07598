"""Run files in an S3-compatible bucket (RB_S3_BUCKET): every process that
shares the bucket — the web tier that takes an upload, the worker that runs
it, the web replica that serves its output — sees the same files, none of
them on local disk, and the objects stay private behind the app's own access
checks.

The bucket lives on a real S3-compatible server on 127.0.0.1 (moto's server
mode, tests/fake_s3.py); django-storages and boto3 talk to it over HTTP.
"""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import urlsplit

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from rightbrain.settings import file_storage
from runs_app.models import RunFile, TaskRun
from runs_app.services import run_complete_queued
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel
from tasks_app.services import RevisionSpec, task_create

GOOD = {"sentiment": "positive"}
SANDBOX = "sandbox; default-src 'none'"
FILES_HOST = "files.example-usercontent.test"


def _png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 220)).save(out, "PNG")
    return out.getvalue()


def _run_with_image(client, task, image: bytes, *, run_async: bool = False):
    query = "?async=true" if run_async else ""
    return client.client.post(
        client.url(f"/task/{task['id']}/run{query}"),
        {
            "task_input": json.dumps({"review": "see the photo"}),
            "task_files": [SimpleUploadedFile("photo.png", image)],
        },
    )


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_an_api_run_stores_its_upload_in_the_bucket_and_serves_it_safely(
    run_task, fake_llm, s3_bucket, tmp_path
):
    client, task = run_task()
    image = _png()
    fake_llm.answer(GOOD)

    response = _run_with_image(client, task, image)

    assert response.status_code == 200, response.json()
    [file] = response.json()["files"]
    stored = RunFile.objects.get()
    key = s3_bucket.object_key(stored.storage_key)
    assert s3_bucket.keys() == [key]
    assert key == f"rightbrain/runs/{task['id']}/{stored.stored_filename}"
    assert s3_bucket.read(key) == image
    assert not any(tmp_path.iterdir())  # nothing on this process's disk
    # The link is the app's access-checked address, never the bucket's.
    assert urlsplit(file["download_url"]).netloc in {"", "testserver"}
    assert s3_bucket.endpoint_url not in json.dumps(response.json())

    download = client.client.get(file["download_url"])

    assert download.status_code == 200
    assert _body(download) == image
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"] == SANDBOX
    assert download["Cache-Control"] == "private"


def test_stored_objects_are_private_and_reached_only_through_the_app(
    run_task, fake_llm, s3_bucket, api
):
    client, task = run_task()
    fake_llm.answer(GOOD)
    file = _run_with_image(client, task, _png()).json()["files"][0]
    [key] = s3_bucket.keys()

    anonymous = httpx.get(s3_bucket.public_url(key))

    assert anonymous.status_code == 403
    grants = s3_bucket.client.get_object_acl(Bucket=s3_bucket.name, Key=key)
    assert [grant["Permission"] for grant in grants["Grants"]] == ["FULL_CONTROL"]
    assert "URI" not in grants["Grants"][0]["Grantee"]  # no AllUsers group
    # The app's own checks still decide who reads it.
    assert api("outsider").client.get(file["download_url"]).status_code == 404
    assert api(None).client.get(file["download_url"]).status_code == 401


def test_a_queued_run_reads_its_upload_from_the_bucket_in_the_worker(
    run_task, fake_llm, s3_bucket, broker, tmp_path
):
    broker("memory://")  # the web tier queues; nobody consumes until below
    client, task = run_task()
    image = _png((64, 48))
    fake_llm.answer(GOOD)

    queued = _run_with_image(client, task, image, run_async=True)

    assert queued.status_code == 202, queued.json()
    assert queued.json()["status"] == "queued"
    stored = RunFile.objects.get()
    assert s3_bucket.read(s3_bucket.object_key(stored.storage_key)) == image
    assert not any(tmp_path.iterdir())

    run_complete_queued(run_id=queued.json()["id"])  # what the worker does

    done = client.get(f"/task/{task['id']}/run/{queued.json()['id']}").json()
    assert done["status"] == "succeeded", done
    assert done["response"] == GOOD
    sent = fake_llm.requests[0]["messages"][-1]["content"][1]["image_url"]["url"]
    assert sent.startswith("data:image/png;base64,")
    seen = Image.open(io.BytesIO(base64.b64decode(sent.split(",", 1)[1])))
    assert seen.size == (64, 48)


def test_without_a_broker_a_queued_run_with_an_upload_completes(
    run_task, fake_llm, s3_bucket
):
    # Celery eager: the same store and read as a worker, in this process.
    client, task = run_task()
    fake_llm.answer(GOOD)
    response = _run_with_image(client, task, _png(), run_async=True)
    assert response.status_code == 202
    assert response.json()["status"] == "succeeded"
    assert len(fake_llm.requests) == 1


@pytest.mark.parametrize(
    ("modality", "content_type", "magic"),
    [("csv", "text/csv", b"word,letters,note"), ("image", "image/png", b"\x89PNG")],
)
def test_a_generated_file_is_stored_in_the_bucket_and_downloadable(
    run_task, s3_bucket, modality, content_type, magic, tmp_path
):
    catalogue_sync()
    demo = LLMModel.objects.get(name="rightbrain-demo")
    client, task = run_task(output_modality=modality, llm_model_id=str(demo.pk))

    response = client.post(f"/task/{task['id']}/run", {"task_input": {"review": "x"}})

    assert response.status_code == 200, response.json()
    [file] = response.json()["files"]
    assert file["content_type"] == content_type
    stored = RunFile.objects.get(direction=RunFile.Direction.OUTPUT)
    key = s3_bucket.object_key(stored.storage_key)
    assert s3_bucket.keys() == [key]
    in_bucket = s3_bucket.read(key)
    assert in_bucket.startswith(magic)
    assert not any(tmp_path.iterdir())
    download = client.client.get(file["download_url"])
    assert download.status_code == 200
    assert _body(download) == in_bucket
    assert download["X-Content-Type-Options"] == "nosniff"


def test_a_signed_link_on_the_files_origin_serves_the_object(
    run_task, fake_llm, s3_bucket, settings
):
    settings.RB_FILES_ORIGIN = f"https://{FILES_HOST}"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, FILES_HOST]
    client, task = run_task()
    image = _png()
    fake_llm.answer(GOOD)
    file = _run_with_image(client, task, image).json()["files"][0]
    link = urlsplit(file["download_url"])
    assert link.netloc == FILES_HOST

    served = client.client.get(link.path, HTTP_HOST=FILES_HOST, secure=True)

    assert served.status_code == 200
    assert _body(served) == image
    assert served["Content-Security-Policy"] == SANDBOX


def test_deleting_a_task_removes_its_objects_from_the_bucket(
    run_task, fake_llm, s3_bucket, django_capture_on_commit_callbacks
):
    client, task = run_task()
    other_client, other = run_task(name="Kept")
    fake_llm.answer(GOOD).answer(GOOD).answer(GOOD)
    _run_with_image(client, task, _png())
    _run_with_image(client, task, _png((10, 10)))
    _run_with_image(other_client, other, _png())
    assert len(s3_bucket.keys()) == 3

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/task/{task['id']}").status_code in {200, 204}

    [kept] = s3_bucket.keys()
    assert kept.startswith(f"rightbrain/runs/{other['id']}/")


def _store_goes_down(settings, monkeypatch) -> None:
    """From here on the app's bucket is behind a port nothing listens on."""
    monkeypatch.setenv("RB_S3_ENDPOINT_URL", "http://127.0.0.1:1")
    settings.STORAGES = {**settings.STORAGES, "default": file_storage()}


def test_a_run_while_the_store_is_down_is_a_503_and_nothing_is_kept(
    run_task, fake_llm, s3_bucket, settings, monkeypatch
):
    client, task = run_task()
    _store_goes_down(settings, monkeypatch)
    fake_llm.answer(GOOD)

    response = _run_with_image(client, task, _png())

    assert response.status_code == 503
    assert response.json()["type"] == "server_error"
    assert "File storage is not answering" in response.json()["detail"][0]["msg"]
    assert not TaskRun.objects.exists()
    assert not RunFile.objects.exists()


def test_a_queued_run_whose_store_went_down_fails_with_the_reason(
    run_task, fake_llm, s3_bucket, broker, settings, monkeypatch
):
    broker("memory://")
    client, task = run_task()
    run_id = _run_with_image(client, task, _png(), run_async=True).json()["id"]
    _store_goes_down(settings, monkeypatch)

    run_complete_queued(run_id=run_id)  # what the worker does

    done = client.get(f"/task/{task['id']}/run/{run_id}").json()
    assert done["status"] == "failed"
    assert done["is_error"] is True
    assert "File storage is not answering" in done["response"]["error"]
    assert fake_llm.requests == []


def test_a_file_gone_from_the_bucket_is_a_404_and_a_store_that_is_down_a_503(
    run_task, fake_llm, s3_bucket, settings, monkeypatch
):
    client, task = run_task()
    fake_llm.answer(GOOD).answer(GOOD)
    gone = _run_with_image(client, task, _png()).json()["files"][0]
    kept = _run_with_image(client, task, _png()).json()["files"][0]
    stored = RunFile.objects.get(stored_filename=gone["stored_filename"])
    s3_bucket.client.delete_object(
        Bucket=s3_bucket.name, Key=s3_bucket.object_key(stored.storage_key)
    )

    missing = client.client.get(gone["download_url"])

    assert missing.status_code == 404
    assert missing.json()["detail"] == "This file no longer exists."

    _store_goes_down(settings, monkeypatch)
    down = client.client.get(kept["download_url"])

    assert down.status_code == 503
    assert "cannot be read right now" in down.json()["detail"]


def test_the_files_origin_answers_a_store_that_is_down_with_a_safe_503(
    run_task, fake_llm, s3_bucket, settings, monkeypatch
):
    settings.RB_FILES_ORIGIN = f"https://{FILES_HOST}"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, FILES_HOST]
    client, task = run_task()
    fake_llm.answer(GOOD)
    link = urlsplit(
        _run_with_image(client, task, _png()).json()["files"][0]["download_url"]
    )
    _store_goes_down(settings, monkeypatch)

    served = client.client.get(link.path, HTTP_HOST=FILES_HOST, secure=True)

    assert served.status_code == 503
    assert served["Content-Type"].startswith("text/plain")
    assert served["Content-Security-Policy"] == SANDBOX
    assert served["Retry-After"] == "30"


def test_a_dashboard_run_with_an_image_is_carried_out_by_the_worker_from_the_bucket(
    personas, as_user, s3_bucket, broker, tmp_path
):
    broker("memory://")
    catalogue_sync()
    demo = LLMModel.objects.get(name="rightbrain-demo")
    task = task_create(
        project=personas.project,
        user=personas.owner,
        name="Photo judge",
        revision=RevisionSpec(
            user_prompt="Judge {customer_review}",
            llm_model_id=demo.pk,
            output_format={"sentiment": "str"},
        ),
    )
    url = reverse("task_run", args=[personas.project.pk, task.pk])
    image = _png()
    client = as_user("editor")

    client.post(
        url,
        {
            "input_customer_review": "See the photo",
            "images": SimpleUploadedFile("photo.png", image),
        },
        headers={"HX-Request": "true", "HX-Target": "run-workspace"},
    )

    run = TaskRun.objects.get()
    assert run.status == TaskRun.Status.QUEUED
    [stored] = RunFile.objects.filter(task_run=run)
    assert s3_bucket.read(s3_bucket.object_key(stored.storage_key)) == image
    assert not any(tmp_path.iterdir())

    run_complete_queued(run_id=run.pk)  # what the worker does

    run.refresh_from_db()
    assert run.status == TaskRun.Status.SUCCEEDED, run.response
