"""Rate limits and monthly budgets on the dashboard: a project's on the
console's Projects page, a key's on the API clients page; owners and admins."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from rightbrain.orgs.models import ApiKey, Project
from rightbrain.orgs.services import api_key_create


def _project_limits_url(personas) -> str:
    return reverse(
        "console_project_limits", args=[personas.organization.pk, personas.project.pk]
    )


def _key_limits_url(personas, key) -> str:
    return reverse("api_key_limits", args=[personas.project.pk, key.pk])


def _project() -> Project:
    return Project.objects.get(name="Default project", organization__name="Acme")


BUDGET = {
    "requests_per_minute": "",
    "runs_per_minute": "30",
    "monthly_credit_budget": "750.5",
}


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_owners_and_admins_set_a_projects_limits_on_the_projects_page(
    personas, as_user, persona
):
    browser = as_user(persona)
    page = browser.get(reverse("console_projects", args=[personas.organization.pk]))
    assert _project_limits_url(personas) in page.text
    assert "Empty: the default, 1,200." in page.text

    response = browser.post(_project_limits_url(personas), BUDGET, follow=True)
    assert "Saved the limits and budget of Default project." in response.text
    assert "30 runs a minute, budget 750.50 credits a month" in response.text
    project = _project()
    assert (project.requests_per_minute, project.runs_per_minute) == (None, 30)
    assert project.monthly_credit_budget == Decimal("750.50")


def test_the_project_form_over_htmx_answers_the_panel(personas, as_user):
    response = as_user("owner").post(
        _project_limits_url(personas), BUDGET, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="projects-panel"' in response.text
    assert "Saved the limits and budget" in response.text


@pytest.mark.parametrize(
    "data, says",
    [
        ({"monthly_credit_budget": "-5"}, "greater than or equal to 0"),
        ({"monthly_credit_budget": "99999999999"}, "less than or equal to"),
        ({"monthly_credit_budget": "1.234"}, "no more than 2 decimal places"),
        ({"runs_per_minute": "0"}, "greater than or equal to 1"),
        ({"requests_per_minute": "lots"}, "Enter a whole number"),
    ],
)
def test_bad_project_limits_are_shown_again_with_their_message(
    personas, as_user, data, says
):
    response = as_user("owner").post(
        _project_limits_url(personas), data, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200  # htmx swaps the panel with the errors
    assert '<details class="disclosure" open>' in response.text
    assert says in response.text
    project = _project()
    assert project.monthly_credit_budget is None
    assert project.runs_per_minute is None


@pytest.mark.parametrize(
    ("persona", "status"), [("editor", 403), ("viewer", 403), ("outsider", 404)]
)
def test_others_cannot_set_a_projects_limits(personas, as_user, persona, status):
    response = as_user(persona).post(_project_limits_url(personas), BUDGET)
    assert response.status_code == status
    assert _project().monthly_credit_budget is None


# API keys -------------------------------------------------------------------------


def test_an_admin_sets_a_keys_budget_on_the_api_clients_page(personas, as_user):
    key, _ = api_key_create(project=personas.project, user=personas.editor, name="ETL")
    admin = as_user("admin")
    page = admin.get(reverse("api_clients", args=[personas.project.pk]))
    assert _key_limits_url(personas, key) in page.text
    assert "Empty: the default, 600." in page.text

    response = admin.post(
        _key_limits_url(personas, key),
        {"runs_per_minute": "5", "monthly_credit_budget": "20"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Saved the limits and budget of “ETL”." in response.text
    key.refresh_from_db()
    assert (key.runs_per_minute, key.monthly_credit_budget) == (5, Decimal(20))

    cleared = admin.post(_key_limits_url(personas, key), {"monthly_credit_budget": ""})
    assert cleared.status_code == 302
    key.refresh_from_db()
    assert (key.runs_per_minute, key.monthly_credit_budget) == (None, None)


def test_a_bad_key_budget_is_refused_with_a_message(personas, as_user):
    key, _ = api_key_create(project=personas.project, user=personas.editor, name="ETL")
    response = as_user("owner").post(
        _key_limits_url(personas, key),
        {"monthly_credit_budget": "-1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert '<details class="disclosure" open>' in response.text
    assert 'value="-1"' in response.text  # what was typed is kept
    assert "greater than or equal to 0" in response.text
    assert ApiKey.objects.get().monthly_credit_budget is None

    without_htmx = as_user("owner").post(
        _key_limits_url(personas, key), {"runs_per_minute": "0"}
    )
    assert without_htmx.status_code == 200
    assert "<html" in without_htmx.text
    assert "greater than or equal to 1" in without_htmx.text


def test_editors_neither_see_nor_set_key_limits(personas, as_user):
    key, _ = api_key_create(project=personas.project, user=personas.editor, name="Mine")
    editor = as_user("editor")
    page = editor.get(reverse("api_clients", args=[personas.project.pk]))
    assert page.status_code == 200
    assert _key_limits_url(personas, key) not in page.text
    response = editor.post(
        _key_limits_url(personas, key), {"monthly_credit_budget": "9"}
    )
    assert response.status_code == 403
    assert ApiKey.objects.get().monthly_credit_budget is None


def test_an_admin_cannot_reach_another_projects_key(personas, as_user):
    theirs, _ = api_key_create(
        project=personas.other_project, user=personas.outsider, name="Theirs"
    )
    response = as_user("admin").post(
        _key_limits_url(personas, theirs), {"monthly_credit_budget": "9"}
    )
    assert response.status_code == 404
    assert ApiKey.objects.get().monthly_credit_budget is None
