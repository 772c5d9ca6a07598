"""Checklist items 87–99 (SHARE) over the JSON API, with the bad input the
issue lists: every refusal says why and writes nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from runs_app.models import TaskRun
from runs_app.services import run_execute
from sharing.models import ShareRun, TaskShare
from tasks_app.models import Tag, Task, TaskMember, TaskRevision
from tasks_app.services import tag_create, task_update
from tests.helpers import ApiClient
from tests.sharing.conftest import GOOD, assert_no_secrets


def _share_path(shared) -> str:
    return f"/task/{shared.task.pk}/share"


def _public(short_id: str) -> str:
    return f"/api/v1/share/{short_id}"


@pytest.fixture
def other_base(personas) -> str:
    organization, project = personas.other_organization, personas.other_project
    return f"/api/v1/org/{organization.pk}/project/{project.pk}"


# 87
def test_a_share_with_no_options_gets_a_generated_short_id_and_the_live_revision(
    api, shared
):
    response = api("editor").post(_share_path(shared), {})
    assert response.status_code == 200, response.json()
    share = response.json()
    assert re.fullmatch(r"[A-Za-z0-9]{8}", share["short_id"])
    assert share["share_url"].endswith(f"/s/{share['short_id']}")
    assert share["views_count"] == 0
    assert share["active"] is True
    assert share["task_name"] == "Review Sentiment"
    assert share["task_revision_id"] == str(shared.revision.pk)
    assert share["use_count"] == 0
    assert share["max_uses"] is None
    assert share["allow_inputs"] is False
    assert share["show_output"] is True


# 88
def test_a_custom_short_id_of_three_to_five_alphanumerics_is_accepted(api, shared):
    response = api("editor").post(_share_path(shared), {"custom_short_id": "ab1"})
    assert response.status_code == 200
    assert response.json()["short_id"] == "ab1"
    assert response.json()["share_url"].endswith("/s/ab1")


@pytest.mark.parametrize(
    ("short_id", "says"),
    [
        ("ab", "3 to 5 letters or digits"),
        ("abcdef", "3 to 5 letters or digits"),
        ("ab-1", "no dashes"),
        ("a b", "3 to 5 letters or digits"),
    ],
)
def test_a_malformed_custom_short_id_is_refused(api, shared, short_id, says):
    response = api("editor").post(_share_path(shared), {"custom_short_id": short_id})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "custom_short_id"]
    assert says in error["msg"]
    assert not TaskShare.objects.exists()


def test_a_taken_short_id_is_refused_whatever_its_case(api, shared):
    client = api("editor")
    assert (
        client.post(_share_path(shared), {"custom_short_id": "ab1"}).status_code == 200
    )
    for taken in ("ab1", "AB1"):
        response = client.post(_share_path(shared), {"custom_short_id": taken})
        assert response.status_code == 422
        assert "taken" in response.json()["detail"][0]["msg"]
    assert TaskShare.objects.count() == 1


# 89
def test_rag_and_test_revisions_cannot_be_shared(api, shared, personas):
    client = api("editor")
    _task, rag = task_update(
        task=shared.task,
        user=personas.editor,
        revision_fields={
            "rag": {
                "collection_id": "01909843-3596-da54-4756-28af46917e74",
                "rag_param": "review",
            }
        },
    )
    _task, test = task_update(
        task=shared.task,
        user=personas.editor,
        revision_fields={"user_prompt": "Test {review}", "test": True},
    )
    assert rag is not None and test is not None
    refused_rag = client.post(_share_path(shared), {"task_revision_id": str(rag.pk)})
    assert refused_rag.status_code == 422
    assert "RAG" in refused_rag.json()["detail"][0]["msg"]
    refused_test = client.post(_share_path(shared), {"task_revision_id": str(test.pk)})
    assert refused_test.status_code == 422
    assert "test revision" in refused_test.json()["detail"][0]["msg"]
    assert not TaskShare.objects.exists()


# 90
def test_an_example_run_of_another_revision_is_refused(api, shared, personas):
    _task, newer = task_update(
        task=shared.task,
        user=personas.editor,
        revision_fields={"user_prompt": "Newer: {review}"},
    )
    assert newer is not None
    response = api("editor").post(
        _share_path(shared),
        {"task_revision_id": str(newer.pk), "task_run_id": str(shared.example.pk)},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "task_run_id"]
    assert not TaskShare.objects.exists()


# 91
def test_the_public_view_needs_no_login_counts_views_and_hides_secrets(
    api, shared, client
):
    share = shared.share(custom_short_id="pub1")
    first = client.get(_public("pub1"))
    assert first.status_code == 200
    body = first.json()
    assert body["is_shared"] is True
    assert body["read_only"] is True
    assert body["task_name"] == "Review Sentiment"
    assert body["input_params"] == ["review"]
    assert body["llm_model"] == {"alias": "Primary", "provider": "Local"}
    assert body["example_run"]["run_data"]["submitted"] == {
        "review": "Arrived quickly and works well"
    }
    assert body["example_run"]["response"] == GOOD
    assert body["views_count"] == 1
    assert_no_secrets(first.text, shared)
    second = client.get(_public("pub1"))
    assert second.json()["views_count"] == 2
    share.refresh_from_db()
    assert share.views_count == 2


def test_the_example_output_is_hidden_when_the_link_does_not_show_output(
    shared, client
):
    shared.share(custom_short_id="hid1", show_output=False)
    body = client.get(_public("hid1")).json()
    assert body["example_run"]["response"] is None
    assert body["example_run"]["run_data"]["submitted"]


# 92
def test_revoked_expired_and_unknown_links(api, shared, client):
    owner = api("editor")
    created = owner.post(_share_path(shared), {"custom_short_id": "rev1"}).json()
    revoked = owner.delete(f"{_share_path(shared)}/{created['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    again = owner.delete(f"{_share_path(shared)}/{created['id']}")
    assert again.status_code == 200 and again.json()["active"] is False
    gone = client.get(_public("rev1"))
    assert gone.status_code == 403
    assert gone.json()["type"] == "authorization_error"
    assert "revoked" in gone.json()["detail"]

    expired = shared.share(custom_short_id="exp1", expires_in_hours=1)
    TaskShare.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(_public("exp1")).status_code == 403
    assert "expired" in client.get(_public("exp1")).json()["detail"]

    unknown = client.get(_public("nope1"))
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "resource_error"
    # No view was counted for refused links.
    assert set(TaskShare.objects.values_list("views_count", flat=True)) == {0}


def test_a_disabled_task_is_not_shared(api, shared, client, personas):
    shared.share(custom_short_id="dis1")
    task_update(task=shared.task, user=personas.editor, task_fields={"enabled": False})
    response = client.get(_public("dis1"))
    assert response.status_code == 403
    assert "not shared" in response.json()["detail"]


# 93
def test_task_and_project_share_lists_page_by_cursor(api, shared, personas):
    client = api("viewer")
    ids = [str(shared.share().pk) for _ in range(3)]
    revoked = shared.share()
    revoked.active = False
    revoked.save()
    first = client.get(_share_path(shared), page_limit=2)
    assert first.status_code == 200
    page = first.json()
    assert [s["id"] for s in page["results"]] == [str(revoked.pk), ids[2]]
    assert page["pagination"] == {
        "next_cursor": ids[2],
        "has_next": True,
        "page_limit": 2,
    }
    second = client.get(_share_path(shared), page_limit=2, cursor=ids[2]).json()
    assert [s["id"] for s in second["results"]] == [ids[1], ids[0]]
    assert second["pagination"]["has_next"] is False
    active = client.get(_share_path(shared), active="true").json()
    assert len(active["results"]) == 3

    project = client.get("/share", page_limit=3).json()
    assert [s["id"] for s in project["results"]] == [str(revoked.pk), *ids[:0:-1]]
    assert project["pagination"]["has_next"] is True
    only_task = client.get("/share", task_id=str(shared.task.pk), active="false")
    assert [s["id"] for s in only_task.json()["results"]] == [str(revoked.pk)]
    assert client.get("/share", cursor=str(shared.task.pk)).status_code == 400


def test_share_lists_take_a_fixed_number_of_queries(
    api, shared, django_assert_num_queries
):
    client = api("owner")
    tag = tag_create(project=shared.task.project, name="beta", entity_type="task")
    shared.task.tags.add(tag)
    for _ in range(3):
        shared.share()
    client.get("/share")  # the key's first use stamps last_used; not pinned here
    # key+project+role, task, the caller's grants are not read for an owner,
    # shares with their task and revision, the tasks' tags
    with django_assert_num_queries(4):
        response = client.get(_share_path(shared))
    assert [t["name"] for t in response.json()["results"][0]["tags"]] == ["beta"]
    for _ in range(3):
        shared.share()
    with django_assert_num_queries(4):
        client.get(_share_path(shared))
    # key+project+role, shares with their task and revision, the tasks' tags
    with django_assert_num_queries(3):
        client.get("/share")


def test_who_may_create_list_and_revoke_shares(api, shared, personas):
    share = shared.share()
    viewer = api("viewer")
    assert viewer.get(_share_path(shared)).status_code == 200
    assert viewer.post(_share_path(shared), {}).status_code == 403
    assert viewer.delete(f"{_share_path(shared)}/{share.pk}").status_code == 403
    outsider = api("outsider")
    assert outsider.get(_share_path(shared)).status_code == 404
    assert outsider.post(_share_path(shared), {}).status_code == 404
    assert outsider.get("/share").status_code == 404
    assert api(None).post(_share_path(shared), {}).status_code == 401
    assert TaskShare.objects.count() == 1
    share.refresh_from_db()
    assert share.active


# 94, 97
def test_a_clone_is_the_shared_revision_alone_in_the_new_project(
    api, shared, personas, other_base
):
    tag = tag_create(project=personas.project, name="beta", entity_type="task")
    shared.task.tags.add(tag)
    share = shared.share(custom_short_id="cln1")
    _task, later = task_update(
        task=shared.task,
        user=personas.editor,
        revision_fields={"user_prompt": "Unshared {review}"},
    )
    response = api("outsider", other_base).post("/share/cln1/clone")
    assert response.status_code == 200, response.json()
    task = response.json()
    assert task["project_id"] == str(personas.other_project.pk)
    assert task["name"] == "Review Sentiment"
    assert task["cloned_from_task_revision_id"] == str(shared.revision.pk)
    assert len(task["revisions"]) == 1
    revision = task["revisions"][0]
    assert task["active_revisions"] == [
        {"task_revision_id": revision["id"], "weight": 1.0}
    ]
    assert task["access_token"] and task["access_token"] != shared.access_token
    assert task["public"] is False and task["exposed_to_agents"] is False
    # 97: prompts, model, output format and processors travel …
    assert revision["system_prompt"] == "You classify reviews."
    assert revision["user_prompt"] == "Review: {review}"
    assert revision["llm_model_id"] == str(shared.revision.llm_model_id)
    assert revision["output_format"] == shared.revision.output_format
    assert revision["input_processors"] == shared.revision.input_processors
    # … but no forwarder, tags, runs or shares.
    assert revision["task_forwarder_id"] is None
    assert task["tags"] == []
    clone = Task.objects.get(pk=task["id"])
    assert not TaskRun.objects.filter(task=clone).exists()
    assert not TaskShare.objects.filter(task=clone).exists()
    assert later is not None
    assert not TaskRevision.objects.filter(task=clone, user_prompt__contains="Unshared")
    share.refresh_from_db()
    assert share.use_count == 1


def test_a_clone_keeps_input_processors(api, shared, personas, other_base):
    task_update(
        task=shared.task,
        user=personas.editor,
        revision_fields={
            "user_prompt": "Page: {page}",
            "input_processors": [
                {"param_name": "page", "input_processor": "url_fetcher", "config": {}}
            ],
        },
    )
    newest = shared.task.revisions.order_by("-created").first()
    share = shared.share(task_revision_id=newest.pk, task_run_id=None)
    response = api("outsider", other_base).post(f"/share/{share.short_id}/clone")
    assert response.status_code == 200
    processors = response.json()["revisions"][0]["input_processors"]
    assert [p["input_processor"] for p in processors] == ["url_fetcher"]


# 95
def test_clone_name_conflicts_get_a_number(api, shared, personas, other_base):
    shared.share(custom_short_id="dup1")
    client = api("outsider", other_base)
    names = [client.post("/share/dup1/clone").json()["name"] for _ in range(3)]
    assert names == ["Review Sentiment", "Review Sentiment (2)", "Review Sentiment (3)"]


# 96
def test_who_may_clone(api, shared, personas, other_base):
    share = shared.share(custom_short_id="who1")
    assert api("viewer").post("/share/who1/clone").status_code == 403
    assert api(None, other_base).post("/share/who1/clone").status_code == 401
    # The outsider is no member of the sharing project: they cannot clone into it.
    assert api("outsider").post("/share/who1/clone").status_code == 404
    assert api("outsider", other_base).post("/share/zzz9/clone").status_code == 404
    share.active = False
    share.save()
    revoked = api("outsider", other_base).post("/share/who1/clone")
    assert revoked.status_code == 403
    assert Task.objects.filter(project=personas.other_project).count() == 0
    share.refresh_from_db()
    assert share.use_count == 0


# 98
def test_a_public_run_without_inputs_replays_the_example(shared, client, fake_llm):
    share = shared.share(custom_short_id="rep1")
    fake_llm.answer(GOOD)
    response = client.post(
        _public("rep1") + "/run",
        {"task_input": {"review": "ignored"}},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"id", "response", "files", "created", "is_error"}
    assert body["response"] == GOOD
    run = TaskRun.objects.get(pk=body["id"])
    assert run.run_data == {"submitted": {"review": "Arrived quickly and works well"}}
    assert run.user_id is None
    assert run.task_revision_id == shared.revision.pk
    assert ShareRun.objects.filter(share=share, task_run=run).exists()
    assert fake_llm.requests[-1]["messages"][-1]["content"] == (
        "Review: Arrived quickly and works well"
    )
    assert_no_secrets(response.text, shared)


def test_a_public_run_with_inputs_uses_the_body(shared, client, fake_llm):
    shared.share(custom_short_id="inp1", allow_inputs=True)
    fake_llm.answer(GOOD)
    response = client.post(
        _public("inp1") + "/run",
        {"task_input": {"review": "Broke after a day"}},
        content_type="application/json",
    )
    assert response.status_code == 200
    run = TaskRun.objects.get(pk=response.json()["id"])
    assert run.run_data == {"submitted": {"review": "Broke after a day"}}


def test_runs_and_clones_stop_at_max_uses(shared, client, fake_llm, api, other_base):
    share = shared.share(custom_short_id="max2", max_uses=2)
    fake_llm.answer(GOOD)
    assert client.post(_public("max2") + "/run").status_code == 200
    cloned = api("outsider", other_base).post("/share/max2/clone")
    assert cloned.status_code == 200
    refused_run = client.post(_public("max2") + "/run")
    assert refused_run.status_code == 403
    assert "used as many times" in refused_run.json()["detail"]
    refused_clone = api("outsider", other_base).post("/share/max2/clone")
    assert refused_clone.status_code == 403
    share.refresh_from_db()
    assert share.use_count == 2
    assert ShareRun.objects.filter(share=share).count() == 1
    # Viewing is not a use: the page still opens.
    assert client.get(_public("max2")).status_code == 200


def test_a_link_without_example_or_inputs_cannot_run(shared, client):
    share = shared.share(custom_short_id="nox1", task_run_id=None)
    response = client.post(_public("nox1") + "/run")
    assert response.status_code == 422
    assert "example" in response.json()["detail"][0]["msg"]
    share.refresh_from_db()
    assert share.use_count == 0


def test_a_failed_public_run_does_not_show_the_provider_error(shared, client, fake_llm):
    shared.share(custom_short_id="err1")
    fake_llm.fail(500, "upstream at http://10.1.2.3:8000 exploded").fail(
        500, "upstream at http://10.1.2.3:8000 exploded"
    )
    response = client.post(_public("err1") + "/run")
    assert response.status_code == 200
    body = response.json()
    assert body["is_error"] is True
    assert "10.1.2.3" not in response.text
    assert "try again later" in body["response"]["error"]


# 99
def test_expires_in_hours_sets_the_expiry(api, shared):
    before = timezone.now()
    response = api("editor").post(_share_path(shared), {"expires_in_hours": 24})
    assert response.status_code == 200
    share = TaskShare.objects.get()
    expected = before + timedelta(hours=24)
    assert abs((share.expires_at - expected).total_seconds()) < 60


def test_expiry_in_hours_and_at_together_are_refused(api, shared):
    at = (timezone.now() + timedelta(days=2)).isoformat()
    response = api("editor").post(
        _share_path(shared), {"expires_in_hours": 24, "expires_at": at}
    )
    assert response.status_code == 422
    assert "not both" in response.json()["detail"][0]["msg"]
    assert not TaskShare.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at", "in the future"),
        ({"expires_in_hours": 0}, "expires_in_hours", "between 1"),
        ({"max_uses": 0}, "max_uses", "at least 1"),
        ({"max_uses": -3}, "max_uses", "at least 1"),
    ],
)
def test_bad_limits_are_refused(api, shared, body, field, says):
    response = api("editor").post(_share_path(shared), body)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", field]
    assert says in error["msg"]
    assert not TaskShare.objects.exists()


def test_an_unparseable_expiry_is_an_envelope_error(api, shared):
    response = api("editor").post(_share_path(shared), {"expires_at": "soon"})
    assert response.status_code == 400
    assert not TaskShare.objects.exists()


def test_the_task_tags_come_with_a_share(api, shared, personas):
    tag = tag_create(project=personas.project, name="prod", entity_type="task")
    shared.task.tags.add(tag)
    share = api("editor").post(_share_path(shared), {}).json()
    assert [t["name"] for t in share["tags"]] == ["prod"]
    assert Tag.objects.count() == 1


def test_an_unauthenticated_client_gets_the_public_view(shared):
    shared.share(custom_short_id="anon")
    response = ApiClient(None, "").get(_public("anon"))
    assert response.status_code == 200


def test_an_editor_cannot_publish_a_run_they_may_not_read(
    api, shared, personas, fake_llm
):
    """Runs are owner_only here: an editor sees only their own, so another
    person's run cannot become a public example through them."""
    # The editor made the task, so owns it; as a plain project editor they
    # see only their own runs.
    TaskMember.objects.filter(task=shared.task, subject_id=personas.editor.pk).delete()

    fake_llm.answer(GOOD)
    admins_run = run_execute(
        task=shared.task,
        revision=shared.revision,
        task_input={"review": "Private feedback from a customer"},
        user=personas.admin,
    )
    refused = api("editor").post(
        _share_path(shared), {"task_run_id": str(admins_run.pk)}
    )
    assert refused.status_code == 422
    assert "a run you can see" in refused.json()["detail"][0]["msg"]
    own = api("editor").post(
        _share_path(shared), {"task_run_id": str(shared.example.pk)}
    )
    assert own.status_code == 200
    # The owner (an org admin) sees every run and may use any of them.
    assert (
        api("admin")
        .post(_share_path(shared), {"task_run_id": str(admins_run.pk)})
        .status_code
        == 200
    )


def test_a_spent_project_budget_stops_share_runs_without_telling_its_size(
    shared, client, fake_llm, personas
):
    share = shared.share(custom_short_id="bud1")
    personas.project.monthly_credit_budget = Decimal(0)
    personas.project.save()
    calls_before = len(fake_llm.requests)  # the example run's
    runs_before = TaskRun.objects.count()
    response = client.post(_public("bud1") + "/run")
    assert response.status_code == 402
    detail = response.json()["detail"]
    assert detail.startswith("This shared task has used its monthly allowance")
    assert "credits" not in detail
    assert len(fake_llm.requests) == calls_before
    assert TaskRun.objects.count() == runs_before
    share.refresh_from_db()
    assert share.use_count == 0  # the use was given back


def test_a_public_run_on_a_retired_model_without_replacement_is_refused(
    shared, client, fake_llm, served_model
):
    share = shared.share(custom_short_id="ret1")
    served_model.retired = timezone.now()
    served_model.save()
    runs_before = TaskRun.objects.count()
    calls_before = len(fake_llm.requests)
    response = client.post(_public("ret1") + "/run")
    assert response.status_code == 422
    assert "Primary is retired and has no replacement" in response.text
    assert TaskRun.objects.count() == runs_before
    share.refresh_from_db()
    assert share.use_count == 0
    assert len(fake_llm.requests) == calls_before
