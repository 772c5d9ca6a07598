"""Saving an edit as a revision (`revision_save`): the dashboard editor and the
API carry every field they do not change, agree on when nothing changed, and
make a revision live in the same transaction as saving it."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from rightbrain.errors import Invalid
from rightbrain.orgs.models import AuditEvent
from tasks_app.models import ActiveRevision, TaskRevision
from tasks_app.services import base_revision, revision_save

FALLBACK_CONFIG = {"max_tokens": 321}
RAG = {"collection_id": "0190d2c2-5a3e-7b7c-8000-000000000001", "rag_param": "review"}


@pytest.fixture
def configured(api, new_task, llm):
    """A task whose settings were made over the API, some of which the
    dashboard editor has no field for or shows rounded."""
    client = api("editor")
    response = client.post(
        "/task",
        new_task(
            user_prompt="Judge {review}",
            llm_config={"temperature": 0.333},
            fallback_llm_model_id=str(llm.plain.pk),
            fallback_llm_config=FALLBACK_CONFIG,
            rag=RAG,
            input_processors=[
                {
                    "param_name": "review",
                    "input_processor": "url_fetcher",
                    "config": {"max_length": 900},
                }
            ],
        ),
    )
    assert response.status_code == 200, response.json()
    return response.json()


def _editor_post(personas, task_id, llm, **overrides):
    """What the editor posts for the configured task, as the page shows it."""
    return {
        "name": "Review checker",
        "description": "",
        "user_prompt": "Judge {review}",
        "system_prompt": "You are careful.",
        "output_modality": "json",
        "output_format": "",
        "llm_model": str(llm.vision.pk),
        "fallback_llm_model": str(llm.plain.pk),
        "temperature_set": "on",
        "temperature": "33",
        "enabled": "on",
        "optimise_images": "on",
        "task_run_visibility": "owner_only",
        "task_forwarder": "",
        "input_review_format": "url_fetcher",
        "input_review_max_length": "900",
        "editor_action": "save",
        **overrides,
    }


def _edit(as_user, personas, task_id, data):
    url = reverse("task_edit", args=[personas.project.pk, task_id])
    return as_user("editor").post(url, data)


def _settings(revision: TaskRevision) -> dict:
    return {
        "llm_config": revision.llm_config,
        "fallback_llm_model_id": revision.fallback_llm_model_id,
        "fallback_llm_config": revision.fallback_llm_config,
        "rag": revision.rag,
        "input_processors": revision.input_processors,
        "system_prompt": revision.system_prompt,
    }


def test_a_dashboard_edit_keeps_the_settings_made_over_the_api(
    personas, as_user, llm, configured
):
    first = TaskRevision.objects.get(pk=configured["revisions"][0]["id"])
    response = _edit(
        as_user,
        personas,
        configured["id"],
        _editor_post(personas, configured["id"], llm, user_prompt="Rate {review}"),
    )
    assert response.status_code == 302
    newest = TaskRevision.objects.filter(task_id=configured["id"]).latest("created")
    assert newest.user_prompt == "Rate {review}"
    assert _settings(newest) == _settings(first)
    assert newest.fallback_llm_config == FALLBACK_CONFIG
    assert newest.llm_config == {"temperature": 0.333}


def test_the_same_edit_through_the_dashboard_and_the_api_saves_the_same_revision(
    personas, as_user, api, llm, configured
):
    task_id = configured["id"]
    _edit(
        as_user,
        personas,
        task_id,
        _editor_post(personas, task_id, llm, user_prompt="Rate {review}"),
    )
    api("editor").post(f"/task/{task_id}", {"user_prompt": "Rate {review}"})
    first, from_dashboard, from_api = TaskRevision.objects.filter(
        task_id=task_id
    ).order_by("created")
    assert from_dashboard.user_prompt == from_api.user_prompt == "Rate {review}"
    assert _settings(from_dashboard) == _settings(from_api) == _settings(first)


def test_an_unchanged_save_in_the_dashboard_makes_no_revision(
    personas, as_user, llm, configured
):
    response = _edit(
        as_user,
        personas,
        configured["id"],
        _editor_post(personas, configured["id"], llm, name="Renamed"),
    )
    assert response.status_code == 302
    assert TaskRevision.objects.filter(task_id=configured["id"]).count() == 1


def test_an_unchanged_update_over_the_api_makes_no_revision_and_answers_200(
    api, configured, llm
):
    client = api("editor")
    response = client.post(
        f"/task/{configured['id']}",
        {
            "user_prompt": "Judge {review}",
            "llm_model_id": str(llm.vision.pk),
            "fallback_llm_config": FALLBACK_CONFIG,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert [r["id"] for r in body["revisions"]] == [
        r["id"] for r in configured["revisions"]
    ]
    assert body["active_revisions"] == configured["active_revisions"]


def test_sending_the_same_model_again_keeps_its_settings(api, configured, llm):
    client = api("editor")
    body = client.post(
        f"/task/{configured['id']}",
        {
            "user_prompt": "Rate {review}",
            "llm_model_id": str(llm.vision.pk),
            "fallback_llm_model_id": str(llm.plain.pk),
        },
    ).json()
    newest = body["revisions"][-1]
    assert newest["llm_config"] == {"temperature": 0.333}
    assert newest["fallback_llm_config"] == FALLBACK_CONFIG


def test_another_fallback_model_starts_without_the_old_ones_settings(
    api, configured, llm
):
    client = api("editor")
    body = client.post(
        f"/task/{configured['id']}", {"fallback_llm_model_id": str(llm.image.pk)}
    ).json()
    newest = body["revisions"][-1]
    assert newest["fallback_llm_model_id"] == str(llm.image.pk)
    assert newest["fallback_llm_config"] == {}


def test_make_live_in_the_dashboard_saves_and_moves_traffic_together(
    personas, as_user, llm, configured
):
    _edit(
        as_user,
        personas,
        configured["id"],
        _editor_post(
            personas,
            configured["id"],
            llm,
            user_prompt="Rate {review}",
            make_live="on",
        ),
    )
    live = ActiveRevision.objects.get(task_id=configured["id"])
    assert live.task_revision.user_prompt == "Rate {review}"
    assert live.task_revision.fallback_llm_config == FALLBACK_CONFIG
    actions = set(
        AuditEvent.objects.filter(target_id=configured["id"]).values_list(
            "action", flat=True
        )
    )
    assert {
        AuditEvent.Action.TASK_EDITED,
        AuditEvent.Action.TASK_TRAFFIC_CHANGED,
    } <= actions


def test_a_refused_make_live_leaves_no_revision_behind(personas, configured):
    task = TaskRevision.objects.get(pk=configured["revisions"][0]["id"]).task
    before = base_revision(task)
    # The revision is written first, then the traffic change refuses it: a
    # test revision never receives traffic.
    with pytest.raises(Invalid, match="Test revisions never receive traffic"):
        revision_save(
            task=task,
            user=personas.editor,
            changes={"user_prompt": "Rate {review}", "test": True},
            make_live=True,
        )
    assert list(TaskRevision.objects.filter(task=task)) == [before]
    assert ActiveRevision.objects.get(task=task).task_revision == before


def test_a_refused_edit_in_the_dashboard_changes_nothing(
    personas, as_user, llm, configured
):
    response = _edit(
        as_user,
        personas,
        configured["id"],
        _editor_post(
            personas,
            configured["id"],
            llm,
            user_prompt="Rate {review}",
            output_format=json.dumps({"verdict": {"type": "nope"}}),
            make_live="on",
        ),
    )
    assert response.status_code == 200
    assert TaskRevision.objects.filter(task_id=configured["id"]).count() == 1


def test_resending_a_revision_on_a_retired_model_is_no_edit(api, configured, llm):
    llm.vision.retired = llm.retired.retired
    llm.vision.save()
    client = api("editor")
    unchanged = client.post(
        f"/task/{configured['id']}",
        {"name": "Renamed", "user_prompt": "Judge {review}"},
    )
    assert unchanged.status_code == 200
    assert len(unchanged.json()["revisions"]) == 1
    edited = client.post(f"/task/{configured['id']}", {"user_prompt": "Rate {review}"})
    assert edited.status_code == 422
    assert "Vision-Model is retired" in edited.json()["detail"][0]["msg"]
    assert TaskRevision.objects.filter(task_id=configured["id"]).count() == 1


def test_saving_an_edit_live_costs_a_fixed_number_of_queries(
    personas, as_user, llm, configured, django_assert_num_queries
):
    client = as_user("editor")
    url = reverse("task_edit", args=[personas.project.pk, configured["id"]])
    data = _editor_post(
        personas, configured["id"], llm, user_prompt="Rate {review}", make_live="on"
    )
    # 1 session, 2 user, 3 project with role, 4 task, 5 caller's grants,
    # 6 the live revision, 7 its model, 8 models, 9 their comments,
    # 10 forwarders; in one transaction (11 savepoint): 12 the task locked
    # with its project, (13 savepoint) 14 the model, 15 the fallback model,
    # 16 the new revision, 17 the revisions for the traffic, 18 traffic
    # before, 19-20 traffic replaced, 21 traffic audited, (22 release)
    # 23 edit audited, 24 task saved, (25 release); 26-28 the session.
    with django_assert_num_queries(28):
        assert client.post(url, data).status_code == 302
