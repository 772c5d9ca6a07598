"""A project's rate limits, monthly budget and this month's spend over the API
(`GET`/`POST .../limits`): members read them, owners and admins set them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from rightbrain.orgs.models import Project
from runs_app.budgets import month_after, month_of
from tests.helpers import ApiClient
from tests.orgs.oauth_helpers import client_credentials, make_client

GOOD = {"sentiment": "positive"}


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
        "credits_this_month": "0.00",
        "month_resets": month_after(month_of(timezone.now()))
        .isoformat()
        .replace("+00:00", "Z"),
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


def test_the_limits_say_what_the_project_spent_this_month(run_task, fake_llm, api):
    client, task = run_task()
    fake_llm.answer(GOOD, prompt_tokens=2051, completion_tokens=130)
    run = client.post(f"/task/{task['id']}/run", {"task_input": {"review": "Fine"}})
    assert run.status_code == 200
    limits = api("viewer").get("/limits").json()
    assert limits["credits_this_month"] == "8.10"
    resets = month_after(month_of(timezone.now()))
    assert limits["month_resets"] == resets.isoformat().replace("+00:00", "Z")


def test_a_task_token_cannot_see_the_projects_limits(run_task, project_base):
    _client, task = run_task()
    token = ApiClient(task["access_token"], project_base)
    assert token.get("/limits").status_code == 404
