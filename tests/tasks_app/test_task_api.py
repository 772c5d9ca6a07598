"""Checklist items 1–27 of the task API (spec/README.md)."""

from __future__ import annotations

import pytest

from tasks_app.models import ActiveRevision, Tag, Task, TaskRevision


def _create(api, body):
    response = api.post("/task", body)
    assert response.status_code == 200, response.json()
    return response.json()


# 1
def test_create_with_required_fields_makes_one_live_revision(api, new_task):
    task = _create(api("editor"), new_task())
    assert len(task["revisions"]) == 1
    revision = task["revisions"][0]
    assert task["active_revisions"] == [
        {"task_revision_id": revision["id"], "weight": 1.0}
    ]
    assert revision["active"] is True
    assert task["output_modality"] == "json"
    assert task["task_run_visibility"] == "owner_only"
    assert task["public"] is False
    assert task["exposed_to_agents"] is False
    assert task["access_token"].startswith("rbt_")


# 2
@pytest.mark.parametrize(
    "field", ["name", "enabled", "system_prompt", "user_prompt", "llm_model_id"]
)
def test_omitting_a_required_field_is_a_400_naming_it(api, new_task, field):
    body = new_task()
    del body[field]
    response = api("editor").post("/task", body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["type"] == "validation_error"
    assert any(field in item["loc"] for item in payload["detail"])
    assert not Task.objects.exists()


# 3
def test_task_name_rules(api, new_task):
    client = api("editor")
    bad = client.post("/task", new_task(name="Bad_Name!"))
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "name"]
    assert client.post("/task", new_task(name="My Task-2")).status_code == 200
    assert Task.objects.count() == 1


# 4
def test_input_params_follow_first_appearance(api, new_task):
    task = _create(
        api("editor"),
        new_task(user_prompt='Use {x} then {{y}} and {x} again, like {"a": 1}'),
    )
    assert task["revisions"][0]["input_params"] == ["x", "y"]


# 5
def test_output_format_is_accepted_and_stored(api, new_task):
    fmt = {
        "s": "str",
        "n": {"type": "int"},
        "tags": {"type": "list", "item_type": "str"},
        "mood": {"type": "str", "options": ["up", "down"]},
    }
    task = _create(api("editor"), new_task(output_format=fmt))
    assert task["revisions"][0]["output_format"] == fmt


# 6
@pytest.mark.parametrize(
    ("fmt", "loc"),
    [
        ({"x": "float"}, ["body", "output_format", "x", "type"]),
        (
            {"x": {"type": "int", "options": ["1"]}},
            ["body", "output_format", "x", "options"],
        ),
    ],
)
def test_bad_output_formats_are_422_naming_the_field(api, new_task, fmt, loc):
    response = api("editor").post("/task", new_task(output_format=fmt))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc
    assert not Task.objects.exists()


# 7
def test_the_array_form_of_output_format_is_stored_as_a_map(api, new_task):
    task = _create(
        api("editor"),
        new_task(
            output_format=[
                {"name": "summary", "description": "A summary"},
                {"name": "key_points", "type": "array"},
            ]
        ),
    )
    assert task["revisions"][0]["output_format"] == {
        "summary": {"type": "str", "description": "A summary"},
        "key_points": {"type": "list"},
    }


# 8
@pytest.mark.parametrize(
    ("config", "status"),
    [
        ({"temperature": 2.5}, 422),
        ({"temperature": 0.3, "top_p": 0.9}, 422),
        ({"temperature": 0.3}, 200),
        ({"colour": "red"}, 422),
    ],
)
def test_llm_config_is_checked_against_the_model(api, new_task, config, status):
    response = api("editor").post("/task", new_task(llm_config=config))
    assert response.status_code == status
    if status == 200:
        assert response.json()["revisions"][0]["llm_config"] == config
    else:
        assert response.json()["detail"][0]["loc"][:2] == ["body", "llm_config"]


# 9
def test_model_rules(api, new_task, llm):
    client = api("editor")
    retired = client.post("/task", new_task(llm_model_id=str(llm.retired.pk)))
    assert retired.status_code == 422
    assert "retired" in retired.json()["detail"][0]["msg"]
    image = client.post("/task", new_task(output_modality="image"))
    assert image.status_code == 422
    vision = client.post(
        "/task", new_task(llm_model_id=str(llm.plain.pk), image_required=True)
    )
    assert vision.status_code == 422
    same = client.post("/task", new_task(fallback_llm_model_id=str(llm.vision.pk)))
    assert same.status_code == 422
    assert not Task.objects.exists()
    ok = client.post(
        "/task",
        new_task(llm_model_id=str(llm.image.pk), output_modality="image"),
    )
    assert ok.status_code == 200


def test_a_retired_model_cannot_be_chosen_for_a_new_revision(api, new_task, llm):
    client = api("editor")
    task = _create(client, new_task())
    response = client.post(f"/task/{task['id']}", {"llm_model_id": str(llm.retired.pk)})
    assert response.status_code == 422
    assert TaskRevision.objects.count() == 1


# 10
@pytest.mark.parametrize(
    "processors",
    [
        [{"param_name": "review", "input_processor": "magic"}],
        [{"param_name": "nope", "input_processor": "url_fetcher"}],
    ],
)
def test_bad_input_processors_are_422(api, new_task, processors):
    response = api("editor").post("/task", new_task(input_processors=processors))
    assert response.status_code == 422
    assert not Task.objects.exists()


def test_a_known_processor_and_its_alias_are_accepted(api, new_task):
    task = _create(
        api("editor"),
        new_task(
            input_processors=[
                {
                    "param_name": "review",
                    "input_processor": "url_scraper",
                    "config": {"fallback_text": "n/a"},
                }
            ]
        ),
    )
    assert task["revisions"][0]["input_processors"] == [
        {
            "param_name": "review",
            "input_processor": "url_fetcher",
            "config": {"fallback_text": "n/a"},
        }
    ]


# 11
def test_cursor_pagination(api, new_task):
    client = api("editor")
    for n in range(5):
        _create(client, new_task(name=f"Task {n}"))
    first = client.get("/task", page_limit=2).json()
    assert [t["name"] for t in first["results"]] == ["Task 4", "Task 3"]
    assert first["pagination"]["has_next"] is True
    assert first["pagination"]["total_count"] == 5
    second = client.get(
        "/task", page_limit=2, cursor=first["pagination"]["next_cursor"]
    ).json()
    assert [t["name"] for t in second["results"]] == ["Task 2", "Task 1"]
    assert second["pagination"]["total_count"] == 5
    third = client.get(
        "/task", page_limit=2, cursor=second["pagination"]["next_cursor"]
    ).json()
    assert [t["name"] for t in third["results"]] == ["Task 0"]
    assert third["pagination"]["has_next"] is False
    assert third["pagination"]["next_cursor"] is None
    assert client.get("/task", name="nothing").json()["pagination"]["total_count"] == 0


def test_total_count_counts_each_task_once_under_a_tag_filter(api, new_task):
    client = api("editor")
    parent = client.post("/task/tag", {"name": "prod", "entity_type": "task"}).json()
    child = client.post(
        "/task/tag", {"name": "eu", "entity_type": "task", "parent_id": parent["id"]}
    ).json()
    for n in range(3):
        task = _create(client, new_task(name=f"Task {n}"))
        client.post(f"/task/{task['id']}", {"tags": [parent["id"], child["id"]]})
    listed = client.get("/task", tag_id=parent["id"], page_limit=2).json()
    assert listed["pagination"]["total_count"] == 3
    assert len(listed["results"]) == 2


@pytest.mark.parametrize(
    "params", [{"page_limit": 0}, {"page_limit": "x"}, {"cursor": "not-a-uuid"}]
)
def test_bad_pagination_is_400(api, params):
    assert api("editor").get("/task", **params).status_code == 400


def test_an_unknown_cursor_is_400(api):
    response = api("editor").get("/task", cursor="01a20565-693f-7002-8b37-71d82a40b067")
    assert response.status_code == 400


# 12
def test_name_filter_is_a_case_insensitive_substring(api, new_task):
    client = api("editor")
    _create(client, new_task(name="Sentiment review checker"))
    _create(client, new_task(name="Invoice parser"))
    names = [t["name"] for t in client.get("/task", name="REVIEW").json()["results"]]
    assert names == ["Sentiment review checker"]


# 13
def test_tag_filter_includes_descendant_tags(api, new_task, personas):
    client = api("editor")
    parent = Tag.objects.create(
        project=personas.project, name="prod", entity_type="task"
    )
    child = Tag.objects.create(
        project=personas.project, name="eu", entity_type="task", parent=parent
    )
    tagged_parent = _create(client, new_task(name="A"))
    tagged_child = _create(client, new_task(name="B"))
    _create(client, new_task(name="C"))
    client.post(f"/task/{tagged_parent['id']}", {"tags": [str(parent.pk)]})
    client.post(f"/task/{tagged_child['id']}", {"tags": [str(child.pk)]})
    names = {
        t["name"] for t in client.get("/task", tag_id=str(parent.pk)).json()["results"]
    }
    assert names == {"A", "B"}
    names = {
        t["name"] for t in client.get("/task", tag_id=str(child.pk)).json()["results"]
    }
    assert names == {"B"}


# 14
def test_test_revisions_are_hidden_unless_asked_for(api, new_task):
    client = api("editor")
    task = _create(client, new_task())
    client.post(f"/task/{task['id']}", {"user_prompt": "Try {review}", "test": True})
    assert len(client.get(f"/task/{task['id']}").json()["revisions"]) == 1
    assert (
        len(client.get(f"/task/{task['id']}", include_tests="true").json()["revisions"])
        == 2
    )
    listed = client.get("/task").json()["results"][0]
    assert len(listed["revisions"]) == 1
    listed = client.get("/task", include_tests="true").json()["results"][0]
    assert len(listed["revisions"]) == 2


# 15
def test_revision_tag_filter_on_get(api, new_task, personas):
    client = api("editor")
    beta = Tag.objects.create(
        project=personas.project, name="beta", entity_type="task_revision"
    )
    task = _create(client, new_task())
    client.post(
        f"/task/{task['id']}",
        {"user_prompt": "v2 {review}", "revision_tags": [str(beta.pk)]},
    )
    revisions = client.get(f"/task/{task['id']}", revision_tag_id=str(beta.pk)).json()[
        "revisions"
    ]
    assert [r["user_prompt"] for r in revisions] == ["v2 {review}"]
    assert revisions[0]["tags"][0]["name"] == "beta"


# 16
def test_task_lookup_errors(api, new_task, personas, llm):
    client = api("editor")
    assert client.get("/task/not-a-uuid").status_code == 400
    assert client.get("/task/01a20565-693f-7002-8b37-71d82a40b067").status_code == 404
    task = _create(client, new_task())
    other = api(
        "outsider",
        base=f"/api/v1/org/{personas.other_organization.pk}/project/{personas.other_project.pk}",
    )
    foreign = _create(other, new_task())
    assert client.get(f"/task/{foreign['id']}").status_code == 404
    client.delete(f"/task/{task['id']}")
    assert client.get(f"/task/{task['id']}").status_code == 404


# 17
def test_updating_only_the_name_makes_no_revision(api, new_task):
    client = api("editor")
    task = _create(client, new_task())
    updated = client.post(f"/task/{task['id']}", {"name": "Renamed"}).json()
    assert updated["name"] == "Renamed"
    assert len(updated["revisions"]) == 1
    assert updated["modified"] > task["modified"]


# 18
def test_a_new_prompt_makes_an_inactive_revision_copied_from_the_base(api, new_task):
    client = api("editor")
    task = _create(client, new_task(llm_config={"temperature": 0.3}, annotation="v1"))
    updated = client.post(
        f"/task/{task['id']}", {"user_prompt": "Summarise {doc} in {lang}"}
    ).json()
    first, second = updated["revisions"]
    assert second["active"] is False
    assert second["input_params"] == ["doc", "lang"]
    assert second["llm_config"] == {"temperature": 0.3}
    assert second["system_prompt"] == first["system_prompt"]
    assert second["annotation"] is None
    assert updated["active_revisions"] == task["active_revisions"]


# 19
def test_traffic_split_rules(api, new_task, personas):
    client = api("editor")
    task = _create(client, new_task())
    a = task["revisions"][0]["id"]
    b = client.post(f"/task/{task['id']}", {"user_prompt": "B {review}"}).json()[
        "revisions"
    ][1]["id"]
    test_rev = client.post(
        f"/task/{task['id']}", {"user_prompt": "T {review}", "test": True}
    ).json()
    test_id = TaskRevision.objects.get(test=True).pk
    other = _create(client, new_task(name="Other"))["revisions"][0]["id"]
    del test_rev

    ok = client.post(
        f"/task/{task['id']}",
        {
            "active_revisions": [
                {"task_revision_id": a, "weight": 0.5},
                {"task_revision_id": b, "weight": 0.5},
            ]
        },
    )
    assert ok.status_code == 200
    assert {r["task_revision_id"] for r in ok.json()["active_revisions"]} == {a, b}

    def attempt(entries):
        return client.post(f"/task/{task['id']}", {"active_revisions": entries})

    for entries in (
        [
            {"task_revision_id": a, "weight": 0.5},
            {"task_revision_id": b, "weight": 0.4},
        ],
        [
            {"task_revision_id": a, "weight": 0.5},
            {"task_revision_id": b, "weight": 0.6},
        ],
        [],
        [
            {"task_revision_id": a, "weight": 0.5},
            {"task_revision_id": a, "weight": 0.5},
        ],
        [{"task_revision_id": str(test_id), "weight": 1}],
        [{"task_revision_id": other, "weight": 1}],
    ):
        assert attempt(entries).status_code == 422, entries
    missing = attempt(
        [{"task_revision_id": "01a20565-693f-7002-8b37-71d82a40b067", "weight": 1}]
    )
    # An unknown id is answered like another task's (no existence oracle).
    assert missing.status_code == 422
    weights = sorted(
        float(w)
        for w in ActiveRevision.objects.filter(task_id=task["id"]).values_list(
            "weight", flat=True
        )
    )
    assert weights == [0.5, 0.5]


# 20
def test_task_tags_replace_and_wrong_kinds_are_refused(api, new_task, personas):
    client = api("editor")
    t1 = Tag.objects.create(project=personas.project, name="one", entity_type="task")
    t2 = Tag.objects.create(project=personas.project, name="two", entity_type="task")
    rev_tag = Tag.objects.create(
        project=personas.project, name="beta", entity_type="task_revision"
    )
    task = _create(client, new_task())
    client.post(f"/task/{task['id']}", {"tags": [str(t1.pk), str(t2.pk)]})
    updated = client.post(f"/task/{task['id']}", {"tags": [str(t1.pk)]}).json()
    assert [t["name"] for t in updated["tags"]] == ["one"]
    assert (
        client.post(f"/task/{task['id']}", {"tags": [str(rev_tag.pk)]}).status_code
        == 422
    )
    updated = client.post(
        f"/task/{task['id']}",
        {"user_prompt": "v2 {review}", "revision_tags": [str(rev_tag.pk)]},
    ).json()
    assert updated["revisions"][1]["tags"][0]["id"] == str(rev_tag.pk)
    assert updated["revisions"][0]["tags"] == []


# 21
def test_update_accepts_public(api, new_task):
    client = api("editor")
    task = _create(client, new_task())
    assert client.post(f"/task/{task['id']}", {"public": True}).json()["public"] is True
    assert Task.objects.get(pk=task["id"]).public is True


# 22
def test_delete_by_editor_viewer_and_malformed_id(api, new_task):
    editor = api("editor")
    task = _create(editor, new_task())
    assert api("viewer").delete(f"/task/{task['id']}").status_code == 403
    response = editor.delete("/task/xyz")
    assert response.status_code == 400
    assert response.json()["reason"] == "MALFORMED_RESOURCE_IDENTIFIER"
    deleted = editor.delete(f"/task/{task['id']}")
    assert deleted.status_code == 200
    assert deleted.json() is None
    assert editor.get(f"/task/{task['id']}").status_code == 404
    assert not TaskRevision.objects.exists()


# 23
def test_requests_without_credentials_are_401(api, new_task, personas):
    anonymous = api(None)
    task = _create(api("editor"), new_task())
    for response in (
        anonymous.get("/task"),
        anonymous.post("/task", new_task()),
        anonymous.get(f"/task/{task['id']}"),
        anonymous.post(f"/task/{task['id']}", {"name": "x"}),
        anonymous.delete(f"/task/{task['id']}"),
    ):
        assert response.status_code == 401
        assert response.json()["type"] == "authorization_error"


def test_a_revoked_or_made_up_key_is_401(api, personas):
    from rightbrain.orgs.models import ApiKey
    from tests.helpers import ApiClient

    client = api("editor")
    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get("/task").status_code == 401
    assert ApiClient("rbk_" + "x" * 40, client.base).get("/task").status_code == 401


# 24
def test_model_list_includes_comments_and_can_hide_retired(api, llm):
    from tasks_app.models import LLMModelComment

    LLMModelComment.objects.create(llm_model=llm.vision, title="Note", description="d")
    client = api("viewer")
    models = client.get("/model").json()
    by_name = {m["name"]: m for m in models}
    assert {"vision-model", "old-model"} <= set(by_name)
    required = {
        "id",
        "provider",
        "vendor",
        "name",
        "alias",
        "description",
        "supports_vision",
        "max_context_window",
        "llm_model_comments",
    }
    assert required <= set(by_name["vision-model"])
    assert by_name["vision-model"]["llm_model_comments"][0]["title"] == "Note"
    assert by_name["old-model"]["retired"] is not None
    names = {m["name"] for m in client.get("/model", include_retired="false").json()}
    assert "old-model" not in names


# 25
def test_input_processor_list(api):
    processors = api("viewer").get("/input_processor").json()
    names = [p["name"] for p in processors]
    assert names == ["url_fetcher", "document_content_extractor", "perplexity_search"]
    assert all("config_schema" in p for p in processors)


# 26
def test_a_project_of_another_org_in_the_path_is_404(api, personas, new_task):
    mismatched = (
        f"/api/v1/org/{personas.other_organization.pk}/project/{personas.project.pk}"
    )
    client = api("owner", base=mismatched)
    assert client.get("/task").status_code == 404
    assert client.post("/task", new_task()).status_code == 404
    assert client.get("/model").status_code == 404
    assert not Task.objects.exists()


def test_an_api_key_cannot_reach_another_project(api, personas, new_task):
    from rightbrain.orgs.services import project_create

    second = project_create(organization=personas.organization, name="Second")
    client = api(
        "owner", base=f"/api/v1/org/{personas.organization.pk}/project/{second.pk}"
    )
    assert client.get("/task").status_code == 404


# 27
def test_openapi_document_and_docs_are_served(client):
    document = client.get("/api/openapi.json")
    assert document.status_code == 200
    paths = document.json()["paths"]
    assert "/api/v1/org/{org_id}/project/{project_id}/task" in paths
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
