from __future__ import annotations

import pytest
from django.urls import reverse

from rightbrain.orgs.models import Membership, User
from tests.helpers import PASSWORD, make_user


def _sign_up(client, email, password1=PASSWORD, password2=None):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": password1, "password2": password2 or password1},
    )


@pytest.mark.django_db
def test_sign_up_creates_a_personal_organisation_with_a_default_project(client):
    response = _sign_up(client, "Ada@Example.test")

    assert response.status_code == 302
    user = User.objects.get(email="ada@example.test")
    membership = Membership.objects.select_related("organization").get(user=user)
    assert membership.role == "owner"
    assert membership.organization.personal
    assert membership.organization.name == "ada's organisation"
    project = membership.organization.projects.get()
    assert project.name == "Default project"
    # Signed in and landing on that project.
    home = client.get(reverse("home"))
    assert home["Location"] == reverse("project_home", args=[project.pk])


@pytest.mark.django_db
def test_sign_up_with_a_taken_email_is_refused_with_a_message(client):
    make_user("taken@example.test")
    response = _sign_up(client, "TAKEN@example.test")
    assert response.status_code == 200
    assert "already registered" in response.text
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "too short"),
        ("password1234", "too common"),
        ("12345678901234", "entirely numeric"),
    ],
)
def test_sign_up_with_a_weak_password_is_refused_with_a_message(
    client, password, message
):
    response = _sign_up(client, "weak@example.test", password)
    assert response.status_code == 200
    assert message in response.text
    assert not User.objects.filter(email="weak@example.test").exists()


@pytest.mark.django_db
def test_sign_up_with_mismatched_passwords_is_refused(client):
    response = _sign_up(client, "typo@example.test", PASSWORD, PASSWORD + "x")
    assert response.status_code == 200
    assert "same password" in response.text
    assert not User.objects.filter(email="typo@example.test").exists()


@pytest.mark.django_db
def test_sign_up_sends_an_email_verification_link(client, mailoutbox):
    _sign_up(client, "verify@example.test")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["verify@example.test"]
    assert "/accounts/confirm-email/" in mailoutbox[0].body


@pytest.mark.django_db
def test_login_logout_and_password_reset(client, mailoutbox):
    make_user("lin@example.test")
    response = client.post(
        reverse("account_login"), {"login": "lin@example.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("account_settings")).status_code == 200

    client.post(reverse("account_logout"))
    assert client.get(reverse("account_settings")).status_code == 302

    response = client.post(
        reverse("account_reset_password"), {"email": "lin@example.test"}
    )
    assert response.status_code == 302
    assert "/accounts/password/reset/key/" in mailoutbox[-1].body


@pytest.mark.django_db
def test_login_with_a_wrong_password_shows_an_error(client):
    make_user("lin@example.test")
    response = client.post(
        reverse("account_login"), {"login": "lin@example.test", "password": "nope"}
    )
    assert response.status_code == 200
    assert "not correct" in response.text


def test_logout_needs_a_post_with_a_csrf_token(personas):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.viewer)
    assert client.post(reverse("account_logout")).status_code == 403
    assert client.get(reverse("account_settings")).status_code == 200
