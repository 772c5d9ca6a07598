"""Every task, model, processor and tag endpoint for each kind of caller."""

from __future__ import annotations

import pytest

from tasks_app.models import Tag, Task
from tests.helpers import ApiClient


@pytest.fixture
def targets(api, new_task, personas):
    task = api("owner").post("/task", new_task()).json()
    tag = Tag.objects.create(project=personas.project, name="prod", entity_type="task")
    return task, tag


def _requests(task, tag, new_task):
    """(name, method, path, body, needs) — `needs` is "view" or "edit"."""
    return [
        ("list", "get", "/task", None, "view"),
        ("get", "get", f"/task/{task['id']}", None, "view"),
        ("create", "post", "/task", new_task(name="New one"), "edit"),
        ("update", "post", f"/task/{task['id']}", {"name": "Changed"}, "edit"),
        ("models", "get", "/model", None, "view"),
        ("processors", "get", "/input_processor", None, "view"),
        ("tags", "get", "/task/tag", None, "view"),
        ("tag", "get", f"/task/tag/{tag.pk}", None, "view"),
        (
            "tag create",
            "post",
            "/task/tag",
            {"name": "x", "entity_type": "task"},
            "edit",
        ),
        ("tag rename", "post", f"/task/tag/{tag.pk}", {"name": "y"}, "edit"),
        ("tag delete", "delete", f"/tags/{tag.pk}", None, "edit"),
        ("delete", "delete", f"/task/{task['id']}", None, "edit"),
    ]


def _call(client, method, path, body):
    if method == "post":
        return client.post(path, body)
    return getattr(client, method)(path)


def test_a_viewer_reads_but_cannot_write(api, targets, new_task):
    task, tag = targets
    client = api("viewer")
    for name, method, path, body, needs in _requests(task, tag, new_task):
        response = _call(client, method, path, body)
        expected = 200 if needs == "view" else 403
        assert response.status_code == expected, name
        if expected == 403:
            assert response.json()["type"] == "authorization_error"
    assert Task.objects.get(pk=task["id"]).name == "Review checker"
    assert Tag.objects.get(pk=tag.pk).name == "prod"


def test_an_editor_does_everything(api, targets, new_task):
    task, tag = targets
    client = api("editor")
    for name, method, path, body, _needs in _requests(task, tag, new_task):
        assert _call(client, method, path, body).status_code in {200, 204}, name


def test_an_outsider_with_a_valid_key_finds_nothing(api, targets, new_task, personas):
    task, tag = targets
    # The outsider's own key, aimed at Acme's project.
    client = api("outsider")
    for name, method, path, body, _needs in _requests(task, tag, new_task):
        response = _call(client, method, path, body)
        assert response.status_code == 404, name
        assert response.json()["type"] == "resource_error"
    assert Task.objects.filter(project=personas.project).count() == 1


def test_no_credentials_is_401_everywhere(api, targets, new_task):
    task, tag = targets
    for name, method, path, body, _needs in _requests(task, tag, new_task):
        response = _call(api(None), method, path, body)
        assert response.status_code == 401, name


def test_a_task_token_cannot_manage_tasks(api, targets, new_task, project_base):
    task, tag = targets
    client = ApiClient(task["access_token"], project_base)
    assert client.get("/task").status_code == 403
    assert client.get(f"/task/{task['id']}").status_code == 403
    assert client.post(f"/task/{task['id']}", {"name": "x"}).status_code == 403
    assert client.delete(f"/task/{task['id']}").status_code == 403
    assert Task.objects.filter(pk=task["id"]).exists()
