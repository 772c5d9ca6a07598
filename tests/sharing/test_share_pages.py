"""Share management in the dashboard (dashboard.md §9, checklist 142): a task's
links (create, list with views/uses/expiry/status, copy, revoke) and the
project's Shares page. Every view is tried by an outsider (404) and by a role
without the permission (403)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from runs_app.services import run_execute
from sharing.models import TaskShare
from tasks_app.models import TaskMember
from tasks_app.services import task_update
from tests.test_pages_assets import _assert_self_hosted


def _page(shared) -> str:
    return reverse("task_shares", args=[shared.task.project_id, shared.task.pk])


def _create(shared) -> str:
    return reverse("task_share_create", args=[shared.task.project_id, shared.task.pk])


def _revoke(shared, share) -> str:
    return reverse(
        "task_share_revoke", args=[shared.task.project_id, shared.task.pk, share.pk]
    )


def _form(shared, **fields) -> dict:
    return {
        "task_revision": str(shared.revision.pk),
        "task_run": str(shared.example.pk),
        "show_output": "on",
        **fields,
    }


def test_the_task_page_lists_links_with_views_uses_expiry_and_status(shared, as_user):
    live = shared.share(custom_short_id="liv1", max_uses=5, expires_in_hours=48)
    TaskShare.objects.filter(pk=live.pk).update(views_count=12, use_count=3)
    revoked = shared.share(custom_short_id="rvk1")
    revoked.active = False
    revoked.save()
    response = as_user("editor").get(_page(shared))
    assert response.status_code == 200
    html = response.text
    assert "Share links · Review Sentiment" in html
    assert "/s/liv1" in html and "/s/rvk1" in html
    assert f'data-copy="{live.url}"' in html
    assert ">12<" in html
    assert "3 / 5" in html
    assert "UTC" in html
    assert "Active" in html and "Revoked" in html
    assert "+ New share link" in html


def test_rag_and_test_revisions_are_listed_but_cannot_be_chosen(
    shared, as_user, personas
):
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
        revision_fields={"user_prompt": "T {review}", "test": True},
    )
    html = as_user("editor").get(_page(shared)).text
    assert f'<option value="{rag.pk}" disabled>' in html
    assert f'<option value="{test.pk}" disabled>' in html
    assert "not shareable: RAG" in html
    assert "not shareable: test revision" in html
    assert f'<option value="{shared.revision.pk}" selected>' in html
    refused = as_user("editor").post(
        _create(shared), _form(shared, task_revision=str(rag.pk), task_run="")
    )
    assert refused.status_code == 200
    assert "cannot be shared" in refused.text
    assert not TaskShare.objects.exists()


def test_choosing_a_revision_offers_only_its_runs_as_the_example(
    shared, as_user, personas
):
    _task, newer = task_update(
        task=shared.task,
        user=personas.editor,
        revision_fields={"user_prompt": "Newer {review}"},
    )
    client = as_user("editor")
    headers = {"HX-Request": "true", "HX-Target": "share-example-field"}
    own = client.get(
        _page(shared), {"task_revision": str(shared.revision.pk)}, headers=headers
    )
    assert own.status_code == 200
    assert "<html" not in own.text
    assert 'id="share-example-field"' in own.text
    assert str(shared.example.pk) in own.text
    other = client.get(_page(shared), {"task_revision": str(newer.pk)}, headers=headers)
    assert str(shared.example.pk) not in other.text
    assert "No example" in other.text


def test_creating_a_link_over_htmx_answers_the_panel_and_an_event(shared, as_user):
    response = as_user("editor").post(
        _create(shared),
        _form(shared, title="Public demo", max_uses="10", allow_inputs="on"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "share-created"
    assert "<html" not in response.text
    share = TaskShare.objects.get()
    assert share.title == "Public demo"
    assert share.max_uses == 10
    assert share.allow_inputs and share.show_output
    assert share.task_run_id == shared.example.pk
    assert "Your new share link" in response.text
    assert f"data-copy>{share.url}</code>" in response.text


def test_creating_a_link_without_htmx_redirects_back(shared, as_user):
    client = as_user("editor")
    response = client.post(
        _create(shared), _form(shared, custom_short_id="new1", expires_in_hours="24")
    )
    assert response.status_code == 302
    assert response["Location"] == _page(shared)
    share = TaskShare.objects.get(short_id="new1")
    assert share.expires_at is not None
    assert "Share link ready" in client.get(_page(shared)).text


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"custom_short_id": "ab"}, "3 to 5 letters or digits"),
        ({"custom_short_id": "ab-1"}, "no dashes"),
        ({"custom_short_id": "tkn1"}, "is taken"),
        ({"expires_at": "2001-01-01T10:00"}, "must be in the future"),
        ({"max_uses": "0"}, "at least 1"),
        ({"max_uses": "-2"}, "at least 1"),
        ({"expires_in_hours": "5", "expires_at": "2099-01-01T10:00"}, "not both"),
    ],
)
def test_bad_options_re_render_the_form_with_the_reason(shared, as_user, fields, says):
    shared.share(custom_short_id="tkn1")
    client = as_user("editor")
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(
            _create(shared), _form(shared, **fields), headers=headers
        )
        assert response.status_code == 200
        assert says in response.text
        assert "field-invalid" in response.text
    assert TaskShare.objects.count() == 1


def test_revoking_over_htmx_and_without(shared, as_user):
    first = shared.share(custom_short_id="rv01")
    second = shared.share(custom_short_id="rv02")
    client = as_user("editor")
    over_htmx = client.post(_revoke(shared, first), headers={"HX-Request": "true"})
    assert over_htmx.status_code == 200
    assert over_htmx["HX-Trigger"] == "share-revoked"
    assert "<html" not in over_htmx.text
    assert "Revoked /s/rv01" in over_htmx.text
    plain = client.post(_revoke(shared, second))
    assert plain.status_code == 302
    assert not TaskShare.objects.filter(active=True).exists()
    assert client.get("/s/rv01").status_code == 403


def test_a_viewer_sees_the_links_but_cannot_change_them(shared, as_user):
    share = shared.share(custom_short_id="vw1")
    viewer = as_user("viewer")
    page = viewer.get(_page(shared))
    assert page.status_code == 200
    assert "/s/vw1" in page.text
    assert "+ New share link" not in page.text
    assert "Revoke" not in page.text
    assert viewer.post(_create(shared), _form(shared)).status_code == 403
    assert viewer.post(_revoke(shared, share)).status_code == 403
    share.refresh_from_db()
    assert share.active and TaskShare.objects.count() == 1


def test_an_outsider_finds_nothing(shared, as_user, personas):
    share = shared.share(custom_short_id="out1")
    outsider = as_user("outsider")
    assert outsider.get(_page(shared)).status_code == 404
    assert outsider.post(_create(shared), _form(shared)).status_code == 404
    assert outsider.post(_revoke(shared, share)).status_code == 404
    shares = reverse("project_shares", args=[personas.project.pk])
    assert outsider.get(shares).status_code == 404


def test_the_task_page_takes_a_fixed_number_of_queries(
    shared, as_user, django_assert_num_queries
):
    client = as_user("owner")
    for _ in range(2):
        shared.share()
    client.get(_page(shared))
    # session, user, project with the caller's role, task (an owner's grants
    # are not read), revisions with their model, live entries, example runs,
    # shares with task and revision, share runs; the chrome: memberships,
    # their projects
    with django_assert_num_queries(11):
        assert client.get(_page(shared)).status_code == 200
    for _ in range(5):
        shared.share()
    with django_assert_num_queries(11):
        assert client.get(_page(shared)).status_code == 200


def test_the_project_page_lists_every_link_and_picks_a_task(
    shared, as_user, personas, django_assert_num_queries
):
    share = shared.share(custom_short_id="prj1", max_uses=3)
    expired = shared.share(custom_short_id="prj2", expires_in_hours=1)
    TaskShare.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    client = as_user("viewer")
    url = reverse("project_shares", args=[personas.project.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.text
    assert "/s/prj1" in html and "/s/prj2" in html
    assert "0 / 3" in html
    assert "Expired" in html and "Active" in html
    assert _page(shared) in html
    assert "No share links yet" not in html
    picked = client.get(
        reverse("project_share_task", args=[personas.project.pk]),
        {"task": str(shared.task.pk)},
    )
    assert picked.status_code == 302
    assert picked["Location"] == _page(shared)
    assert share.status == "active"

    # session, user, project with the caller's role, shares with task and
    # revision, the task picker's tasks; the chrome: memberships, projects
    with django_assert_num_queries(7):
        client.get(url)
    for _ in range(4):
        shared.share()
    with django_assert_num_queries(7):
        client.get(url)


def test_the_project_page_without_links_shows_the_empty_state(as_user, personas):
    response = as_user("viewer").get(
        reverse("project_shares", args=[personas.project.pk])
    )
    assert response.status_code == 200
    assert "No share links yet" in response.text


def test_the_share_pages_load_nothing_from_elsewhere(shared, as_user, personas):
    shared.share()
    client = as_user("editor")
    _assert_self_hosted(client.get(_page(shared)))
    _assert_self_hosted(
        client.get(reverse("project_shares", args=[personas.project.pk]))
    )


def test_the_example_picker_offers_only_runs_you_may_read(
    shared, as_user, personas, fake_llm
):
    # The editor made the task, so owns it; as a plain project editor they
    # see only their own runs.
    TaskMember.objects.filter(task=shared.task, subject_id=personas.editor.pk).delete()

    fake_llm.answer({"sentiment": "negative", "confident": False, "reasons": []})
    admins_run = run_execute(
        task=shared.task,
        revision=shared.revision,
        task_input={"review": "Private feedback"},
        user=personas.admin,
    )
    editor_page = as_user("editor").get(_page(shared)).text
    assert str(shared.example.pk) in editor_page
    assert str(admins_run.pk) not in editor_page
    assert "Recent runs from links" not in editor_page
    refused = as_user("editor").post(
        _create(shared), _form(shared, task_run=str(admins_run.pk))
    )
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.text
    assert not TaskShare.objects.exists()
    owner_page = as_user("owner").get(_page(shared)).text
    assert str(admins_run.pk) in owner_page
    assert "Recent runs from links" in owner_page
