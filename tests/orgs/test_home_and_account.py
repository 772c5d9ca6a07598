from __future__ import annotations

from django.test import Client
from django.urls import reverse

from rightbrain.orgs.models import Membership, Organization, Project
from rightbrain.orgs.services import project_create
from tests.helpers import make_user


def test_home_returns_to_the_project_opened_last(personas, as_user):
    second = project_create(organization=personas.organization, name="Second")
    client = as_user("editor")
    client.get(reverse("project_home", args=[second.pk]))
    assert client.get(reverse("home"))["Location"] == reverse(
        "project_home", args=[second.pk]
    )


def test_home_ignores_a_remembered_project_the_user_has_lost(personas, as_user):
    client = as_user("editor")
    client.get(reverse("project_home", args=[personas.project.pk]))
    Membership.objects.filter(user=personas.editor).delete()
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "not in any organisation" in response.text


def test_someone_without_an_organisation_can_start_one(db):
    user = make_user("lonely@example.test")
    client = Client()
    client.force_login(user)

    response = client.post(reverse("organization_create"), {"name": "  Fresh   Start "})

    organization = Organization.objects.get(name="Fresh Start")
    project = Project.objects.get(organization=organization)
    assert response["Location"] == reverse("project_home", args=[project.pk])
    assert Membership.objects.get(user=user, organization=organization).role == "owner"


def test_an_organisation_needs_a_name(personas, as_user):
    response = as_user("viewer").post(reverse("organization_create"), {"name": ""})
    assert response.status_code == 200
    assert "This field is required" in response.text
    assert Organization.objects.count() == 2


def test_account_settings_update_the_display_name(personas, as_user):
    client = as_user("viewer")
    response = client.post(reverse("account_settings"), {"name": "Vera Viewer"})
    assert response.status_code == 302
    personas.viewer.refresh_from_db()
    assert personas.viewer.name == "Vera Viewer"
    assert "Vera Viewer" in client.get(reverse("account_settings")).text


def test_account_settings_show_console_links_only_to_admins(personas, as_user):
    members_url = reverse("console_members", args=[personas.organization.pk])
    assert members_url in as_user("admin").get(reverse("account_settings")).text
    assert members_url not in as_user("editor").get(reverse("account_settings")).text


def test_console_posts_need_a_csrf_token(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.owner)
    response = client.post(
        reverse("console_project_create", args=[personas.organization.pk]),
        {"name": "Sneaky"},
    )
    assert response.status_code == 403
    assert not Project.objects.filter(name="Sneaky").exists()


def test_pages_hand_htmx_the_csrf_token_once_on_the_body(personas, as_user):
    page = as_user("owner").get(
        reverse("console_members", args=[personas.organization.pk])
    )
    assert '<body hx-headers=\'{"X-CSRFToken": "' in page.text


def test_staff_use_the_django_admin_with_search(personas):
    staff = make_user("staff@rightbrain.test")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    for model in ("user", "organization", "project", "membership", "invitation"):
        response = client.get(f"/admin/orgs/{model}/?q=acme")
        assert response.status_code == 200, model
    assert "owner@acme.test" in client.get("/admin/orgs/user/?q=acme").text
    assert as_user_status(personas.owner, "/admin/orgs/user/") == 302


def as_user_status(user, url) -> int:
    client = Client()
    client.force_login(user)
    return client.get(url).status_code
