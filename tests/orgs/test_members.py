"""Changing roles and removing members, with the last owner protected."""

from __future__ import annotations

from django.urls import reverse

from rightbrain.orgs.models import Membership


def _role_url(personas, user):
    membership = personas.membership(user)
    return reverse(
        "console_member_role", args=[personas.organization.pk, membership.pk]
    )


def _remove_url(personas, user):
    membership = personas.membership(user)
    return reverse(
        "console_member_remove", args=[personas.organization.pk, membership.pk]
    )


def test_an_owner_changes_a_role(personas, as_user):
    response = as_user("owner").post(
        _role_url(personas, personas.viewer), {"role": "editor"}
    )
    assert response.status_code == 302
    assert personas.membership(personas.viewer).role == "editor"


def test_role_change_over_htmx_re_renders_the_members_panel(personas, as_user):
    response = as_user("owner").post(
        _role_url(personas, personas.viewer),
        {"role": "admin"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="members-panel"' in response.text
    assert "is now Admin" in response.text
    assert personas.membership(personas.viewer).role == "admin"


def test_the_last_owner_cannot_be_demoted(personas, as_user):
    client = as_user("owner")
    response = client.post(
        _role_url(personas, personas.owner), {"role": "admin"}, follow=True
    )
    assert "The last owner cannot be demoted" in response.text
    assert personas.membership(personas.owner).role == "owner"


def test_the_last_owner_cannot_be_removed_even_by_another_path(personas):
    import pytest
    from django.core.exceptions import ValidationError

    from rightbrain.orgs.services import membership_remove, membership_role_change

    owner = personas.membership(personas.owner)
    with pytest.raises(ValidationError, match="last owner"):
        membership_remove(membership=owner)
    with pytest.raises(ValidationError, match="last owner"):
        membership_role_change(membership=owner, role="viewer")
    assert Membership.objects.filter(pk=owner.pk, role="owner").exists()


def test_with_two_owners_one_may_step_down_but_not_the_last(personas, as_user):
    as_user("owner").post(_role_url(personas, personas.admin), {"role": "owner"})
    assert personas.membership(personas.admin).role == "owner"

    response = as_user("admin").post(
        _role_url(personas, personas.owner), {"role": "editor"}
    )
    assert response.status_code == 302
    assert personas.membership(personas.owner).role == "editor"

    # Now the former admin is the only owner: removing them is refused.
    former_owner = as_user("owner")
    response = former_owner.post(_remove_url(personas, personas.admin))
    assert response.status_code == 403  # an editor may not manage members at all
    assert personas.membership(personas.admin).role == "owner"


def test_an_admin_cannot_touch_an_owner(personas, as_user):
    client = as_user("admin")
    assert (
        client.post(_role_url(personas, personas.owner), {"role": "viewer"}).status_code
        == 403
    )
    assert client.post(_remove_url(personas, personas.owner)).status_code == 403
    assert personas.membership(personas.owner).role == "owner"


def test_an_admin_cannot_make_an_owner(personas, as_user):
    response = as_user("admin").post(
        _role_url(personas, personas.viewer), {"role": "owner"}, follow=True
    )
    assert "Choose one of the roles offered" in response.text
    assert personas.membership(personas.viewer).role == "viewer"


def test_removing_a_member_takes_away_their_access(personas, as_user):
    response = as_user("admin").post(_remove_url(personas, personas.editor))
    assert response.status_code == 302
    assert not Membership.objects.filter(
        organization=personas.organization, user=personas.editor
    ).exists()
    project_page = reverse("project_home", args=[personas.project.pk])
    assert as_user("editor").get(project_page).status_code == 404


def test_the_members_page_hides_actions_the_viewer_of_the_page_lacks(personas, as_user):
    page = (
        as_user("admin")
        .get(reverse("console_members", args=[personas.organization.pk]))
        .text
    )
    owner_row = page.split(f'id="member-{personas.membership(personas.owner).pk}"')[1]
    owner_row = owner_row.split("</tr>")[0]
    assert "Remove" not in owner_row
    assert "<select" not in owner_row
    # Admins are not offered the owner role.
    assert '<option value="owner"' not in page


def test_members_page_query_count_does_not_grow_with_members(
    personas, as_user, django_assert_num_queries
):
    from tests.helpers import make_user

    client = as_user("owner")
    url = reverse("console_members", args=[personas.organization.pk])
    client.get(url)
    # 1 session, 2 user, 3 actor's membership + organisation, 4 members + users,
    # 5 pending invitations, 6-7 the switcher's memberships and projects.
    with django_assert_num_queries(7):
        client.get(url)
    for n in range(5):
        user = make_user(f"extra{n}@acme.test")
        Membership.objects.create(
            organization=personas.organization, user=user, role="viewer"
        )
    with django_assert_num_queries(7):
        client.get(url)
