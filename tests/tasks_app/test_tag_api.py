"""Checklist items 67–74: tags."""

from __future__ import annotations

import pytest

from tasks_app.models import Tag, Task


def _tag(client, name, entity_type="task", parent_id=None):
    body = {"name": name, "entity_type": entity_type}
    if parent_id:
        body["parent_id"] = parent_id
    return client.post(f"/{entity_type}/tag", body)


# 67
def test_create_a_tag_and_refuse_bad_names(api):
    client = api("editor")
    response = _tag(client, "production")
    assert response.status_code == 200
    tag = response.json()
    assert tag["name"] == "production"
    assert tag["entity_type"] == "task"
    assert tag["is_project_tag"] is False
    for bad in ("toolongtagname123", "pre-prod", ""):
        assert _tag(client, bad).status_code == 422, bad
    assert Tag.objects.count() == 1


# 68
def test_children_nest_under_their_parent_and_the_list_shows_roots(api):
    client = api("editor")
    parent = _tag(client, "production").json()
    child = _tag(client, "staging", parent_id=parent["id"]).json()
    assert child["parent_id"] == parent["id"]
    listed = client.get("/task/tag").json()["results"]
    assert [t["name"] for t in listed] == ["production"]
    assert [c["name"] for c in listed[0]["children"]] == ["staging"]
    detail = client.get(f"/task/tag/{parent['id']}").json()
    assert [c["id"] for c in detail["children"]] == [child["id"]]


# 69
def test_parent_and_entity_type_rules(api, personas):
    client = api("editor")
    revision_tag = _tag(client, "beta", entity_type="task_revision").json()
    assert _tag(client, "child", parent_id=revision_tag["id"]).status_code == 422
    foreign = Tag.objects.create(
        project=personas.other_project, name="foreign", entity_type="task"
    )
    assert _tag(client, "child", parent_id=str(foreign.pk)).status_code == 422
    mismatch = client.post("/task/tag", {"name": "x", "entity_type": "task_revision"})
    assert mismatch.status_code == 422
    assert client.get("/workflow/tag").status_code == 400
    assert (
        client.post("/workflow/tag", {"name": "x", "entity_type": "task"}).status_code
        == 400
    )
    assert Tag.objects.filter(project=personas.project).count() == 1


# 70
def test_rename_works_and_reparenting_is_refused(api):
    client = api("editor")
    parent = _tag(client, "alpha").json()
    other = _tag(client, "other").json()
    child = _tag(client, "kid", parent_id=parent["id"]).json()
    renamed = client.post(f"/task/tag/{child['id']}", {"name": "beta"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "beta"
    moved = client.post(f"/task/tag/{child['id']}", {"parent_id": other["id"]})
    assert moved.status_code == 422
    assert Tag.objects.get(pk=child["id"]).parent_id is not None
    assert str(Tag.objects.get(pk=child["id"]).parent_id) == parent["id"]


# 71
def test_deleting_a_parent_deletes_children_and_untags_everything(api, new_task):
    client = api("editor")
    parent = _tag(client, "prod").json()
    child = _tag(client, "eu", parent_id=parent["id"]).json()
    task = client.post("/task", new_task()).json()
    client.post(f"/task/{task['id']}", {"tags": [parent["id"], child["id"]]})
    response = client.delete(f"/tags/{parent['id']}")
    assert response.status_code == 204
    assert not Tag.objects.exists()
    assert Task.objects.get(pk=task["id"]).tags.count() == 0
    assert client.get(f"/task/{task['id']}").json()["tags"] == []


# 72
def test_siblings_cannot_share_a_name(api):
    client = api("editor")
    parent = _tag(client, "prod").json()
    assert _tag(client, "eu", parent_id=parent["id"]).status_code == 200
    assert _tag(client, "eu", parent_id=parent["id"]).status_code == 422
    assert _tag(client, "prod").status_code == 422
    # The same name elsewhere in the tree is fine.
    assert _tag(client, "eu").status_code == 200
    other = _tag(client, "other").json()
    assert client.post(f"/task/tag/{other['id']}", {"name": "prod"}).status_code == 422


# 73
def test_tagged_entities_lists_the_tagged_tasks_and_revisions(api, new_task):
    client = api("editor")
    task_tag = _tag(client, "prod").json()
    revision_tag = _tag(client, "beta", entity_type="task_revision").json()
    task = client.post("/task", new_task()).json()
    client.post(
        f"/task/{task['id']}",
        {"tags": [task_tag["id"]], "revision_tags": [revision_tag["id"]]},
    )
    assert client.get(f"/task/tag/{task_tag['id']}").json()["tagged_entities"] == [
        task["id"]
    ]
    assert client.get(f"/task_revision/tag/{revision_tag['id']}").json()[
        "tagged_entities"
    ] == [task["revisions"][0]["id"]]


# 74
def test_a_viewer_cannot_change_tags_but_can_read_them(api):
    tag = _tag(api("editor"), "prod").json()
    viewer = api("viewer")
    assert _tag(viewer, "mine").status_code == 403
    assert viewer.post(f"/task/tag/{tag['id']}", {"name": "x"}).status_code == 403
    assert viewer.delete(f"/tags/{tag['id']}").status_code == 403
    assert viewer.get("/task/tag").status_code == 200
    assert Tag.objects.get().name == "prod"


@pytest.mark.parametrize("persona", ["outsider", None])
def test_outsiders_get_404_and_anonymous_callers_401(api, persona):
    tag = _tag(api("editor"), "prod").json()
    client = api(persona)
    expected = 404 if persona else 401
    assert client.get("/task/tag").status_code == expected
    assert client.get(f"/task/tag/{tag['id']}").status_code == expected
    assert _tag(client, "x").status_code == expected
    assert client.delete(f"/tags/{tag['id']}").status_code == expected


def test_tag_list_pages_by_cursor(api):
    client = api("editor")
    for name in ("a", "b", "c"):
        _tag(client, name)
    first = client.get("/task/tag", page_limit=2).json()
    assert [t["name"] for t in first["results"]] == ["a", "b"]
    assert first["pagination"]["has_next"] is True
    second = client.get(
        "/task/tag", page_limit=2, cursor=first["pagination"]["next_cursor"]
    ).json()
    assert [t["name"] for t in second["results"]] == ["c"]
    assert second["pagination"] == {
        "next_cursor": None,
        "has_next": False,
        "page_limit": 2,
    }


def test_tag_list_query_count_does_not_grow(api, django_assert_num_queries):
    client = api("viewer")
    _tag(api("editor"), "seed")
    # 1 API key, 2 last_used stamp (first call only), ...
    client.get("/task/tag")
    editor = api("editor")
    for n in range(10):
        parent = _tag(editor, f"p{n}").json()
        _tag(editor, f"c{n}", parent_id=parent["id"])
    # 1 API key with its user, project and the caller's role, 2 tags,
    # 3 tagged entities
    with django_assert_num_queries(3):
        client.get("/task/tag")
