from __future__ import annotations

from django.urls import reverse

from rightbrain.orgs.models import Project


def _url(name, personas, *extra):
    return reverse(name, args=[personas.organization.pk, *extra])


def test_an_admin_creates_a_project_and_it_joins_the_switcher(personas, as_user):
    client = as_user("admin")
    response = client.post(
        _url("console_project_create", personas), {"name": "Research"}
    )
    assert response.status_code == 302
    project = Project.objects.get(organization=personas.organization, name="Research")
    page = as_user("viewer").get(reverse("project_home", args=[personas.project.pk]))
    assert reverse("project_home", args=[project.pk]) in page.text


def test_a_duplicate_or_empty_project_name_is_refused_with_a_message(personas, as_user):
    client = as_user("owner")
    duplicate = client.post(
        _url("console_project_create", personas), {"name": "default PROJECT"}
    )
    assert duplicate.status_code == 200
    assert "already has a project named" in duplicate.text
    empty = client.post(_url("console_project_create", personas), {"name": "   "})
    assert "This field is required" in empty.text
    assert Project.objects.filter(organization=personas.organization).count() == 1


def test_create_over_htmx_returns_the_panel_fragment(personas, as_user):
    response = as_user("owner").post(
        _url("console_project_create", personas),
        {"name": "Research"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="projects-panel"' in response.text
    assert "Research" in response.text


def test_rename_archive_and_restore(personas, as_user):
    client = as_user("owner")
    second = Project.objects.create(organization=personas.organization, name="Second")

    client.post(_url("console_project_rename", personas, second.pk), {"name": "Labs"})
    second.refresh_from_db()
    assert second.name == "Labs"

    client.post(_url("console_project_archive", personas, second.pk))
    second.refresh_from_db()
    assert second.is_archived
    switcher_page = client.get(reverse("project_home", args=[personas.project.pk]))
    assert reverse("project_home", args=[second.pk]) not in switcher_page.text

    client.post(_url("console_project_restore", personas, second.pk))
    second.refresh_from_db()
    assert not second.is_archived


def test_the_last_active_project_cannot_be_archived(personas, as_user):
    response = as_user("owner").post(
        _url("console_project_archive", personas, personas.project.pk), follow=True
    )
    assert "at least one active project" in response.text
    personas.project.refresh_from_db()
    assert not personas.project.is_archived


def test_projects_page_query_count_is_constant(
    personas, as_user, django_assert_num_queries
):
    client = as_user("owner")
    url = _url("console_projects", personas)
    # 1 session, 2 user, 3 membership + organisation, 4 projects,
    # 5-6 the switcher's memberships and projects.
    with django_assert_num_queries(6):
        client.get(url)
    for n in range(5):
        Project.objects.create(organization=personas.organization, name=f"P{n}")
    with django_assert_num_queries(6):
        client.get(url)
