"""Removing a member, or leaving, ends every way they had to act in the
organisation: API keys, OAuth tokens and direct task grants, in one audited
transaction; and every credential acts with its user's current membership."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from oauth2_provider.models import AccessToken, RefreshToken

from rightbrain.orgs.models import ApiKey, AuditEvent, Membership
from rightbrain.orgs.permissions import Role
from rightbrain.orgs.services import (
    api_key_create,
    membership_leave,
    membership_remove,
    organization_create,
)
from tasks_app.models import TaskMember
from tests.helpers import ApiClient
from tests.orgs.oauth_helpers import (
    client_credentials,
    code_client,
    consent,
    exchange_code,
    make_client,
    redirect_params,
    token_request,
)


@pytest.fixture(autouse=True)
def _no_sign_in_rate_limit(settings):
    # The OAuth consent helpers sign in through the real login page.
    settings.ACCOUNT_RATE_LIMITS = False


def _remove(personas, as_user, user, by="owner"):
    membership = personas.membership(user)
    url = reverse(
        "console_member_remove", args=[personas.organization.pk, membership.pk]
    )
    return as_user(by).post(url)


# The assessment's scenario ---------------------------------------------------------


def test_a_removed_editors_key_no_longer_reads_edits_runs_shares_or_lists_members(
    personas, api, as_user, new_task
):
    editor = api("editor")
    task = editor.post("/task", new_task()).json()
    paths = {
        "read runs": ("get", f"/task/{task['id']}/run", None),
        "edit": ("post", f"/task/{task['id']}", {"name": "Hijacked"}),
        "run": ("post", f"/task/{task['id']}/run", {"task_input": {"review": "x"}}),
        "share": ("post", f"/task/{task['id']}/share", {"title": "Leak"}),
        "members": ("get", f"/task/{task['id']}/iam/members", None),
    }
    assert editor.get(f"/task/{task['id']}/run").status_code == 200

    assert _remove(personas, as_user, personas.editor).status_code == 302

    for name, (method, path, body) in paths.items():
        response = getattr(editor, method)(path, *([body] if body else []))
        assert response.status_code in {401, 403}, name
        if "/iam/" not in path:
            assert response.status_code == 401, name
    from sharing.models import TaskShare
    from tasks_app.models import Task

    assert Task.objects.get(pk=task["id"]).name == "Review checker"
    assert not TaskShare.objects.exists()


def test_removal_revokes_the_keys_for_that_organisation_only_and_keeps_them(
    personas, api, as_user, project_base
):
    acme = api("editor")
    own = organization_create(name="Editor's own", owner=personas.editor)
    own_project = own.projects.get()
    _key, own_secret = api_key_create(
        project=own_project, user=personas.editor, name="x"
    )
    own_api = ApiClient(own_secret, f"/api/v1/org/{own.pk}/project/{own_project.pk}")
    assert acme.get("/model").status_code == 200

    _remove(personas, as_user, personas.editor)

    assert acme.get("/model").status_code == 401
    assert own_api.get("/model").status_code == 200
    acme_key = ApiKey.objects.get(project=personas.project, user=personas.editor)
    assert acme_key.revoked_at is not None  # kept for the record, not deleted
    assert ApiKey.objects.get(project=own_project).revoked_at is None


def test_removal_revokes_the_oauth_tokens_that_act_as_the_person(
    personas, project_base
):
    # A token the editor consented to (with a refresh token), and one of a
    # `user` client they created; a `project` client keeps working.
    code, code_secret = code_client(personas.project, personas.admin)
    grant = redirect_params(
        consent(code, personas.editor.email, scope="offline_access")
    )["code"]
    issued = exchange_code(code, code_secret, grant).json()
    user_client, user_secret = make_client(personas.project, personas.editor)
    as_creator = client_credentials(user_client, user_secret)
    service, service_secret = make_client(
        personas.project, personas.editor, client_type="project"
    )
    as_service = client_credentials(service, service_secret)
    for token in (issued["access_token"], as_creator, as_service):
        assert ApiClient(token, project_base).get("/model").status_code == 200

    membership_remove(membership=personas.membership(personas.editor))

    assert (
        ApiClient(issued["access_token"], project_base).get("/model").status_code == 401
    )
    assert ApiClient(as_creator, project_base).get("/model").status_code == 401
    assert ApiClient(as_service, project_base).get("/model").status_code == 200
    # Kept for the record: expired and revoked rather than deleted.
    assert AccessToken.objects.filter(user=personas.editor).exists()
    assert RefreshToken.objects.get(user=personas.editor).revoked is not None
    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        basic=(code.client_id, code_secret),
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


def test_removal_drops_the_persons_direct_task_grants_in_that_organisation(
    personas, api, as_user, new_task
):
    task = api("editor").post("/task", new_task()).json()
    api("owner").post(
        f"/task/{task['id']}/iam/members/user:{personas.viewer.pk}", {"add": ["editor"]}
    )
    elsewhere = organization_create(name="Elsewhere too", owner=personas.editor)
    _key, secret = api_key_create(
        project=elsewhere.projects.get(), user=personas.editor, name="x"
    )
    other_base = f"/api/v1/org/{elsewhere.pk}/project/{elsewhere.projects.get().pk}"
    ApiClient(secret, other_base).post("/task", new_task(name="Mine"))
    assert TaskMember.objects.filter(subject_id=personas.editor.pk).count() == 2

    _remove(personas, as_user, personas.editor)

    remaining = TaskMember.objects.filter(subject_id=personas.editor.pk)
    assert [grant.task.project.organization_id for grant in remaining] == [elsewhere.pk]
    # Someone else's grant on the same task stays.
    assert TaskMember.objects.filter(subject_id=personas.viewer.pk).exists()
    members = api("owner").get(f"/task/{task['id']}/iam/members").json()["results"]
    assert [m["member"] for m in members] == [f"user:{personas.viewer.pk}"]


def test_removal_is_audited_with_what_it_revoked(personas, api, as_user, new_task):
    api("editor").post("/task", new_task())

    _remove(personas, as_user, personas.editor, by="admin")

    removed = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_REMOVED)
    assert removed.actor == personas.admin
    assert removed.target_label == personas.editor.email
    assert removed.details == {
        "role": "editor",
        "api_keys_revoked": 1,
        "oauth_tokens_revoked": 0,
        "task_grants_dropped": 1,
    }
    revoked = AuditEvent.objects.get(action=AuditEvent.Action.API_KEY_REVOKED)
    assert revoked.details["reason"] == "membership_ended"
    assert revoked.organization_id == personas.organization.pk


def test_a_refused_removal_revokes_nothing(personas, api):
    owner = api("owner")
    with pytest.raises(ValidationError, match="last owner"):
        membership_remove(membership=personas.membership(personas.owner))
    assert owner.get("/model").status_code == 200
    assert not ApiKey.objects.filter(revoked_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action__startswith="member.").exists()


# Leaving -----------------------------------------------------------------------------


def test_any_member_may_leave_and_loses_the_same_access(
    personas, api, as_user, new_task
):
    viewer = api("viewer")
    api("owner").post("/task", new_task())
    url = reverse("organization_leave", args=[personas.organization.pk])

    response = as_user("viewer").post(url)

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert not Membership.objects.filter(user=personas.viewer).exists()
    assert viewer.get("/model").status_code == 401
    left = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_LEFT)
    assert left.actor == personas.viewer
    assert left.details["api_keys_revoked"] == 1


def test_the_last_owner_cannot_leave_and_is_told_why(personas, as_user):
    url = reverse("organization_leave", args=[personas.organization.pk])
    response = as_user("owner").post(url, follow=True)
    assert "last owner cannot leave" in response.text
    assert Membership.objects.filter(user=personas.owner).exists()
    with pytest.raises(ValidationError):
        membership_leave(membership=personas.membership(personas.owner))


def test_leaving_needs_a_post_and_a_membership(personas, as_user):
    url = reverse("organization_leave", args=[personas.organization.pk])
    assert as_user("viewer").get(url).status_code == 405
    assert as_user("outsider").post(url).status_code == 404
    assert Membership.objects.filter(user=personas.viewer).exists()


def test_the_account_page_offers_to_leave_each_organisation(personas, as_user):
    page = as_user("viewer").get(reverse("account_settings")).text
    assert reverse("organization_leave", args=[personas.organization.pk]) in page


# Every request reads the credential's user's current membership ----------------------


def test_a_demoted_admins_key_acts_as_a_viewer(personas, api, new_task):
    admin = api("admin")
    task = admin.post("/task", new_task()).json()
    assert admin.get("/api_key").status_code == 200

    membership = personas.membership(personas.admin)
    membership.role = Role.VIEWER
    membership.save()

    assert admin.get("/api_key").status_code == 403
    assert admin.post("/task", new_task(name="Another")).status_code == 403
    assert admin.get(f"/task/{task['id']}").status_code == 200
    # Their creator grant still makes them the task's owner while they are a member.
    assert admin.post(f"/task/{task['id']}", {"name": "Renamed"}).status_code == 200


def test_a_key_whose_user_left_by_any_path_is_refused(personas, api):
    # Membership rows can also go without membership_remove (the Django admin,
    # a cascade); the key must not outlive them.
    editor = api("editor")
    Membership.objects.filter(user=personas.editor).delete()
    response = editor.get("/model")
    assert response.status_code == 401
    assert response.json()["type"] == "authorization_error"


def test_a_grant_outliving_its_holders_membership_gives_nothing(
    personas, api, new_task, project_base
):
    # The editor consented to an OAuth client, so the token outlives the key
    # check; their creator grant was left behind by a bare delete.
    task = api("editor").post("/task", new_task()).json()
    code, secret = code_client(personas.project, personas.admin)
    grant = redirect_params(consent(code, personas.editor.email))["code"]
    token = exchange_code(code, secret, grant).json()["access_token"]
    client = ApiClient(token, project_base)
    assert client.post(f"/task/{task['id']}", {"name": "Mine"}).status_code == 200

    Membership.objects.filter(user=personas.editor).delete()

    assert TaskMember.objects.filter(subject_id=personas.editor.pk).exists()
    assert client.get(f"/task/{task['id']}").status_code == 404
    assert client.post(f"/task/{task['id']}", {"name": "Again"}).status_code == 404
    assert client.get("/task").json()["results"] == []


def test_deleting_a_membership_in_the_admin_removes_the_member_properly(
    personas, api, client
):
    personas.owner.is_staff = personas.owner.is_superuser = True
    personas.owner.save()
    client.force_login(personas.owner)
    editor = api("editor")
    membership = personas.membership(personas.editor)

    response = client.post(
        reverse("admin:orgs_membership_delete", args=[membership.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert ApiKey.objects.get(user=personas.editor).revoked_at is not None
    assert editor.get("/model").status_code == 401
    removed = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_REMOVED)
    assert removed.actor == personas.owner


def test_the_admin_keeps_the_last_owner_and_says_why(personas, client):
    personas.owner.is_staff = personas.owner.is_superuser = True
    personas.owner.save()
    client.force_login(personas.owner)
    membership = personas.membership(personas.owner)
    response = client.post(
        reverse("admin:orgs_membership_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [membership.pk],
            "post": "yes",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "last owner" in response.text
    assert Membership.objects.filter(pk=membership.pk).exists()
