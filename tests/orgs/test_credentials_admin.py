"""The Django admin shows credentials without their secrets and cannot mint them."""

from __future__ import annotations

from django.contrib.admin.sites import site
from django.urls import reverse

from rightbrain.orgs.admin import OAuthClientAdmin
from rightbrain.orgs.models import ApiKey, OAuthClient
from rightbrain.orgs.services import api_key_create
from tests.orgs.oauth_helpers import make_client


def test_the_admin_lists_clients_and_keys_without_secrets(personas, client):
    personas.owner.is_staff = personas.owner.is_superuser = True
    personas.owner.save()
    client.force_login(personas.owner)
    oauth_client, secret = make_client(personas.project, personas.editor, name="Svc")
    api_key, key = api_key_create(
        project=personas.project, user=personas.editor, name="Script"
    )

    pages = [
        client.get(reverse("admin:orgs_oauthclient_changelist")),
        client.get(reverse("admin:orgs_oauthclient_change", args=[oauth_client.pk])),
        client.get(reverse("admin:orgs_apikey_changelist")),
        client.get(reverse("admin:orgs_apikey_change", args=[api_key.pk])),
    ]

    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    for page in pages:
        assert secret not in page.text
        assert key not in page.text
    assert "Svc" in pages[0].text
    assert client.get(reverse("admin:orgs_oauthclient_add")).status_code == 403
    assert client.get(reverse("admin:orgs_apikey_add")).status_code == 403


def test_django_oauth_toolkit_registers_our_client_admin(db):
    assert isinstance(site._registry[OAuthClient], OAuthClientAdmin)
    assert ApiKey in site._registry


def test_the_admin_revokes_keys_through_the_service(personas, client):
    personas.owner.is_staff = personas.owner.is_superuser = True
    personas.owner.save()
    client.force_login(personas.owner)
    api_key, _ = api_key_create(
        project=personas.project, user=personas.editor, name="Script"
    )

    client.post(
        reverse("admin:orgs_apikey_changelist"),
        {"action": "revoke", "_selected_action": [str(api_key.pk)]},
    )

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
