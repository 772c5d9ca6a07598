"""Task responses are served from cached snapshots; every change shows at once."""

from __future__ import annotations

from django.utils import timezone

from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel, LLMModelComment


def _task(api, new_task, **fields):
    return api("editor").post("/task", new_task(**fields)).json()


def test_a_renamed_tag_shows_in_the_task_at_once(api, new_task):
    client = api("editor")
    task = _task(api, new_task)
    tag = client.post("/task/tag", {"name": "prod", "entity_type": "task"}).json()
    client.post(f"/task/{task['id']}", {"tags": [tag["id"]]})
    assert client.get(f"/task/{task['id']}").json()["tags"][0]["name"] == "prod"
    client.post(f"/task/tag/{tag['id']}", {"name": "live"})
    assert client.get(f"/task/{task['id']}").json()["tags"][0]["name"] == "live"
    assert client.get("/task").json()["results"][0]["tags"][0]["name"] == "live"


def test_a_deleted_revision_tag_leaves_the_revision_at_once(api, new_task):
    client = api("editor")
    task = _task(api, new_task)
    tag = client.post(
        "/task_revision/tag", {"name": "beta", "entity_type": "task_revision"}
    ).json()
    client.post(f"/task/{task['id']}", {"revision_tags": [tag["id"]]})
    assert client.get(f"/task/{task['id']}").json()["revisions"][0]["tags"]
    client.delete(f"/tags/{tag['id']}")
    assert client.get(f"/task/{task['id']}").json()["revisions"][0]["tags"] == []


def test_catalogue_edits_show_in_tasks_at_once(api, new_task, llm):
    client = api("viewer")
    task = _task(api, new_task)
    assert (
        client.get(f"/task/{task['id']}").json()["revisions"][0]["llm_model"]["retired"]
        is None
    )
    llm.vision.retired = timezone.now()
    llm.vision.save()
    model = client.get(f"/task/{task['id']}").json()["revisions"][0]["llm_model"]
    assert model["retired"] is not None
    LLMModelComment.objects.create(
        llm_model=llm.vision, title="Deprecated", description="Use the next one."
    )
    model = client.get(f"/task/{task['id']}").json()["revisions"][0]["llm_model"]
    assert [c["title"] for c in model["llm_model_comments"]] == ["Deprecated"]


def test_a_catalogue_sync_shows_in_tasks_at_once(api, new_task):
    client = api("viewer")
    sonnet = LLMModel.objects.get(name="claude-sonnet-4-5-20250929")
    task = _task(api, new_task, llm_model_id=str(sonnet.pk))
    comments = client.get(f"/task/{task['id']}").json()["revisions"][0]["llm_model"][
        "llm_model_comments"
    ]
    assert comments
    LLMModelComment.objects.filter(llm_model=sonnet).delete()
    model = client.get(f"/task/{task['id']}").json()["revisions"][0]["llm_model"]
    assert model["llm_model_comments"] == []
    catalogue_sync()  # puts the comments back with bulk_create: no signals
    model = client.get(f"/task/{task['id']}").json()["revisions"][0]["llm_model"]
    assert [c["title"] for c in model["llm_model_comments"]] == [
        c["title"] for c in comments
    ]


def test_the_access_token_follows_the_caller_not_the_cache(api, new_task):
    task = _task(api, new_task)
    assert api("viewer").get(f"/task/{task['id']}").json()["access_token"] is None
    token = api("editor").get(f"/task/{task['id']}").json()["access_token"]
    assert token and token == task["access_token"]
    assert api("viewer").get(f"/task/{task['id']}").json()["access_token"] is None
    listed = api("viewer").get("/task").json()["results"][0]
    assert listed["access_token"] is None


def test_test_revisions_are_a_separate_view_of_the_task(api, new_task):
    client = api("editor")
    task = _task(api, new_task)
    client.post(f"/task/{task['id']}", {"user_prompt": "Try {review}", "test": True})
    assert len(client.get(f"/task/{task['id']}").json()["revisions"]) == 1
    shown = client.get(f"/task/{task['id']}?include_tests=true").json()
    assert len(shown["revisions"]) == 2
    assert len(client.get(f"/task/{task['id']}").json()["revisions"]) == 1
