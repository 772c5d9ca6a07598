"""Setting rate limits and monthly budgets over the API: a project's
(`.../limits`) and an API key's (`POST .../api_key/{id}`); owners and admins."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rightbrain.orgs.models import ApiKey, Project
from rightbrain.orgs.services import api_key_create, api_key_revoke
from tests.helpers import ApiClient
from tests.orgs.oauth_helpers import client_credentials, make_client


def test_members_read_the_projects_limits_with_the_defaults_in_force(api, settings):
    settings.RB_PROJECT_REQUESTS_PER_MINUTE = 900
    settings.RB_PROJECT_RUNS_PER_MINUTE = 0
    response = api("viewer").get("/limits")
    assert response.status_code == 200
    assert response.json() == {
        "requests_per_minute": None,
        "runs_per_minute": None,
        "monthly_credit_budget": None,
        "effective_requests_per_minute": 900,
        "effective_runs_per_minute": 0,
    }
    assert api("outsider").get("/limits").status_code == 404


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_owners_and_admins_set_the_projects_limits(api, personas, persona):
    response = api(persona).post(
        "/limits",
        {
            "requests_per_minute": 50,
            "runs_per_minute": 5,
            "monthly_credit_budget": 2500,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["monthly_credit_budget"] == "2500.00"
    assert body["effective_runs_per_minute"] == 5
    project = Project.objects.get(pk=personas.project.pk)
    assert (project.requests_per_minute, project.runs_per_minute) == (50, 5)
    assert project.monthly_credit_budget == Decimal(2500)


def test_only_the_fields_sent_change_and_null_resets_one(api, personas):
    owner = api("owner")
    owner.post("/limits", {"runs_per_minute": 5, "monthly_credit_budget": "12.50"})
    response = owner.post("/limits", {"runs_per_minute": None})
    assert response.status_code == 200
    assert response.json()["runs_per_minute"] is None
    assert response.json()["monthly_credit_budget"] == "12.50"


@pytest.mark.parametrize(
    "persona, status", [("editor", 403), ("viewer", 403), ("outsider", 404)]
)
def test_others_cannot_set_the_projects_limits(api, personas, persona, status):
    response = api(persona).post("/limits", {"monthly_credit_budget": 1})
    assert response.status_code == status
    assert Project.objects.get(pk=personas.project.pk).monthly_credit_budget is None


def test_a_project_service_account_cannot_set_limits(personas, project_base):
    client, secret = make_client(
        personas.project, personas.owner, client_type="project"
    )
    service = ApiClient(client_credentials(client, secret), project_base)
    assert service.get("/limits").status_code == 200
    assert service.post("/limits", {"runs_per_minute": 1}).status_code == 403


@pytest.mark.parametrize(
    "body, field",
    [
        ({"monthly_credit_budget": -1}, "monthly_credit_budget"),
        ({"monthly_credit_budget": "1000000000.01"}, "monthly_credit_budget"),
        ({"monthly_credit_budget": "1.005"}, "monthly_credit_budget"),
        ({"requests_per_minute": 0}, "requests_per_minute"),
        ({"runs_per_minute": -5}, "runs_per_minute"),
        ({"runs_per_minute": 1_000_001}, "runs_per_minute"),
    ],
)
def test_negative_and_absurd_values_are_refused_and_nothing_changes(
    api, personas, body, field
):
    owner = api("owner")
    owner.post("/limits", {"monthly_credit_budget": 100, "runs_per_minute": 10})
    response = owner.post("/limits", {**body, "requests_per_minute": 20} | body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    project = Project.objects.get(pk=personas.project.pk)
    assert project.monthly_credit_budget == Decimal(100)
    assert (project.requests_per_minute, project.runs_per_minute) == (None, 10)


@pytest.mark.parametrize(
    "body",
    [
        {"monthly_credit_budget": "plenty"},
        {"monthly_credit_budget": "NaN"},
        {"monthly_credit_budget": True},
        {"runs_per_minute": "many"},
        {"runs_per_minute": "5"},
        {"runs_per_minute": True},
        {"runs_per_minute": 2.5},
    ],
)
def test_values_of_the_wrong_kind_are_400(api, personas, body):
    response = api("owner").post("/limits", body)
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    project = Project.objects.get(pk=personas.project.pk)
    assert project.runs_per_minute is None
    assert project.monthly_credit_budget is None


# API keys -------------------------------------------------------------------------


def _editors_key(personas) -> ApiKey:
    key, _secret = api_key_create(
        project=personas.project, user=personas.editor, name="nightly"
    )
    return key


def test_an_admin_sets_a_keys_limits_and_budget(api, personas):
    key = _editors_key(personas)
    response = api("admin").post(
        f"/api_key/{key.pk}",
        {"runs_per_minute": 10, "monthly_credit_budget": "99.5"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(key.pk)
    assert body["key"] is None
    assert (body["requests_per_minute"], body["runs_per_minute"]) == (None, 10)
    assert body["monthly_credit_budget"] == "99.50"
    key.refresh_from_db()
    assert key.monthly_credit_budget == Decimal("99.50")
    listed = api("admin").get("/api_key").json()["results"]
    assert {row["monthly_credit_budget"] for row in listed} >= {"99.50"}


def test_an_editor_cannot_raise_their_own_keys_budget(api, personas):
    key = _editors_key(personas)
    response = api("editor").post(f"/api_key/{key.pk}", {"monthly_credit_budget": 5})
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.monthly_credit_budget is None


def test_keys_of_other_projects_and_revoked_keys_are_not_found(api, personas):
    theirs, _ = api_key_create(
        project=personas.other_project, user=personas.outsider, name="theirs"
    )
    revoked = api_key_revoke(api_key=_editors_key(personas))
    owner = api("owner")
    assert (
        owner.post(f"/api_key/{theirs.pk}", {"runs_per_minute": 1}).status_code == 404
    )
    assert (
        owner.post(f"/api_key/{revoked.pk}", {"runs_per_minute": 1}).status_code == 404
    )


def test_a_bad_key_budget_is_422_with_the_field(api, personas):
    key = _editors_key(personas)
    response = api("owner").post(f"/api_key/{key.pk}", {"monthly_credit_budget": -3})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "monthly_credit_budget"]
