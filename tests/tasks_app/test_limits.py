"""How large a task's parts may be (tasks_app/limits.py): at the limit is
accepted, one over is a 422 naming the field (a form error on the pages), and
nothing is written — through the API, the dashboard and a clone alike."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from sharing.services import share_create
from tasks_app.limits import (
    DESCRIPTION_MAX_CHARS,
    OUTPUT_FORMAT_MAX_BYTES,
    OUTPUT_FORMAT_MAX_FIELDS,
    PROMPT_MAX_CHARS,
)
from tasks_app.models import Task, TaskRevision


def _fields(count: int) -> dict[str, str]:
    return {f"field_{n}": "str" for n in range(count)}


def _format_of_bytes(size: int) -> dict[str, dict[str, str]]:
    empty = {"summary": {"type": "str", "description": ""}}
    padding = size - len(json.dumps(empty).encode())
    return {"summary": {"type": "str", "description": "x" * padding}}


def _prompt(size: int) -> str:
    return "Review {review} " + "x" * (size - len("Review {review} "))


# (field, value at the limit, value one over, where the error points)
LIMITS = [
    ("user_prompt", _prompt(PROMPT_MAX_CHARS), _prompt(PROMPT_MAX_CHARS + 1)),
    ("system_prompt", "x" * PROMPT_MAX_CHARS, "x" * (PROMPT_MAX_CHARS + 1)),
    ("description", "x" * DESCRIPTION_MAX_CHARS, "x" * (DESCRIPTION_MAX_CHARS + 1)),
    ("annotation", "x" * DESCRIPTION_MAX_CHARS, "x" * (DESCRIPTION_MAX_CHARS + 1)),
    (
        "output_format",
        _fields(OUTPUT_FORMAT_MAX_FIELDS),
        _fields(OUTPUT_FORMAT_MAX_FIELDS + 1),
    ),
    (
        "output_format",
        _format_of_bytes(OUTPUT_FORMAT_MAX_BYTES),
        _format_of_bytes(OUTPUT_FORMAT_MAX_BYTES + 1),
    ),
]


@pytest.mark.parametrize(("field", "at_limit", "over"), LIMITS)
def test_creating_a_task_accepts_the_limit_and_refuses_one_more(
    api, new_task, field, at_limit, over
):
    client = api("editor")
    refused = client.post("/task", new_task(**{field: over}))
    assert refused.status_code == 422, refused.content
    assert refused.json()["detail"][0]["loc"] == ["body", field]
    assert not Task.objects.exists()
    accepted = client.post("/task", new_task(**{field: at_limit}))
    assert accepted.status_code == 200, accepted.content


@pytest.mark.parametrize(("field", "at_limit", "over"), LIMITS)
def test_updating_a_task_refuses_one_more_and_writes_no_revision(
    api, new_task, field, at_limit, over
):
    client = api("editor")
    task = client.post("/task", new_task()).json()
    refused = client.post(f"/task/{task['id']}", {field: over})
    assert refused.status_code == 422, refused.content
    assert refused.json()["detail"][0]["loc"] == ["body", field]
    assert TaskRevision.objects.count() == 1
    assert Task.objects.get().description == ""
    accepted = client.post(f"/task/{task['id']}", {field: at_limit})
    assert accepted.status_code == 200, accepted.content


def test_a_variables_description_is_bounded_too(api, new_task):
    def body(size: int):
        described = {"name": "review", "description": "x" * size}
        return new_task(input_params=[described])

    client = api("editor")
    refused = client.post("/task", body(DESCRIPTION_MAX_CHARS + 1))
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "input_params", "review"]
    assert not Task.objects.exists()
    assert client.post("/task", body(DESCRIPTION_MAX_CHARS)).status_code == 200


def test_the_dashboard_shows_an_over_long_prompt_as_a_form_error(
    personas, as_user, llm
):
    url = reverse("task_create", args=[personas.project.pk])
    response = as_user("editor").post(
        url,
        {
            "name": "Too long",
            "description": "",
            "user_prompt": _prompt(PROMPT_MAX_CHARS + 1),
            "system_prompt": "",
            "output_modality": "text",
            "output_format": "",
            "llm_model": str(llm.vision.pk),
            "fallback_llm_model": "",
            "enabled": "on",
            "optimise_images": "on",
            "task_run_visibility": "owner_only",
            "task_forwarder": "",
            "editor_action": "save",
        },
    )
    assert response.status_code == 200
    assert f"has at most {PROMPT_MAX_CHARS:,} characters" in response.text
    assert not Task.objects.exists()


def test_a_clone_of_a_task_over_the_limits_is_refused(api, personas, new_task):
    """A task written before the limits existed cannot be copied past them."""
    client = api("editor")
    task = Task.objects.get(pk=client.post("/task", new_task()).json()["id"])
    TaskRevision.objects.filter(task=task).update(
        system_prompt="x" * (PROMPT_MAX_CHARS + 1)
    )
    share = share_create(task=task, user=personas.editor)
    response = client.post(f"/share/{share.short_id}/clone")
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["body", "system_prompt"]
    assert Task.objects.count() == 1


def test_forwarder_and_share_descriptions_are_bounded_too(api, new_task):
    client = api("editor")
    too_long = "x" * (DESCRIPTION_MAX_CHARS + 1)
    hook = {
        "name": "Hook",
        "config": {"destination_url": "https://93.184.216.34/hook"},
        "description": too_long,
    }
    refused = client.post("/task_forwarder", hook)
    assert refused.status_code == 422, refused.content
    assert refused.json()["detail"][0]["loc"] == ["body", "description"]
    hook["description"] = "x" * DESCRIPTION_MAX_CHARS
    assert client.post("/task_forwarder", hook).status_code == 200
    task = client.post("/task", new_task()).json()
    share = client.post(f"/task/{task['id']}/share", {"description": too_long})
    assert share.status_code == 422, share.content
    assert share.json()["detail"][0]["loc"] == ["body", "description"]
