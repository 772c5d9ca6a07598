"""Setting an API key's rate limits and monthly budget over the API
(`POST .../api_key/{id}`): owners and admins."""

from __future__ import annotations

from decimal import Decimal

from rightbrain.orgs.models import ApiKey
from rightbrain.orgs.services import api_key_create, api_key_revoke

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
