"""A task's tags in the dashboard (dashboard.md §5): the card on the Revisions
page adds a tag of the project's tree, removes one, or makes a new one, with
mistakes shown inline and the rights of api.md §6 and §3.4."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tasks_app.models import Tag, Task, TaskMember
from tasks_app.services import RevisionSpec, tag_create, task_create

HX = {"HX-Request": "true"}


@pytest.fixture
def task(personas, llm) -> Task:
    return task_create(
        project=personas.project,
        user=personas.owner,
        name="Tagged",
        revision=RevisionSpec(user_prompt="Check {x}", llm_model_id=llm.plain.pk),
    )


@pytest.fixture
def tags(personas):
    team = tag_create(project=personas.project, name="team", entity_type="task")
    growth = tag_create(
        project=personas.project, name="growth", entity_type="task", parent_id=team.pk
    )
    return team, growth


def _url(task) -> str:
    return reverse("task_tags", args=[task.project_id, task.pk])


def _revisions(task) -> str:
    return reverse("task_revisions", args=[task.project_id, task.pk])


def _names(task) -> set[str]:
    return set(task.tags.values_list("name", flat=True))


def test_the_revisions_page_shows_the_tags_with_their_paths(
    personas, as_user, task, tags
):
    team, growth = tags
    task.tags.add(growth)
    page = as_user("editor").get(_revisions(task))
    assert page.status_code == 200
    assert 'id="task-tags"' in page.text
    assert "team / growth" in page.text
    add_form = page.text.split('id="tag-add"')[1].split("</select>")[0]
    assert f'<option value="{team.pk}">team</option>' in add_form
    assert str(growth.pk) not in add_form
    assert "Create and add" in page.text


def test_viewers_see_the_tags_but_no_controls(personas, as_user, task, tags):
    task.tags.add(tags[0])
    page = as_user("viewer").get(_revisions(task))
    card = page.text.split('id="task-tags"')[1].split("</section>")[0]
    assert "team" in card
    assert "<form" not in card


def test_an_editor_adds_a_tag_over_htmx(personas, as_user, task, tags):
    team, _growth = tags
    response = as_user("editor").post(
        _url(task), {"action": "add", "tag": str(team.pk)}, headers=HX
    )
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="task-tags"' in response.text
    assert response["HX-Trigger"] == "task-tags-changed"
    assert _names(task) == {"team"}


def test_without_js_a_change_returns_to_the_revisions_page(
    personas, as_user, task, tags
):
    task.tags.add(*tags)
    client = as_user("editor")
    response = client.post(_url(task), {"action": "remove", "tag": str(tags[0].pk)})
    assert response.status_code == 302
    assert response["Location"] == _revisions(task) + "#task-tags"
    assert _names(task) == {"growth"}
    assert "Removed the tag." in client.get(response["Location"]).text


def test_a_new_tag_is_made_under_a_parent_and_added(personas, as_user, task, tags):
    team, _growth = tags
    response = as_user("editor").post(
        _url(task),
        {"action": "create", "name": "beta", "parent": str(team.pk)},
        headers=HX,
    )
    assert response.status_code == 200
    assert "team / beta" in response.text
    beta = Tag.objects.get(name="beta")
    assert beta.parent_id == team.pk and beta.entity_type == "task"
    assert _names(task) == {"beta"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("pre-prod", "letters or digits"),
        ("toolongtagname123", "letters or digits"),
        ("", "letters or digits"),
        ("team", "already named team"),
    ],
)
def test_a_bad_tag_name_is_refused_inline_and_nothing_is_written(
    personas, as_user, task, tags, name, message
):
    response = as_user("editor").post(
        _url(task), {"action": "create", "name": name}, headers=HX
    )
    assert response.status_code == 200
    assert 'id="tag-name-error"' in response.text and message in response.text
    assert "HX-Trigger" not in response
    assert Tag.objects.count() == 2
    assert _names(task) == set()


def test_without_js_a_bad_name_is_shown_on_a_page_of_its_own(
    personas, as_user, task, tags
):
    response = as_user("editor").post(_url(task), {"action": "create", "name": "a b"})
    assert response.status_code == 200
    assert "<html" in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="a b"' in response.text


def test_tags_of_other_projects_or_kinds_are_refused_inline(
    personas, as_user, task, tags
):
    elsewhere = tag_create(
        project=personas.other_project, name="theirs", entity_type="task"
    )
    revision_tag = tag_create(
        project=personas.project, name="beta", entity_type="task_revision"
    )
    client = as_user("editor")
    for tag in (str(elsewhere.pk), str(revision_tag.pk), "not-a-uuid", ""):
        response = client.post(_url(task), {"action": "add", "tag": tag}, headers=HX)
        assert response.status_code == 200
        assert "form-errors" in response.text
    removed = client.post(
        _url(task), {"action": "remove", "tag": str(tags[0].pk)}, headers=HX
    )
    assert "The task has no such tag." in removed.text
    assert client.post(_url(task), {"action": "create", "parent": "x"}).status_code == (
        200
    )
    assert _names(task) == set()


def test_viewers_are_refused_and_outsiders_see_nothing(personas, as_user, task, tags):
    body = {"action": "add", "tag": str(tags[0].pk)}
    assert as_user("viewer").post(_url(task), body).status_code == 403
    assert as_user("outsider").post(_url(task), body).status_code == 404
    assert as_user("outsider").get(_url(task)).status_code == 404
    assert _names(task) == set()


def test_a_task_editor_without_project_rights_tags_but_cannot_make_tags(
    personas, as_user, task, tags
):
    TaskMember.objects.create(
        task=task, subject_type="user", subject_id=personas.viewer.pk, role="editor"
    )
    client = as_user("viewer")
    page = client.get(_url(task))
    assert page.status_code == 200
    assert 'id="tag-add"' in page.text and "Create and add" not in page.text
    added = client.post(_url(task), {"action": "add", "tag": str(tags[0].pk)})
    assert added.status_code == 302
    made = client.post(_url(task), {"action": "create", "name": "mine"})
    assert made.status_code == 403
    assert not Tag.objects.filter(name="mine").exists()
    assert _names(task) == {"team"}


def test_the_card_costs_the_same_with_many_tags(
    personas, as_user, task, django_assert_num_queries
):
    client = as_user("editor")
    client.get(_url(task), headers=HX)
    # 1 session, 2 user, 3 project with role, 4 task, 5 the caller's grants,
    # 6 the project's tags, 7 the task's tags.
    with django_assert_num_queries(7):
        client.get(_url(task), headers=HX)
    for index in range(10):
        tag = tag_create(project=personas.project, name=f"t{index}", entity_type="task")
        task.tags.add(tag)
    with django_assert_num_queries(7):
        card = client.get(_url(task), headers=HX)
    assert card.text.count('class="chip tag-chip"') == 10


def test_a_traffic_form_answered_without_js_has_no_half_drawn_tag_card(
    personas, as_user, task, tags
):
    revision = task.revisions.get()
    page = as_user("editor").post(
        reverse("task_traffic", args=[task.project_id, task.pk]),
        {"revision": [str(revision.pk)], f"weight_{revision.pk}": "40"},
    )
    assert page.status_code == 200 and "<html" in page.text
    assert 'id="task-tags"' not in page.text
