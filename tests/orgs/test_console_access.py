"""Every console view tried by every persona: allowed, 403 or 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rightbrain.orgs.models import Invitation, Membership
from rightbrain.orgs.services import invitation_create

ALLOWED = {"owner", "admin"}
PERSONAS = ["owner", "admin", "editor", "viewer", "outsider"]


def _console_requests(personas):
    """(method, url, data) for every console view, aimed at the Acme organisation."""
    org = personas.organization.pk
    project = personas.project.pk
    viewer_membership = personas.membership(personas.viewer).pk
    invitation = invitation_create(
        organization=personas.organization,
        email="newcomer@acme.test",
        role="viewer",
        invited_by=personas.owner,
    )
    return [
        ("get", reverse("console_members", args=[org]), None),
        ("get", reverse("console_projects", args=[org]), None),
        ("get", reverse("console_audit", args=[org]), None),
        (
            "post",
            reverse("console_invite", args=[org]),
            {"email": "someone@acme.test", "role": "viewer"},
        ),
        (
            "post",
            reverse("console_member_role", args=[org, viewer_membership]),
            {"role": "editor"},
        ),
        ("post", reverse("console_member_remove", args=[org, viewer_membership]), {}),
        (
            "post",
            reverse("console_invitation_revoke", args=[org, invitation.pk]),
            {},
        ),
        ("post", reverse("console_project_create", args=[org]), {"name": "Research"}),
        (
            "post",
            reverse("console_project_rename", args=[org, project]),
            {"name": "Renamed"},
        ),
        ("post", reverse("console_project_archive", args=[org, project]), {}),
        ("post", reverse("console_project_restore", args=[org, project]), {}),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_console_views_answer_each_persona_by_role(personas, as_user, persona):
    client = as_user(persona)
    for method, url, data in _console_requests(personas):
        response = getattr(client, method)(url, data or {})
        if persona in ALLOWED:
            assert response.status_code in {200, 302}, (method, url)
        elif persona == "outsider":
            assert response.status_code == 404, (method, url)
        else:
            assert response.status_code == 403, (method, url)


def test_forbidden_console_posts_change_nothing(personas, as_user):
    viewer_membership = personas.membership(personas.viewer)
    for persona in ("editor", "viewer", "outsider"):
        client = as_user(persona)
        client.post(
            reverse(
                "console_member_role",
                args=[personas.organization.pk, viewer_membership.pk],
            ),
            {"role": "owner"},
        )
        client.post(
            reverse("console_invite", args=[personas.organization.pk]),
            {"email": "x@acme.test", "role": "owner"},
        )
    viewer_membership.refresh_from_db()
    assert viewer_membership.role == "viewer"
    assert not Invitation.objects.filter(email="x@acme.test").exists()


def test_anonymous_visitors_are_sent_to_sign_in(personas, client):
    url = reverse("console_members", args=[personas.organization.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_membership_of_another_organisation_is_not_found(personas, as_user):
    """The membership id is real, but it is not in the organisation of the URL."""
    foreign = Membership.objects.get(organization=personas.other_organization)
    response = as_user("owner").post(
        reverse("console_member_role", args=[personas.organization.pk, foreign.pk]),
        {"role": "viewer"},
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == "owner"


def test_a_project_of_another_organisation_is_not_found(personas, as_user):
    response = as_user("owner").post(
        reverse(
            "console_project_rename",
            args=[personas.organization.pk, personas.other_project.pk],
        ),
        {"name": "Hijacked"},
    )
    assert response.status_code == 404
    personas.other_project.refresh_from_db()
    assert personas.other_project.name == "Default project"


@pytest.mark.parametrize(
    "name", ["project_home", "project_runs", "project_usage", "project_shares"]
)
@pytest.mark.parametrize("persona", PERSONAS)
def test_project_pages_open_for_members_and_hide_from_outsiders(
    personas, as_user, persona, name
):
    response = as_user(persona).get(reverse(name, args=[personas.project.pk]))
    assert response.status_code == (404 if persona == "outsider" else 200)


def test_an_archived_project_is_not_found(personas, as_user):
    from rightbrain.orgs.services import project_archive, project_create

    project_create(organization=personas.organization, name="Second")
    project_archive(project=personas.project)
    response = as_user("owner").get(reverse("project_home", args=[personas.project.pk]))
    assert response.status_code == 404
