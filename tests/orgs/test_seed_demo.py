from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from rightbrain.orgs.models import ApiKey, Membership, Organization, Project, User
from tests.helpers import ApiClient


def _seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_prints_a_login_that_works(client):
    output = _seed()
    assert "demo@rightbrain.local / rightbrain-demo" in output

    response = client.post(
        reverse("account_login"),
        {"login": "demo@rightbrain.local", "password": "rightbrain-demo"},
    )
    assert response.status_code == 302
    project = Project.objects.get(name="Demo project")
    assert str(project.pk) in output
    assert str(project.organization_id) in output
    assert client.get(reverse("project_home", args=[project.pk])).status_code == 200


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_json():
    first = json.loads(_seed("--json"))
    second = json.loads(_seed("--json"))

    assert set(first) == {"username", "password", "org_id", "project_id", "api_key"}
    # Keys are shown once, so each run issues a new one; everything else is stable.
    assert {k: v for k, v in first.items() if k != "api_key"} == {
        k: v for k, v in second.items() if k != "api_key"
    }
    assert User.objects.filter(email=first["username"]).count() == 1
    assert Organization.objects.filter(pk=first["org_id"]).count() == 1
    assert Membership.objects.get(user__email=first["username"]).role == "owner"
    assert Project.objects.filter(organization_id=first["org_id"]).count() == 1


@pytest.mark.django_db
def test_seed_demo_api_key_authenticates_and_replaces_the_previous_one():
    first = json.loads(_seed("--json"))
    second = json.loads(_seed("--json"))
    base = f"/api/v1/org/{second['org_id']}/project/{second['project_id']}"

    assert ApiClient(second["api_key"], base).get("/task").status_code == 200
    assert ApiClient(first["api_key"], base).get("/task").status_code == 401
    assert ApiKey.objects.filter(name="Demo key", revoked_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_seed_demo_prints_the_api_key_in_plain_output():
    output = _seed()
    key = next(line for line in output.splitlines() if "API key:" in line)
    assert "rbk_" in key


@pytest.mark.django_db
def test_seed_demo_env_prints_shell_exports_that_work(client):
    import shlex

    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in _seed("--env").splitlines()
    )
    values = {name: shlex.split(value)[0] for name, value in exports.items()}
    assert set(values) == {"RB_ORG_ID", "RB_PROJECT_ID", "RB_API_URL", "RB_API_KEY"}
    response = client.get(
        f"/api/v1/org/{values['RB_ORG_ID']}/project/{values['RB_PROJECT_ID']}/task",
        headers={"Authorization": f"Bearer {values['RB_API_KEY']}"},
    )
    assert response.status_code == 200
    assert values["RB_API_URL"].endswith("/api/v1")
