"""Checklist item 41: a run sent as multipart/form-data."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from runs_app.models import RunFile, TaskRun
from tests.helpers import ApiClient

pytestmark = pytest.mark.usefixtures("run_media")

GOOD = {"sentiment": "positive"}
# Differ from run to run, or name where the run's own file is stored.
VOLATILE = {"id", "created", "input_processor_timing", "llm_call_timing"}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _multipart(client: ApiClient, task, data: dict, **extra):
    return client.client.post(client.url(f"/task/{task['id']}/run"), data, **extra)


def _comparable(run: dict) -> dict:
    files = [
        {k: v for k, v in file.items() if k not in {"stored_filename", "download_url"}}
        for file in run["files"]
    ]
    return {
        **{k: v for k, v in run.items() if k not in VOLATILE},
        "files": files,
    }


def test_a_run_sent_as_multipart_matches_the_same_run_sent_as_json(run_task, fake_llm):
    client, task = run_task()
    png = _png()
    fake_llm.answer(GOOD).answer(GOOD)
    as_json = client.post(
        f"/task/{task['id']}/run",
        {
            "task_input": {"review": "see photo"},
            "task_files": [
                {"filename": "photo.png", "content": base64.b64encode(png).decode()}
            ],
            "task_reference": "order-7",
            "context_id": "chat-1",
        },
    )
    as_multipart = _multipart(
        client,
        task,
        {
            "task_input": json.dumps({"review": "see photo"}),
            "task_files": SimpleUploadedFile("photo.png", png, "image/png"),
            "task_reference": "order-7",
            "context_id": "chat-1",
        },
    )
    assert as_json.status_code == as_multipart.status_code == 200
    assert _comparable(as_multipart.json()) == _comparable(as_json.json())
    assert as_multipart.json()["reference"] == "order-7"
    # The model was asked exactly the same thing, image included.
    assert fake_llm.requests[0]["messages"] == fake_llm.requests[1]["messages"]
    download = client.client.get(as_multipart.json()["files"][0]["download_url"])
    assert b"".join(download.streaming_content) == png


def test_several_file_parts_are_all_stored_with_the_run(run_task, fake_llm):
    client, task = run_task()
    fake_llm.answer(GOOD)
    response = _multipart(
        client,
        task,
        {
            "task_input": json.dumps({"review": "two files"}),
            "task_files": [
                SimpleUploadedFile("photo.png", _png(), "image/png"),
                SimpleUploadedFile("notes.txt", b"Arrived broken.", "text/plain"),
            ],
        },
    )
    assert response.status_code == 200
    files = {f["original_filename"]: f for f in response.json()["files"]}
    assert files["photo.png"]["content_type"] == "image/png"
    assert files["notes.txt"]["content_type"] == "text/plain"
    assert files["notes.txt"]["size_bytes"] == len(b"Arrived broken.")
    assert RunFile.objects.filter(direction=RunFile.Direction.INPUT).count() == 2


@pytest.mark.parametrize(
    ("task_input", "message"),
    [
        ('{"review": "unterminated', "not valid JSON"),
        ('["a list"]', "JSON object"),
        ('"just text"', "JSON object"),
    ],
)
def test_a_task_input_part_that_is_not_a_json_object_is_a_422(
    run_task, fake_llm, task_input, message
):
    client, task = run_task()
    response = _multipart(client, task, {"task_input": task_input})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "task_input"]
    assert message in detail["msg"]
    assert not TaskRun.objects.exists()
    assert fake_llm.requests == []


def test_a_multipart_run_without_task_input_is_a_400_naming_it(run_task, fake_llm):
    client, task = run_task()
    response = _multipart(client, task, {"task_reference": "x"})
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["body", "task_input"]
    assert not TaskRun.objects.exists()


def test_a_missing_variable_in_the_task_input_part_is_a_422_naming_it(
    run_task, fake_llm
):
    client, task = run_task()
    response = _multipart(client, task, {"task_input": json.dumps({"other": 1})})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "task_input", "review"]
    assert not TaskRun.objects.exists()


def test_a_file_part_over_the_limit_is_a_413_and_nothing_is_stored(
    run_task, fake_llm, settings
):
    settings.RB_MAX_FILE_BYTES = 1_000
    client, task = run_task()
    response = _multipart(
        client,
        task,
        {
            "task_input": json.dumps({"review": "big"}),
            "task_files": SimpleUploadedFile("big.txt", b"x" * 5_000, "text/plain"),
        },
    )
    assert response.status_code == 413
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "task_files"]
    assert "at most" in detail["msg"]
    assert not TaskRun.objects.exists()
    assert not RunFile.objects.exists()
    assert fake_llm.requests == []


def test_a_file_under_another_part_name_is_a_422_naming_the_part(run_task, fake_llm):
    client, task = run_task()
    response = _multipart(
        client,
        task,
        {
            "task_input": json.dumps({"review": "x"}),
            "file": SimpleUploadedFile("photo.png", _png(), "image/png"),
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    assert not TaskRun.objects.exists()


def test_task_files_sent_as_text_parts_are_a_422(run_task, fake_llm):
    client, task = run_task()
    response = _multipart(
        client,
        task,
        {"task_input": json.dumps({"review": "x"}), "task_files": "aGVsbG8="},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "task_files"]
    assert not TaskRun.objects.exists()


def test_a_multipart_body_without_a_boundary_is_a_400(run_task, fake_llm):
    client, task = run_task()
    response = client.client.post(
        client.url(f"/task/{task['id']}/run"),
        b"garbage",
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert not TaskRun.objects.exists()


def test_a_gif_part_is_refused_like_a_base64_gif(run_task, fake_llm):
    client, task = run_task()
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    response = _multipart(
        client,
        task,
        {
            "task_input": json.dumps({"review": "x"}),
            "task_files": SimpleUploadedFile("anim.gif", gif.getvalue(), "image/gif"),
        },
    )
    assert response.status_code == 422
    assert "JPEG or PNG" in response.json()["detail"][0]["msg"]
    assert not TaskRun.objects.exists()


def test_outsiders_and_other_tasks_tokens_cannot_run_by_multipart(
    run_task, fake_llm, api, project_base
):
    _client, task = run_task()
    _c, other = run_task(name="Other")
    body = {"task_input": json.dumps({"review": "x"})}
    assert _multipart(api("outsider"), task, body).status_code == 404
    assert _multipart(api(None), task, body).status_code == 401
    other_token = ApiClient(other["access_token"], project_base)
    assert _multipart(other_token, task, body).status_code == 403
    assert not TaskRun.objects.exists()


def test_the_openapi_document_describes_both_bodies(client):
    operation = client.get("/api/openapi.json").json()["paths"][
        "/api/v1/org/{org_id}/project/{project_id}/task/{task_id}/run"
    ]["post"]
    content = operation["requestBody"]["content"]
    json_body = content["application/json"]["schema"]
    assert "task_input" in json_body["properties"]
    file_items = json_body["properties"]["task_files"]["anyOf"][0]["items"]
    assert file_items["required"] == ["filename", "content"]
    multipart = content["multipart/form-data"]["schema"]
    assert multipart["required"] == ["task_input"]
    assert multipart["properties"]["task_files"]["items"]["format"] == "binary"
