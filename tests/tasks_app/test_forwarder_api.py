"""Checklist items 100, 101 and 104: task forwarders over the API, and revisions
that name them. Deliveries are in tests/runs_app/test_forwarding.py."""

from __future__ import annotations

import json

import pytest

from rightbrain.orgs.tokens import decrypt_secret
from tasks_app.models import Task, TaskForwarder, TaskRevision
from tasks_app.services import task_forwarder_create

SIGNING_KEY = "sdkjhsfd2sdfkj3223.23rh"
# A public address written as an IP: checked without a DNS lookup.
PUBLIC_URL = "https://93.184.216.34/hooks/rightbrain"


def _create(client, **overrides):
    body = {
        "name": "Webhook Endpoint",
        "description": "Send all Task output to this API endpoint.",
        "config": {"destination_url": PUBLIC_URL},
        "config_sensitive": {"signing_key": SIGNING_KEY},
        **overrides,
    }
    return client.post("/task_forwarder", body)


@pytest.fixture
def forwarder(api):
    response = _create(api("editor"))
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture
def foreign_forwarder(personas):
    return task_forwarder_create(
        project=personas.other_project,
        name="Theirs",
        config={"destination_url": PUBLIC_URL},
    )


# 100
def test_a_created_forwarder_says_it_has_sensitive_config_but_never_shows_it(
    api, personas
):
    response = _create(api("editor"))
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Webhook Endpoint"
    assert body["project_id"] == str(personas.project.pk)
    assert body["config"] == {"destination_url": PUBLIC_URL}
    assert body["has_sensitive_config"] is True
    assert "config_sensitive" not in body
    assert SIGNING_KEY not in response.content.decode()
    stored = TaskForwarder.objects.get(pk=body["id"])
    assert SIGNING_KEY not in stored.config_sensitive_encrypted
    plain = decrypt_secret(stored.config_sensitive_encrypted)
    assert json.loads(plain or "") == {"signing_key": SIGNING_KEY}


def test_a_forwarder_without_a_signing_key_has_no_sensitive_config(api):
    response = _create(api("editor"), config_sensitive=None)
    assert response.status_code == 200
    assert response.json()["has_sensitive_config"] is False


# 101
def test_forwarders_list_in_pages_newest_first(api):
    client = api("editor")
    ids = [_create(client, name=f"Hook {n}").json()["id"] for n in range(3)]
    first = client.get("/task_forwarder", page_limit=2).json()
    assert [f["id"] for f in first["results"]] == ids[::-1][:2]
    assert first["pagination"] == {
        "next_cursor": ids[1],
        "has_next": True,
        "page_limit": 2,
    }
    second = client.get(
        "/task_forwarder", page_limit=2, cursor=first["pagination"]["next_cursor"]
    ).json()
    assert [f["id"] for f in second["results"]] == [ids[0]]
    assert second["pagination"]["has_next"] is False
    assert second["pagination"]["next_cursor"] is None
    assert client.get("/task_forwarder", page_limit=0).status_code == 400
    unknown = "01900000-0000-7000-8000-000000000000"
    assert client.get("/task_forwarder", cursor=unknown).status_code == 400


# 101
def test_a_forwarder_is_fetched_and_updated(api, forwarder):
    client = api("editor")
    fetched = client.get(f"/task_forwarder/{forwarder['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == forwarder
    other_url = "https://93.184.216.35/other"
    response = client.post(
        f"/task_forwarder/{forwarder['id']}",
        {
            "name": "Renamed",
            "description": None,
            "config": {"destination_url": other_url},
        },
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["name"] == "Renamed"
    assert updated["description"] is None
    assert updated["config"] == {"destination_url": other_url}
    assert updated["has_sensitive_config"] is True
    assert updated["modified"] > forwarder["modified"]
    assert client.get(f"/task_forwarder/{forwarder['id']}").json() == updated


# 101
def test_updating_config_sensitive_replaces_the_key_and_empty_removes_it(
    api, forwarder
):
    client = api("editor")
    path = f"/task_forwarder/{forwarder['id']}"
    response = client.post(path, {"config_sensitive": {"signing_key": "new-key"}})
    assert response.status_code == 200
    assert "new-key" not in response.content.decode()
    stored = TaskForwarder.objects.get(pk=forwarder["id"])
    plain = decrypt_secret(stored.config_sensitive_encrypted)
    assert json.loads(plain or "") == {"signing_key": "new-key"}
    assert client.post(path, {"name": "Only the name"}).json()["has_sensitive_config"]
    cleared = client.post(path, {"config_sensitive": {}})
    assert cleared.json()["has_sensitive_config"] is False


# 104
def test_a_forwarder_of_another_project_is_refused_on_create_and_update(
    api, new_task, foreign_forwarder
):
    client = api("editor")
    created = client.post(
        "/task", new_task(task_forwarder_id=str(foreign_forwarder.pk))
    )
    assert created.status_code == 422
    assert created.json()["detail"][0]["loc"] == ["body", "task_forwarder_id"]
    assert not Task.objects.exists()
    task = client.post("/task", new_task()).json()
    updated = client.post(
        f"/task/{task['id']}", {"task_forwarder_id": str(foreign_forwarder.pk)}
    )
    assert updated.status_code == 422
    assert updated.json()["detail"][0]["loc"] == ["body", "task_forwarder_id"]
    assert TaskRevision.objects.filter(task_id=task["id"]).count() == 1


# 104
def test_a_forwarder_a_revision_uses_cannot_be_deleted(api, new_task, forwarder):
    client = api("editor")
    task = client.post("/task", new_task(task_forwarder_id=forwarder["id"])).json()
    response = client.delete(f"/task_forwarder/{forwarder['id']}")
    assert response.status_code == 422
    assert response.json()["type"] == "validation_error"
    assert TaskForwarder.objects.filter(pk=forwarder["id"]).exists()
    # Once the task (and so its revisions) is gone, the forwarder may go too.
    assert client.delete(f"/task/{task['id']}").status_code == 200
    deleted = client.delete(f"/task_forwarder/{forwarder['id']}")
    assert deleted.status_code == 200
    assert deleted.content == b"null"
    assert not TaskForwarder.objects.exists()
    assert client.get(f"/task_forwarder/{forwarder['id']}").status_code == 404


def test_an_unknown_forwarder_is_422_on_create_and_update(api, new_task):
    # Answered like another project's forwarder (no existence oracle).
    client = api("editor")
    unknown = "01900000-0000-7000-8000-000000000000"
    created = client.post("/task", new_task(task_forwarder_id=unknown))
    assert created.status_code == 422
    task = client.post("/task", new_task()).json()
    updated = client.post(f"/task/{task['id']}", {"task_forwarder_id": unknown})
    assert updated.status_code == 422
    assert updated.json()["detail"][0]["loc"] == ["body", "task_forwarder_id"]


def test_revisions_show_their_forwarder_and_new_ones_inherit_it(
    api, new_task, forwarder
):
    client = api("editor")
    task = client.post("/task", new_task(task_forwarder_id=forwarder["id"])).json()
    assert task["revisions"][0]["task_forwarder_id"] == forwarder["id"]
    updated = client.post(f"/task/{task['id']}", {"user_prompt": "Again {review}"})
    assert [r["task_forwarder_id"] for r in updated.json()["revisions"]] == [
        forwarder["id"],
        forwarder["id"],
    ]
    plain = client.post("/task", new_task(name="Plain")).json()
    assert plain["revisions"][0]["task_forwarder_id"] is None
    attached = client.post(
        f"/task/{plain['id']}", {"task_forwarder_id": forwarder["id"]}
    ).json()
    assert [r["task_forwarder_id"] for r in attached["revisions"]] == [
        None,
        forwarder["id"],
    ]


def test_deleting_a_project_takes_its_forwarders_with_the_tasks_that_use_them(
    api, personas, new_task, forwarder
):
    api("editor").post("/task", new_task(task_forwarder_id=forwarder["id"]))
    personas.project.delete()
    assert not TaskForwarder.objects.exists()
    assert not Task.objects.exists()


# Access ---------------------------------------------------------------------------


def test_the_outsider_finds_no_forwarders(api, forwarder):
    client = api("outsider")
    path = f"/task_forwarder/{forwarder['id']}"
    assert client.get("/task_forwarder").status_code == 404
    assert _create(client).status_code == 404
    assert client.get(path).status_code == 404
    assert client.post(path, {"name": "Mine"}).status_code == 404
    assert client.delete(path).status_code == 404
    assert TaskForwarder.objects.get(pk=forwarder["id"]).name == "Webhook Endpoint"


def test_a_viewer_reads_forwarders_but_cannot_change_them(api, forwarder):
    client = api("viewer")
    path = f"/task_forwarder/{forwarder['id']}"
    assert client.get("/task_forwarder").status_code == 200
    assert client.get(path).json() == forwarder
    assert _create(client).status_code == 403
    assert client.post(path, {"name": "Mine"}).status_code == 403
    assert client.delete(path).status_code == 403
    assert TaskForwarder.objects.count() == 1


def test_forwarder_endpoints_need_credentials(api, forwarder):
    client = api(None)
    path = f"/task_forwarder/{forwarder['id']}"
    for response in (
        client.get("/task_forwarder"),
        _create(client),
        client.get(path),
        client.post(path, {"name": "Mine"}),
        client.delete(path),
    ):
        assert response.status_code == 401
        assert response.json()["type"] == "authorization_error"


def test_a_task_access_token_reaches_no_forwarder(api, new_task, forwarder):
    task = api("editor").post("/task", new_task()).json()
    client = api(None)
    client.client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {task['access_token']}"
    assert client.get("/task_forwarder").status_code == 404
    assert client.get(f"/task_forwarder/{forwarder['id']}").status_code == 404


# Bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ({"destination_url": "not a url"}, "not a URL"),
        ({"destination_url": "ftp://93.184.216.34/drop"}, "not http(s)"),
        ({"destination_url": "http://93.184.216.34/hook"}, "plain http"),
        ({"destination_url": "https://127.0.0.1:9/hook"}, "loopback"),
        ({"destination_url": "https://10.0.0.7/hook"}, "private"),
        ({"destination_url": "https://[::1/hook"}, "malformed host"),
        ({"destination_url": ""}, "empty"),
        ({}, "missing"),
    ],
)
def test_a_bad_destination_is_refused_and_nothing_is_written(
    api, settings, config, why
):
    settings.RB_ALLOW_PRIVATE_URLS = False
    response = _create(api("editor"), config=config)
    assert response.status_code == 422, why
    assert response.json()["detail"][0]["loc"] == ["body", "config", "destination_url"]
    assert not TaskForwarder.objects.exists()


def test_a_missing_config_is_a_missing_destination(api):
    body = {"name": "No config"}
    response = api("editor").post("/task_forwarder", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "config", "destination_url"]
    assert not TaskForwarder.objects.exists()


def test_private_destinations_are_allowed_when_the_setting_says_so(api, settings):
    settings.RB_ALLOW_PRIVATE_URLS = True
    config = {"destination_url": "http://127.0.0.1:9/hook"}
    assert _create(api("editor"), config=config).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": 42},
        {"name": None},
        {"description": ["a list"]},
        {"config": "https://93.184.216.34/"},
        {"config": {"destination_url": PUBLIC_URL, "method": "PUT"}},
        {"config_sensitive": {"signing_key": 123}},
        {"config_sensitive": {"signing_key": SIGNING_KEY, "extra": "x"}},
        {"config_sensitve": {"signing_key": SIGNING_KEY}},
    ],
)
def test_wrong_types_and_unknown_fields_are_400_and_nothing_is_written(api, overrides):
    response = _create(api("editor"), **overrides)
    assert response.status_code == 400, response.json()
    assert response.json()["type"] == "validation_error"
    assert not TaskForwarder.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"config_sensitive": {"signing_key": ""}}, "config_sensitive"),
    ],
)
def test_unusable_values_are_422_and_nothing_is_written(api, overrides, field):
    response = _create(api("editor"), **overrides)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    assert not TaskForwarder.objects.exists()


def test_a_bad_update_changes_nothing(api, forwarder, settings):
    settings.RB_ALLOW_PRIVATE_URLS = False
    client = api("editor")
    path = f"/task_forwarder/{forwarder['id']}"
    bad_url = {"name": "New", "config": {"destination_url": "https://127.0.0.1/"}}
    assert client.post(path, bad_url).status_code == 422
    assert client.post(path, {"name": 7}).status_code == 400
    assert client.get(path).json() == forwarder


# Queries --------------------------------------------------------------------------


def test_forwarder_list_and_fetch_queries_do_not_grow(
    api, personas, forwarder, django_assert_num_queries
):
    client = api("viewer")
    client.get("/task_forwarder")  # warm: stamps last_used on the key
    # 1 key with user, project and role, 2 page of forwarders
    with django_assert_num_queries(2):
        small = client.get("/task_forwarder")
    TaskForwarder.objects.bulk_create(
        TaskForwarder(
            project=personas.project,
            name=f"Bulk {n}",
            config={"destination_url": PUBLIC_URL},
        )
        for n in range(50)
    )
    with django_assert_num_queries(2):
        big = client.get("/task_forwarder")
    assert len(small.json()["results"]) == 1
    assert len(big.json()["results"]) == 51
    # 1 key with user, project and role, 2 the forwarder
    with django_assert_num_queries(2):
        client.get(f"/task_forwarder/{forwarder['id']}")
