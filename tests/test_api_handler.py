"""The API's own ASGI handler: /api/v1/ without the browser's middleware, the
rest of the site on Django's full stack (rightbrain/asgi.py)."""

from __future__ import annotations

import threading

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.db.models.signals import post_save

from rightbrain import blocking
from rightbrain.asgi import application
from rightbrain.orgs.services import api_key_create, organization_create
from runs_app.models import HourlyUsage, TaskRun
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel
from tasks_app.services import RevisionSpec, task_create
from tests.helpers import make_user


def _request(method: str, path: str, **kwargs) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1"
        ) as client:
            return await client.request(method, path, **kwargs)

    # As Django's test client does: a request must not close the test's
    # connection, which holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        return async_to_sync(send)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _demo_task(project, user):
    demo = LLMModel.objects.get(name="rightbrain-demo")
    return task_create(
        project=project,
        user=user,
        name="Demo",
        revision=RevisionSpec(
            system_prompt="",
            user_prompt="Summarise {text}",
            llm_model_id=demo.pk,
            output_format={"summary": "str"},
        ),
    )


def _bearer(project, user) -> dict[str, str]:
    _key, secret = api_key_create(project=project, user=user, name="asgi")
    return {"Authorization": f"Bearer {secret}"}


def test_api_responses_carry_the_security_headers_and_no_session(
    personas, project_base
):
    response = _request(
        "GET", project_base + "/task", headers=_bearer(personas.project, personas.owner)
    )
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    # Nothing from the browser's stack: no session or CSRF cookie, no Vary on it.
    assert "set-cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_the_api_refuses_an_unknown_host(personas, project_base):
    response = _request(
        "GET",
        project_base + "/task",
        headers={**_bearer(personas.project, personas.owner), "Host": "evil.test"},
    )
    assert response.status_code == 400


def test_an_unknown_token_is_a_401_envelope(personas, project_base):
    task = _demo_task(personas.project, personas.owner)
    response = _request(
        "POST",
        f"{project_base}/task/{task.pk}/run",
        json={"task_input": {"text": "hello"}},
        headers={"Authorization": "Bearer rb_not_a_key"},
    )
    assert response.status_code == 401
    assert response.json()["detail"]
    assert not TaskRun.objects.exists()


@pytest.mark.django_db
def test_pages_outside_the_api_keep_the_full_stack():
    response = _request("GET", "/accounts/login/")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers
    assert "csrftoken" in response.headers.get("set-cookie", "")


@pytest.mark.django_db(transaction=True)
def test_runs_served_by_the_api_handler_use_the_database_threads(settings):
    catalogue_sync()  # transactional tests start from flushed tables
    settings.RB_DB_THREADS = 2
    blocking._database_threads.cache_clear()
    owner = make_user("lean@acme.test", "Lean Owner")
    project = organization_create(name="Lean", owner=owner).projects.get()
    task = _demo_task(project, owner)
    saved_on: list[str] = []

    def note_thread(sender, **kwargs):
        saved_on.append(threading.current_thread().name)

    post_save.connect(note_thread, sender=TaskRun)
    try:
        response = _request(
            "POST",
            f"/api/v1/org/{project.organization_id}/project/{project.pk}"
            f"/task/{task.pk}/run",
            json={"task_input": {"text": "a long article"}},
            headers=_bearer(project, owner),
        )
    finally:
        post_save.disconnect(note_thread, sender=TaskRun)
        blocking._database_threads.cache_clear()
    assert response.status_code == 200, response.text
    assert set(response.json()["response"]) == {"summary"}
    assert TaskRun.objects.filter(pk=response.json()["id"]).exists()
    assert HourlyUsage.objects.get().runs == 1
    # Written on one of the database threads, not the request's sync thread.
    assert saved_on and saved_on[0].startswith("database")


def test_the_files_origin_answers_no_api_request(db, settings):
    """The API's handler skips the browser's middleware, not the rule that the
    files origin serves file links only."""
    settings.RB_FILES_ORIGIN = "https://files.example-usercontent.test"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "files.example-usercontent.test"]
    on_files = _request(
        "GET", "/api/v1/share/abc", headers={"Host": "files.example-usercontent.test"}
    )
    assert on_files.status_code == 404
    assert on_files.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert _request("GET", "/api/v1/share/abc").json()["type"] == "resource_error"
