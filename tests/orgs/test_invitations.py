from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from rightbrain.orgs.models import Invitation, Membership
from tests.helpers import PASSWORD, make_user


@pytest.fixture
def invite(personas, as_user, django_capture_on_commit_callbacks):
    """Invite through the console; the e-mail goes out when the transaction commits."""

    def send(email="newcomer@example.test", role="editor", by="admin"):
        with django_capture_on_commit_callbacks(execute=True):
            return as_user(by).post(
                reverse("console_invite", args=[personas.organization.pk]),
                {"email": email, "role": role},
            )

    return send


def _link_from(mail) -> str:
    return re.search(r"https?://\S+/invitations/\S+", mail.body).group(0)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_an_invitation_emails_a_link_and_stores_only_a_hash(
    invite, personas, as_user, mailoutbox
):
    invite()

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["newcomer@example.test"]
    assert "Acme" in mailoutbox[0].subject
    token = _link_from(mailoutbox[0]).rsplit("/", 1)[1]
    invitation = Invitation.objects.get(email="newcomer@example.test")
    assert invitation.role == "editor"
    assert token not in invitation.token_hash


def test_a_new_user_signs_up_from_the_link_and_joins_with_the_role(
    invite, personas, as_user, mailoutbox, client
):
    invite()
    path = _path(_link_from(mailoutbox[0]))

    page = client.get(path)
    assert page.status_code == 200
    assert "Join Acme" in page.text

    client.post(
        reverse("account_signup") + f"?next={path}",
        {
            "email": "newcomer@example.test",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    response = client.post(path)

    assert response.status_code == 302
    assert response["Location"] == reverse("project_home", args=[personas.project.pk])
    membership = Membership.objects.get(
        organization=personas.organization, user__email="newcomer@example.test"
    )
    assert membership.role == "editor"
    assert client.get(response["Location"]).status_code == 200


def test_an_invitation_cannot_be_used_twice(invite, personas, as_user, mailoutbox):
    invite()
    path = _path(_link_from(mailoutbox[0]))
    invitee = as_user_for(personas, "newcomer@example.test")
    assert invitee.post(path).status_code == 302

    again = invitee.post(path)
    assert again.status_code == 400
    assert "already been used" in again.text


def test_an_expired_invitation_is_refused(invite, personas, as_user, mailoutbox):
    invite()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    invitee = as_user_for(personas, "newcomer@example.test")

    response = invitee.post(_path(_link_from(mailoutbox[0])))

    assert response.status_code == 400
    assert "expired" in response.text
    assert not Membership.objects.filter(user__email="newcomer@example.test").exists()


def test_a_withdrawn_invitation_is_refused(invite, personas, as_user, mailoutbox):
    invite()
    invitation = Invitation.objects.get()
    as_user("owner").post(
        reverse(
            "console_invitation_revoke",
            args=[personas.organization.pk, invitation.pk],
        )
    )
    invitee = as_user_for(personas, "newcomer@example.test")
    response = invitee.post(_path(_link_from(mailoutbox[0])))
    assert response.status_code == 400
    assert "withdrawn" in response.text


def test_an_invitation_for_another_address_is_refused(
    invite, personas, as_user, mailoutbox
):
    invite()
    response = as_user("outsider").post(_path(_link_from(mailoutbox[0])))
    assert response.status_code == 400
    assert "sent to newcomer@example.test" in response.text
    assert not Membership.objects.filter(
        organization=personas.organization, user=personas.outsider
    ).exists()


@pytest.mark.django_db
def test_a_bad_invitation_token_is_not_found(client):
    response = client.get(reverse("invitation_accept", args=["not-a-real-token"]))
    assert response.status_code == 404


def test_inviting_with_a_bad_address_shows_a_form_error(invite, personas, as_user):
    response = invite(email="not-an-address")
    assert response.status_code == 200
    assert "Enter a valid email address" in response.text
    assert not Invitation.objects.exists()


def test_inviting_an_existing_member_shows_a_form_error(invite, personas, as_user):
    response = invite(email="viewer@acme.test")
    assert response.status_code == 200
    assert "already a member" in response.text
    assert not Invitation.objects.exists()


def test_an_admin_cannot_invite_an_owner(invite, personas, as_user):
    response = invite(role="owner")
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Invitation.objects.exists()


def test_a_pending_invitation_is_listed_in_the_console(invite, personas, as_user):
    invite()
    page = as_user("owner").get(
        reverse("console_members", args=[personas.organization.pk])
    )
    assert "newcomer@example.test" in page.text


def test_inviting_again_replaces_the_pending_invitation(invite, personas, as_user):
    invite()
    invite(role="viewer")
    pending = [i for i in Invitation.objects.all() if i.is_pending]
    assert len(pending) == 1
    assert pending[0].role == "viewer"


def as_user_for(personas, email):
    from django.test import Client

    user = make_user(email)
    client = Client()
    client.force_login(user)
    return client
