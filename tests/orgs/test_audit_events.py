"""What each change writes to the audit log, in the change's own transaction."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rightbrain.orgs.models import AuditEvent
from rightbrain.orgs.services import audit_record

Action = AuditEvent.Action


def _actions() -> list[str]:
    return list(
        AuditEvent.objects.order_by("created", "id").values_list("action", flat=True)
    )


def test_a_tasks_life_is_recorded_with_its_author(personas, api, new_task):
    editor = api("editor")
    task = editor.post("/task", new_task()).json()
    first = task["revisions"][0]["id"]
    second = editor.post(f"/task/{task['id']}", {"user_prompt": "B {review}"}).json()
    second_id = next(r["id"] for r in second["revisions"] if r["id"] != first)
    editor.post(
        f"/task/{task['id']}",
        {
            "active_revisions": [
                {"task_revision_id": first, "weight": 0.5},
                {"task_revision_id": second_id, "weight": 0.5},
            ]
        },
    )
    # The same weights again change nothing and record nothing.
    editor.post(
        f"/task/{task['id']}",
        {
            "active_revisions": [
                {"task_revision_id": second_id, "weight": 0.5},
                {"task_revision_id": first, "weight": 0.50},
            ]
        },
    )
    editor.delete(f"/task/{task['id']}")

    assert _actions() == [
        Action.API_KEY_CREATED,  # the fixture's key
        Action.TASK_CREATED,
        Action.TASK_EDITED,
        Action.TASK_TRAFFIC_CHANGED,
        Action.TASK_DELETED,
    ]
    events = AuditEvent.objects.filter(target_type="task")
    assert {event.actor for event in events} == {personas.editor}
    assert {event.target_id for event in events} == {task["id"]}
    assert {event.organization_id for event in events} == {personas.organization.pk}
    edited = events.get(action=Action.TASK_EDITED)
    assert edited.details["revision_id"] == second_id
    traffic = events.get(action=Action.TASK_TRAFFIC_CHANGED)
    assert traffic.details["from"] == {first: "1"}
    assert traffic.details["to"] == {first: "0.5", second_id: "0.5"}
    # The deleted task still reads by name.
    assert events.get(action=Action.TASK_DELETED).target_label == "Review checker"


def test_a_refused_change_records_nothing(personas, api, new_task):
    editor = api("editor")
    task = editor.post("/task", new_task()).json()
    before = AuditEvent.objects.count()
    refused = editor.post(
        f"/task/{task['id']}",
        {
            "name": "Renamed",
            "active_revisions": [
                {"task_revision_id": task["revisions"][0]["id"], "weight": 0.4}
            ],
        },
    )
    assert refused.status_code == 422
    assert AuditEvent.objects.count() == before


def test_member_changes_are_recorded(personas, as_user):
    owner = as_user("owner")
    org = personas.organization.pk
    viewer = personas.membership(personas.viewer)
    owner.post(
        reverse("console_member_role", args=[org, viewer.pk]), {"role": "editor"}
    )
    owner.post(reverse("console_member_remove", args=[org, viewer.pk]))

    changed = AuditEvent.objects.get(action=Action.MEMBER_ROLE_CHANGED)
    assert (changed.actor, changed.target_label) == (
        personas.owner,
        personas.viewer.email,
    )
    assert changed.details == {"from": "viewer", "to": "editor"}
    removed = AuditEvent.objects.get(action=Action.MEMBER_REMOVED)
    assert removed.details["role"] == "editor"


def test_credentials_and_shares_are_recorded(personas, api, new_task):
    editor = api("editor")
    key = editor.post("/api_key", {"name": "CI"}).json()
    editor.delete(f"/api_key/{key['id']}")
    client = editor.post("/oauth_client", {"name": "Backend"}).json()
    editor.delete(f"/oauth_client/{client['id']}")
    task = editor.post("/task", new_task()).json()
    share = editor.post(f"/task/{task['id']}/share", {}).json()
    editor.delete(f"/task/{task['id']}/share/{share['id']}")
    editor.delete(f"/task/{task['id']}/share/{share['id']}")  # twice: one event

    assert _actions()[1:] == [
        Action.API_KEY_CREATED,
        Action.API_KEY_REVOKED,
        Action.OAUTH_CLIENT_CREATED,
        Action.OAUTH_CLIENT_DELETED,
        Action.TASK_CREATED,
        Action.SHARE_CREATED,
        Action.SHARE_REVOKED,
    ]
    revoked_key = AuditEvent.objects.get(action=Action.API_KEY_REVOKED)
    assert revoked_key.target_id == key["id"]
    assert revoked_key.target_label == f"CI ({key['prefix']}…)"
    deleted = AuditEvent.objects.get(action=Action.OAUTH_CLIENT_DELETED)
    assert deleted.details["client_id"] == client["client_id"]
    shared = AuditEvent.objects.get(action=Action.SHARE_CREATED)
    assert shared.target_label == f"/s/{share['short_id']}"
    assert shared.details["task"] == "Review checker"
    # Nothing secret is written down.
    for event in AuditEvent.objects.all():
        assert key["key"] not in str(event.details)


def test_an_unknown_action_is_refused(personas):
    with pytest.raises(ValueError):
        audit_record(
            organization_id=personas.organization.pk,
            actor=None,
            action="task.vanished",
            target_type="task",
        )


def test_joining_and_task_grants_are_recorded(personas, api, new_task):
    from rightbrain.orgs.models import Invitation
    from rightbrain.orgs.services import invitation_accept, invitation_create
    from tests.helpers import make_user

    invitation_create(
        organization=personas.organization,
        email="new@acme.test",
        role="viewer",
        invited_by=personas.admin,
    )
    newcomer = make_user("new@acme.test")
    invitation_accept(invitation=Invitation.objects.get(), user=newcomer)
    owner = api("owner")
    task = owner.post("/task", new_task()).json()
    member = f"user:{newcomer.pk}"
    owner.post(f"/task/{task['id']}/iam/members/{member}", {"add": ["editor"]})
    owner.post(f"/task/{task['id']}/iam/members/{member}", {"remove_all": True})

    added = AuditEvent.objects.get(action=Action.MEMBER_ADDED)
    assert (added.actor, added.target_label) == (newcomer, "new@acme.test")
    assert added.details == {"role": "viewer", "invited_by": personas.admin.email}
    grants = AuditEvent.objects.filter(action=Action.TASK_GRANT_CHANGED).order_by(
        "created"
    )
    assert [(e.details["from"], e.details["to"]) for e in grants] == [
        (None, "editor"),
        ("editor", None),
    ]
    assert {e.details["member"] for e in grants} == {member}


def test_revoking_a_key_twice_records_it_once(personas):
    from rightbrain.orgs.services import api_key_create, api_key_revoke

    key, _secret = api_key_create(
        project=personas.project, user=personas.editor, name="Script"
    )
    stale = type(key).objects.get(pk=key.pk)  # loaded before the first revoke
    api_key_revoke(api_key=key, actor=personas.editor)
    api_key_revoke(api_key=stale, actor=personas.admin)

    revoked = AuditEvent.objects.filter(action=Action.API_KEY_REVOKED)
    assert [event.actor for event in revoked] == [personas.editor]


def test_regenerating_a_client_secret_is_recorded(personas, api):
    editor = api("editor")
    client = editor.post("/oauth_client", {"name": "Backend"}).json()
    regenerated = editor.post(f"/oauth_client/{client['id']}/client_secret")

    event = AuditEvent.objects.get(action=Action.OAUTH_CLIENT_SECRET_REGENERATED)
    assert (event.actor, event.target_id) == (personas.editor, client["id"])
    assert regenerated.json()["client_secret"] not in str(event.details)
