"""Malformed input is refused at the edge (rightbrain/malformed_input.py): NUL
characters, unpaired surrogates, JSON nested too deep, NaN, bodies too large.
422 (400 for what cannot be read, 413 for size), in the API's envelope or as a
plain page, and nothing is written."""

from __future__ import annotations

import json

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from rightbrain.asgi import application
from rightbrain.malformed_input import MAX_JSON_DEPTH, json_depth
from rightbrain.orgs.services import api_key_create
from runs_app.models import TaskRun
from sharing.services import share_create
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel, Task
from tasks_app.services import RevisionSpec, task_create


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("{}", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"a": "[[[[[[", "b": "\\"[[[["}', 1),
        ("12", 0),
        (_nested(10_000), 10_000),
    ],
)
def test_json_depth_counts_brackets_outside_strings(text, depth):
    assert json_depth(text.encode()) == depth


@pytest.fixture
def demo_task(personas):
    catalogue_sync()  # a transactional test elsewhere may have flushed it
    return task_create(
        project=personas.project,
        user=personas.owner,
        name="Summaries",
        revision=RevisionSpec(
            user_prompt="Summarise {text}",
            llm_model_id=LLMModel.objects.get(name="rightbrain-demo").pk,
            output_format={"summary": "str"},
        ),
    )


@pytest.fixture
def owner_headers(personas) -> dict[str, str]:
    _key, secret = api_key_create(
        project=personas.project, user=personas.owner, name="edge"
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _run(client, project_base, task, body: str, headers):
    return client.post(
        f"{project_base}/task/{task.pk}/run",
        body,
        content_type="application/json",
        **headers,
    )


def _assert_refused(response, loc: list[str], status: int) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["detail"][0]["loc"] == loc


@pytest.mark.parametrize(
    ("body", "loc", "status"),
    [
        ('{"task_input": {"text": "a\\u0000b"}}', ["body", "task_input", "text"], 422),
        ('{"task_input": {"text": "a\\ud800b"}}', ["body", "task_input", "text"], 422),
        ('{"task_input": {"a\\u0000": "x"}}', ["body", "task_input"], 422),
        ('{"task_input": {"text": ' + _nested(10_000) + "}}", ["body"], 400),
        (_nested(10_000), ["body"], 400),
        ('{"task_input": {"text": NaN}}', ["body"], 400),
        ('{"task_input": {"text": 1e999}}', ["body"], 400),
    ],
)
def test_a_run_with_malformed_json_is_refused_and_nothing_is_written(
    client, project_base, demo_task, owner_headers, body, loc, status
):
    response = _run(client, project_base, demo_task, body, owner_headers)
    _assert_refused(response, loc, status)
    assert not TaskRun.objects.exists()


def test_json_at_the_depth_limit_passes_and_one_deeper_is_refused(
    client, project_base, demo_task, owner_headers
):
    # task_input and its value take two levels of the limit.
    def body(depth: int) -> str:
        return '{"task_input": {"text": ' + _nested(depth - 2) + "}}"

    at_limit = _run(
        client, project_base, demo_task, body(MAX_JSON_DEPTH), owner_headers
    )
    assert at_limit.status_code == 200, at_limit.content
    deeper = _run(
        client, project_base, demo_task, body(MAX_JSON_DEPTH + 1), owner_headers
    )
    _assert_refused(deeper, ["body"], 400)
    assert TaskRun.objects.count() == 1


def test_characters_outside_the_basic_plane_still_pass(
    client, project_base, demo_task, owner_headers
):
    # A surrogate pair is one character (here 😀): only unpaired halves are refused.
    body = '{"task_input": {"text": "smile \\ud83d\\ude00"}}'
    response = _run(client, project_base, demo_task, body, owner_headers)
    assert response.status_code == 200, response.content
    assert TaskRun.objects.get().run_data["submitted"]["text"] == "smile 😀"


def test_a_nul_in_a_task_field_is_refused_with_its_location(
    client, project_base, owner_headers
):
    response = client.post(
        f"{project_base}/task",
        json.dumps({"name": "Bad\u0000name", "user_prompt": "Hi {x}"}),
        content_type="application/json",
        **owner_headers,
    )
    _assert_refused(response, ["body", "name"], 422)
    assert not Task.objects.exists()


def test_a_nul_in_the_query_or_the_path_is_refused(client, project_base, owner_headers):
    listed = client.get(f"{project_base}/task?name=a%00b", **owner_headers)
    _assert_refused(listed, ["query", "name"], 422)
    shared = client.get("/api/v1/share/a%00b")
    _assert_refused(shared, ["path"], 422)


def test_a_multipart_run_with_a_nul_or_deep_part_is_refused(
    client, project_base, demo_task, owner_headers
):
    url = f"{project_base}/task/{demo_task.pk}/run"
    nul = client.post(url, {"task_input": '{"text": "a\u0000b"}'}, **owner_headers)
    _assert_refused(nul, ["body", "task_input"], 422)
    deep = client.post(
        url, {"task_input": '{"text": ' + _nested(10_000) + "}"}, **owner_headers
    )
    _assert_refused(deep, ["body", "task_input"], 400)
    assert not TaskRun.objects.exists()


def test_the_public_share_run_refuses_deep_json_without_a_login(client, demo_task):
    share = share_create(task=demo_task, user=demo_task.created_by, allow_inputs=True)
    response = client.post(
        f"/api/v1/share/{share.short_id}/run",
        '{"task_input": {"text": ' + _nested(10_000) + "}}",
        content_type="application/json",
    )
    _assert_refused(response, ["body"], 400)
    assert not TaskRun.objects.exists()


def test_a_body_over_the_upload_limit_is_a_413(
    client, project_base, demo_task, owner_headers, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"task_input": {"text": "x" * 2000}})
    response = _run(client, project_base, demo_task, body, owner_headers)
    _assert_refused(response, ["body"], status=413)


def test_the_api_handler_refuses_malformed_input_too(
    personas, project_base, demo_task, owner_headers, settings
):
    settings.RB_DB_THREADS = 0  # the test's transaction, on the test's thread

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1"
        ) as client:
            return await client.post(
                f"{project_base}/task/{demo_task.pk}/run",
                content='{"task_input": {"text": ' + _nested(10_000) + "}}",
                headers={
                    "Authorization": owner_headers["HTTP_AUTHORIZATION"],
                    "Content-Type": "application/json",
                },
            )

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = async_to_sync(send)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert response.status_code == 400
    assert response.json()["detail"][0]["msg"].startswith("JSON may nest")
    assert not TaskRun.objects.exists()


# Pages ------------------------------------------------------------------------


def test_pages_refuse_a_nul_in_the_query_with_a_plain_page(as_user, personas):
    response = as_user("owner").get(
        f"/projects/{personas.project.pk}/templates?q=a%00b"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert b"NUL characters are not allowed" in response.content


def test_a_public_share_page_refuses_a_nul_in_its_address(client):
    assert client.get("/s/a%00b").status_code == 422


def test_a_dashboard_form_with_a_nul_writes_nothing(as_user, personas):
    response = as_user("owner").post(
        f"/projects/{personas.project.pk}/tasks/new",
        {"name": "Fine", "user_prompt": "Hello\u0000 {name}"},
    )
    assert response.status_code == 422
    assert not Task.objects.exists()


def test_a_session_cookie_with_a_nul_is_refused(client):
    client.cookies["sessionid"] = "a\x00b"
    assert client.get("/accounts/login/").status_code == 422


def test_a_nul_deep_inside_a_large_body_is_found(
    client, project_base, demo_task, owner_headers
):
    # Large bodies are checked in one pass and not walked: the answer names
    # the body rather than the field.
    padding = ["x" * 100] * 12_000
    body = json.dumps({"task_input": {"text": "fine", "notes": [*padding, "a\x00b"]}})
    response = _run(client, project_base, demo_task, body, owner_headers)
    _assert_refused(response, ["body"], 422)
    assert not TaskRun.objects.exists()


def test_an_unreadable_multipart_body_is_a_400_envelope(
    client, project_base, demo_task, owner_headers
):
    response = client.post(
        f"{project_base}/task/{demo_task.pk}/run",
        b"--x\r\nContent-Disposition: form-data; name=\r\n\r\nno end",
        content_type="multipart/form-data; boundary=",
        **owner_headers,
    )
    _assert_refused(response, ["body"], 400)
    assert not TaskRun.objects.exists()
