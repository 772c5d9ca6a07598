"""A task's Members screen (dashboard.md §10, checklist 145): direct grants
listed, added, changed and removed under the IAM rules of api.md §7.3, with the
actions a caller may not take hidden and refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rightbrain.orgs.models import Membership
from rightbrain.orgs.services import project_create
from tasks_app.models import Task, TaskMember
from tasks_app.services import RevisionSpec, task_create
from tests.helpers import make_user

HX = {"HX-Request": "true"}


@pytest.fixture
def task(personas, llm) -> Task:
    return task_create(
        project=personas.project,
        user=personas.owner,
        name="Guarded",
        revision=RevisionSpec(user_prompt="Check {x}", llm_model_id=llm.plain.pk),
    )


def _url(task) -> str:
    return reverse("task_members", args=[task.project_id, task.pk])


def _member_url(task, member: str) -> str:
    return reverse("task_member_update", args=[task.project_id, task.pk, member])


def _grant(task, user, role) -> TaskMember:
    return TaskMember.objects.create(
        task=task, subject_type="user", subject_id=user.pk, role=role
    )


def _roles(task) -> dict[str, str]:
    return {grant.member: grant.role for grant in TaskMember.objects.filter(task=task)}


def test_the_screen_lists_direct_members_and_inherited_access(personas, as_user, task):
    _grant(task, personas.viewer, "viewer")
    TaskMember.objects.create(
        task=task,
        subject_type="project",
        subject_id=personas.project.pk,
        role="viewer",
    )
    page = as_user("editor").get(_url(task))
    assert page.status_code == 200
    assert 'aria-current="page">Members</a>' in page.text
    assert "Olivia Owner" in page.text and f"user:{personas.owner.pk}" in page.text
    assert "Viewer Person" in page.text
    assert f"project:{personas.project.pk}" in page.text
    assert "Access through Acme" in page.text
    assert 'Owners and admins <span class="muted">(2)</span>' in page.text


def test_viewers_get_no_tab_and_403_outsiders_404(personas, as_user, task):
    run_page = as_user("viewer").get(
        reverse("task_run", args=[task.project_id, task.pk])
    )
    assert ">Members</a>" not in run_page.text
    assert as_user("viewer").get(_url(task)).status_code == 403
    assert as_user("outsider").get(_url(task)).status_code == 404
    member = f"user:{personas.owner.pk}"
    assert as_user("viewer").post(_member_url(task, member), {}).status_code == 403
    assert as_user("outsider").post(_member_url(task, member), {}).status_code == 404
    assert _roles(task) == {member: "owner"}


def test_an_editor_adds_a_viewer_and_the_page_reloads_without_js(
    personas, as_user, task
):
    client = as_user("editor")
    response = client.post(
        _url(task), {"member": f"user:{personas.viewer.pk}", "role": "viewer"}
    )
    assert response.status_code == 302 and response["Location"] == _url(task)
    assert _roles(task)[f"user:{personas.viewer.pk}"] == "viewer"
    page = client.get(_url(task))
    assert "Viewer Person (viewer@acme.test) is now viewer." in page.text


def test_adding_over_htmx_answers_the_panel_and_an_event(personas, as_user, task):
    response = as_user("owner").post(
        _url(task),
        {"member": f"organization:{personas.organization.pk}", "role": "editor"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="members-panel"' in response.text
    assert response["HX-Trigger"] == "task-members-changed"
    assert "Everyone in Acme is now editor." in response.text
    assert _roles(task)[f"organization:{personas.organization.pk}"] == "editor"


def test_an_editor_is_offered_only_the_viewer_role_and_refused_more(
    personas, as_user, task
):
    page = as_user("editor").get(_url(task))
    form = page.text.split('id="add-member-title"')[1]
    assert '<option value="viewer"' in form
    assert '<option value="editor"' not in form.split("</select>")[1]
    refused = as_user("editor").post(
        _url(task), {"member": f"user:{personas.viewer.pk}", "role": "owner"}
    )
    assert refused.status_code == 403
    assert f"user:{personas.viewer.pk}" not in _roles(task)


def test_an_editor_cannot_touch_an_owner_grant(personas, as_user, task):
    owner = f"user:{personas.owner.pk}"
    page = as_user("editor").get(_url(task))
    row = page.text.split(f"<code>{owner}</code>")[1].split("</tr>")[0]
    assert "Remove" not in row and "<select" not in row
    assert (
        as_user("editor").post(_member_url(task, owner), {"role": ""}).status_code
        == 403
    )
    assert (
        as_user("editor").post(_member_url(task, owner), {"role": "viewer"}).status_code
        == 403
    )
    assert _roles(task)[owner] == "owner"


def test_an_owner_changes_and_removes_a_role(personas, as_user, task):
    member = f"user:{personas.viewer.pk}"
    _grant(task, personas.viewer, "viewer")
    client = as_user("owner")
    changed = client.post(_member_url(task, member), {"role": "editor"}, headers=HX)
    assert changed.status_code == 200 and "<html" not in changed.text
    assert changed["HX-Trigger"] == "task-members-changed"
    assert _roles(task)[member] == "editor"
    removed = client.post(_member_url(task, member), {"role": ""})
    assert removed.status_code == 302
    assert member not in _roles(task)


def test_an_editor_removes_a_viewer(personas, as_user, task):
    member = f"user:{personas.viewer.pk}"
    _grant(task, personas.viewer, "viewer")
    page = as_user("editor").get(_url(task))
    row = page.text.split(f"<code>{member}</code>")[1].split("</tr>")[0]
    assert "Remove" in row
    # Promoting needs add_editor, which editors lack.
    assert '<option value="editor"' not in row
    response = as_user("editor").post(_member_url(task, member), {"role": ""})
    assert response.status_code == 302
    assert member not in _roles(task)


def test_someone_outside_the_organisation_cannot_be_added(personas, as_user, task):
    stranger = make_user("stranger@else.test")
    for member in (
        f"user:{stranger.pk}",
        f"user:{personas.outsider.pk}",
        f"project:{personas.other_project.pk}",
        "robot:1",
        "",
    ):
        response = as_user("owner").post(
            _url(task), {"member": member, "role": "viewer"}, headers=HX
        )
        assert response.status_code == 200
        assert "field-error" in response.text
    assert len(_roles(task)) == 1


def test_a_member_with_a_role_is_changed_not_added_twice(personas, as_user, task):
    response = as_user("owner").post(
        _url(task), {"member": f"user:{personas.owner.pk}", "role": "viewer"}
    )
    assert response.status_code == 200
    assert "already have a role" in response.text
    assert _roles(task) == {f"user:{personas.owner.pk}": "owner"}


def test_bad_members_and_roles_are_answered_plainly(personas, as_user, task):
    client = as_user("owner")
    assert client.post(_member_url(task, "user:nope"), {}).status_code == 404
    missing = f"user:{personas.viewer.pk}"
    assert client.post(_member_url(task, missing), {"role": "viewer"}).status_code == (
        404
    )
    owner = f"user:{personas.owner.pk}"
    assert client.post(_member_url(task, owner), {"role": "admin"}).status_code == 400
    assert client.get(_member_url(task, owner)).status_code == 405
    assert _roles(task) == {owner: "owner"}


def test_the_screen_costs_the_same_with_many_members(
    personas, as_user, task, django_assert_num_queries
):
    client = as_user("editor")
    TaskMember.objects.create(
        task=task,
        subject_type="organization",
        subject_id=personas.organization.pk,
        role="viewer",
    )
    TaskMember.objects.create(
        task=task, subject_type="project", subject_id=personas.project.pk, role="viewer"
    )
    client.get(_url(task))
    # 1 session, 2 user, 3 project with role, 4 task, 5 the caller's grants,
    # 6 role counts, 7 grants, 8 users, 9 projects, 10 organisation sizes,
    # 11 organisations, 12 people of the organisation, 13 its projects,
    # 14-15 the switcher.
    with django_assert_num_queries(15):
        client.get(_url(task))
    for index in range(5):
        user = make_user(f"extra{index}@acme.test")
        Membership.objects.create(
            organization=personas.organization, user=user, role="viewer"
        )
        _grant(task, user, "viewer")
        project = project_create(organization=personas.organization, name=f"P{index}")
        TaskMember.objects.create(
            task=task, subject_type="project", subject_id=project.pk, role="viewer"
        )
    with django_assert_num_queries(15):
        page = client.get(_url(task))
    assert page.text.count("<code>user:") == 6


def test_giving_up_ones_own_access_leads_back_to_the_task_list(personas, as_user, task):
    # An organisation viewer who owns this task only through a direct grant.
    member = f"user:{personas.viewer.pk}"
    _grant(task, personas.viewer, "owner")
    client = as_user("viewer")
    response = client.post(_member_url(task, member), {"role": "viewer"}, headers=HX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("project_home", args=[task.project_id])
    assert _roles(task)[member] == "viewer"
    assert client.get(_url(task)).status_code == 403
