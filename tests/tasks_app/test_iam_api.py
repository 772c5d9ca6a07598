"""Checklist items 75–86: task IAM."""

from __future__ import annotations

import pytest

from rightbrain.orgs.models import Membership
from tasks_app.models import TaskMember
from tests.helpers import ApiClient, make_user


@pytest.fixture
def task(api, new_task):
    return api("owner").post("/task", new_task()).json()


def _members(client, task, **params):
    return client.get(f"/task/{task['id']}/iam/members", **params)


def _update(client, task, member, body):
    return client.post(f"/task/{task['id']}/iam/members/{member}", body)


# 75
def test_the_creator_is_listed_as_owner(api, task, personas):
    members = _members(api("owner"), task).json()["results"]
    assert members == [
        {
            "member": f"user:{personas.owner.pk}",
            "roles": ["owner"],
            "name": personas.owner.name,
            "avatar_url": None,
            "total_subjects": 1,
        }
    ]


# 76
def test_adding_a_viewer(api, task, personas):
    response = _update(
        api("owner"), task, f"user:{personas.viewer.pk}", {"add": ["viewer"]}
    )
    assert response.status_code == 200
    assert response.json()["roles"] == ["viewer"]
    assert response.json()["member"] == f"user:{personas.viewer.pk}"


# 77
def test_one_role_per_member(api, task, personas):
    client = api("owner")
    member = f"user:{personas.viewer.pk}"
    both = _update(client, task, member, {"add": ["viewer", "editor"]})
    assert both.status_code == 400
    assert both.json()["reason"] == "MULTIPLE_ROLES_NOT_ALLOWED"
    assert both.json()["multipleRolesNotAllowedError"]["roles"] == ["viewer", "editor"]
    _update(client, task, member, {"add": ["viewer"]})
    stacked = _update(client, task, member, {"add": ["editor"]})
    assert stacked.json()["reason"] == "MULTIPLE_ROLES_NOT_ALLOWED"
    replaced = _update(client, task, member, {"remove_all": True, "add": ["editor"]})
    assert replaced.json()["roles"] == ["editor"]
    assert TaskMember.objects.get(subject_id=personas.viewer.pk).role == "editor"


# 78
def test_an_unknown_role_is_invalid(api, task, personas):
    response = _update(
        api("owner"), task, f"user:{personas.viewer.pk}", {"add": ["admin"]}
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "INVALID_ROLE"
    assert response.json()["invalidRoleError"]["role"] == "admin"


# 79
def test_member_string_errors(api, task):
    client = api("owner")
    robot = _update(client, task, "robot:1", {"add": ["viewer"]})
    assert (robot.status_code, robot.json()["reason"]) == (400, "INVALID_SUBJECT_TYPE")
    malformed = _update(client, task, "user:not-a-uuid", {"add": ["viewer"]})
    assert (malformed.status_code, malformed.json()["reason"]) == (
        400,
        "MALFORMED_RESOURCE_IDENTIFIER",
    )
    unknown = _update(
        client, task, "user:01a20565-693f-7002-8b37-71d82a40b067", {"add": ["viewer"]}
    )
    assert (unknown.status_code, unknown.json()["reason"]) == (404, "INVALID_MEMBER")


def test_a_user_outside_the_organisation_cannot_be_granted(api, task, personas):
    response = _update(
        api("owner"), task, f"user:{personas.outsider.pk}", {"add": ["viewer"]}
    )
    # Answered like an unknown user (no existence oracle).
    assert (response.status_code, response.json()["reason"]) == (404, "INVALID_MEMBER")
    assert TaskMember.objects.count() == 1


# 80
def test_an_editor_cannot_add_an_owner(api, task, personas):
    response = _update(
        api("editor"), task, f"user:{personas.viewer.pk}", {"add": ["owner"]}
    )
    assert response.status_code == 403
    body = response.json()
    assert body["reason"] == "PERMISSION_CHECK_FAILED"
    assert body["permissionCheckFailedError"]["permission"] == "add_owner"
    # An editor may add viewers.
    ok = _update(api("editor"), task, f"user:{personas.viewer.pk}", {"add": ["viewer"]})
    assert ok.status_code == 200


# 81
def test_permission_test_as_a_viewer(api, task):
    response = api("viewer").post(
        f"/task/{task['id']}/iam/test", {"permissions": ["view", "edit", "run_task"]}
    )
    assert response.status_code == 200
    assert response.json()["permissions"] == ["view", "run_task"]


def test_permission_test_for_another_member_needs_view_members(api, task, personas):
    body = {"permissions": ["view", "edit"], "member": f"user:{personas.editor.pk}"}
    assert api("viewer").post(f"/task/{task['id']}/iam/test", body).status_code == 403
    response = api("owner").post(f"/task/{task['id']}/iam/test", body)
    assert response.json() == {
        "permissions": ["view", "edit"],
        "member": f"user:{personas.editor.pk}",
    }
    unknown = api("owner").post(
        f"/task/{task['id']}/iam/test", {"permissions": ["fly"]}
    )
    assert unknown.json()["reason"] == "INVALID_ROLE"


# 82
def test_iam_without_a_token_is_403_missing_authentication(api, task, personas):
    anonymous = api(None)
    for response in (
        _members(anonymous, task),
        _update(anonymous, task, f"user:{personas.viewer.pk}", {"add": ["viewer"]}),
        anonymous.post(f"/task/{task['id']}/iam/test", {"permissions": ["view"]}),
        anonymous.get(f"/task/{task['id']}/iam/members/user:{personas.viewer.pk}"),
    ):
        assert response.status_code == 403
        assert response.json() == {
            "message": "Authentication is required.",
            "reason": "MISSING_AUTHENTICATION",
            "missingAuthenticationError": {},
        }


# 83
def test_type_filter(api, task, personas):
    client = api("owner")
    _update(
        client, task, f"organization:{personas.organization.pk}", {"add": ["viewer"]}
    )
    _update(client, task, f"user:{personas.viewer.pk}", {"add": ["viewer"]})
    orgs = _members(client, task, type="organization").json()["results"]
    assert [m["member"] for m in orgs] == [f"organization:{personas.organization.pk}"]
    users = _members(client, task, type="user").json()["results"]
    assert len(users) == 2


# 84
def test_a_project_editor_without_a_grant_edits_and_is_not_listed(api, task, personas):
    editor = api("editor")
    assert editor.post(f"/task/{task['id']}", {"name": "Edited"}).status_code == 200
    members = [m["member"] for m in _members(api("owner"), task).json()["results"]]
    assert f"user:{personas.editor.pk}" not in members


# 85
def test_a_public_task_is_visible_to_any_signed_in_user_who_cannot_edit_it(
    api, task, personas, project_base, settings
):
    # A non-member's credential for the project: they signed in and consented
    # to one of its OAuth clients (API keys are made by members only).
    from tests.orgs.oauth_helpers import (
        code_client,
        consent,
        exchange_code,
        redirect_params,
    )

    settings.ACCOUNT_RATE_LIMITS = False
    stranger = make_user("stranger@example.test")
    Membership.objects.create(
        organization=personas.other_organization, user=stranger, role="owner"
    )
    oauth_client, oauth_secret = code_client(personas.project, personas.editor)
    code = redirect_params(consent(oauth_client, stranger.email))["code"]
    token = exchange_code(oauth_client, oauth_secret, code).json()["access_token"]
    client = ApiClient(token, project_base)
    assert client.get(f"/task/{task['id']}").status_code == 404
    api("owner").post(f"/task/{task['id']}", {"public": True})
    seen = client.get(f"/task/{task['id']}")
    assert seen.status_code == 200
    assert seen.json()["access_token"] is None
    assert client.post(f"/task/{task['id']}", {"name": "Hijack"}).status_code == 403
    tested = client.post(
        f"/task/{task['id']}/iam/test", {"permissions": ["view", "run_task", "edit"]}
    )
    assert tested.json()["permissions"] == ["view", "run_task"]


# 86
def test_granting_an_organisation_counts_its_people(api, task, personas):
    response = _update(
        api("owner"),
        task,
        f"organization:{personas.organization.pk}",
        {"add": ["viewer"]},
    )
    assert response.status_code == 200
    assert (
        response.json()["total_subjects"]
        == Membership.objects.filter(organization=personas.organization).count()
    )
    assert response.json()["name"] == "Acme"
    for persona in ("admin", "editor", "viewer"):
        assert api(persona).get(f"/task/{task['id']}").status_code == 200


def test_a_missing_or_foreign_task_is_a_permission_failure(api, personas, new_task):
    client = api("owner")
    missing = client.get("/task/01a20565-693f-7002-8b37-71d82a40b067/iam/members")
    assert missing.status_code == 403
    assert missing.json()["reason"] == "PERMISSION_CHECK_FAILED"
    malformed = client.get("/task/xyz/iam/members")
    assert malformed.status_code == 400
    assert malformed.json()["reason"] == "MALFORMED_RESOURCE_IDENTIFIER"


def test_a_viewer_cannot_list_members(api, task):
    response = _members(api("viewer"), task)
    assert response.status_code == 403
    assert response.json()["permissionCheckFailedError"]["permission"] == "view_members"


def test_removing_the_last_direct_owner_is_allowed(api, task, personas):
    response = _update(
        api("owner"), task, f"user:{personas.owner.pk}", {"remove": ["owner"]}
    )
    assert response.json()["roles"] == []
    # The organisation owner keeps inherited ownership.
    assert api("owner").get(f"/task/{task['id']}").json()["access_token"]


def test_iam_list_query_count_is_constant(
    api, task, personas, django_assert_num_queries
):
    client = api("owner")
    _members(client, task)
    for n in range(5):
        user = make_user(f"m{n}@acme.test")
        Membership.objects.create(
            organization=personas.organization, user=user, role="viewer"
        )
        TaskMember.objects.create(
            task_id=task["id"], subject_type="user", subject_id=user.pk, role="viewer"
        )
    # 1 key with user, project and role, 2 task, 3 caller's grants, 4 grants,
    # 5 users
    with django_assert_num_queries(5):
        _members(client, task)


def test_a_malformed_iam_body_is_a_422_http_validation_error(api, task, personas):
    response = api("owner").post(
        f"/task/{task['id']}/iam/members/user:{personas.viewer.pk}", {"add": "viewer"}
    )
    assert response.status_code == 422
    assert set(response.json()) == {"detail"}
    assert response.json()["detail"][0]["loc"][-1] == "add"
