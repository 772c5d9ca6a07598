"""Checklist items 40 and 42: images sent with runs."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from runs_app.models import RunFile, TaskRun
from tests.helpers import ApiClient

GOOD = {"sentiment": "positive"}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


def _image(fmt="PNG", size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def _files(*items):
    return [
        {"filename": name, "content": base64.b64encode(data).decode()}
        for name, data in items
    ]


def _run(client, task, files, task_input=None):
    return client.post(
        f"/task/{task['id']}/run",
        {"task_input": task_input or {"review": "see photo"}, "task_files": files},
    )


# 40
def test_an_image_required_revision_needs_an_image_and_stores_it(run_task, fake_llm):
    client, task = run_task(image_required=True)
    no_image = client.post(f"/task/{task['id']}/run", {"task_input": {"review": "x"}})
    assert no_image.status_code == 400
    png = _image()
    fake_llm.answer(GOOD)
    response = _run(client, task, _files(("photo.png", png)))
    assert response.status_code == 200
    file = response.json()["files"][0]
    assert file["content_type"] == "image/png"
    assert file["size_bytes"] == len(png)
    assert file["original_filename"] == "photo.png"
    download = client.client.get(file["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == png
    # The model saw the image as a vision content part.
    parts = fake_llm.requests[0]["messages"][-1]["content"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


# 42
def test_images_need_a_vision_model_and_must_be_jpeg_or_png(
    run_task, fake_llm, api, llm
):
    client, task = run_task()
    gif = _image("GIF")
    refused = _run(client, task, _files(("anim.gif", gif)))
    assert refused.status_code == 422
    assert "JPEG or PNG" in refused.json()["detail"][0]["msg"]
    blind = client.post(
        "/task",
        {
            "name": "Blind",
            "enabled": True,
            "system_prompt": "",
            "user_prompt": "Review: {review}",
            "llm_model_id": str(llm.plain.pk),
        },
    ).json()
    assert _run(client, blind, _files(("p.png", _image()))).status_code == 422
    assert not TaskRun.objects.exists()
    assert fake_llm.requests == []


def test_bad_base64_is_a_400(run_task):
    client, task = run_task()
    response = _run(client, task, [{"filename": "x.png", "content": "***"}])
    assert response.status_code == 400


def test_large_images_are_shrunk_before_the_model_unless_told_not_to(
    run_task, fake_llm, settings
):
    settings.RB_IMAGE_MAX_SIDE = 100
    client, task = run_task()
    big = _image("JPEG", (400, 200))
    fake_llm.answer(GOOD)
    _run(client, task, _files(("big.jpg", big)))
    sent = fake_llm.requests[0]["messages"][-1]["content"][1]["image_url"]["url"]
    shrunk = Image.open(io.BytesIO(base64.b64decode(sent.split(",", 1)[1])))
    assert max(shrunk.size) == 100
    # The stored original is untouched.
    stored = RunFile.objects.get()
    with default_storage.open(stored.storage_key, "rb") as handle:
        assert handle.read() == big


def test_run_files_are_private_to_the_task_and_go_with_it(
    run_task, fake_llm, api, django_capture_on_commit_callbacks
):
    client, task = run_task()
    fake_llm.answer(GOOD)
    file = _run(client, task, _files(("p.png", _image()))).json()["files"][0]
    assert api("outsider").client.get(file["download_url"]).status_code == 404
    assert api(None).client.get(file["download_url"]).status_code == 401
    key = RunFile.objects.get().storage_key
    assert default_storage.exists(key)
    with django_capture_on_commit_callbacks(execute=True):
        client.delete(f"/task/{task['id']}")
    assert client.client.get(file["download_url"]).status_code == 404
    assert not RunFile.objects.exists()
    assert not default_storage.exists(key)


def test_a_task_token_downloads_the_files_of_its_own_runs_only(
    run_task, fake_llm, api, project_base
):
    owner, task = run_task(persona="owner", image_required=True)
    token = ApiClient(task["access_token"], project_base)
    fake_llm.answer(GOOD).answer(GOOD)
    owners = _run(owner, task, _files(("o.png", _image()))).json()["files"][0]
    tokens = _run(token, task, _files(("t.png", _image()))).json()["files"][0]
    assert token.client.get(tokens["download_url"]).status_code == 200
    assert token.client.get(owners["download_url"]).status_code == 404
    assert owner.client.get(tokens["download_url"]).status_code == 200


def test_a_file_over_the_limit_is_refused_with_its_size(run_task, fake_llm, settings):
    settings.RB_MAX_FILE_BYTES = 1_000
    client, task = run_task()
    response = _run(client, task, _files(("huge.png", _image(size=(400, 400)) * 3)))
    assert response.status_code == 413
    assert "at most" in response.json()["detail"][0]["msg"]
    assert not RunFile.objects.exists()
    assert fake_llm.requests == []


def test_a_body_over_the_request_limit_is_a_413(run_task, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    client, task = run_task()
    response = _run(client, task, _files(("big.bin", b"x" * 200_000)))
    assert response.status_code == 413
    assert not TaskRun.objects.exists()
