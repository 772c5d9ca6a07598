"""API key endpoints (api.md §12.2) and the `create_api_key` command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from rightbrain.orgs.models import ApiKey
from rightbrain.orgs.services import api_key_create, project_create
from tests.helpers import ApiClient


def _active_keys() -> list[tuple]:
    return list(
        ApiKey.objects.filter(revoked_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "name", "user_id")
    )


# Checklist 116 ----------------------------------------------------------------------


def test_an_api_key_is_shown_once_authenticates_until_revoked_and_stays_in_its_project(
    personas, api, project_base
):
    editor = api("editor")

    created = editor.post("/api_key", {"name": "Nightly import"})

    assert created.status_code == 200, created.content
    body = created.json()
    key = body["key"]
    assert key.startswith("rbk_") and len(key) == 44
    assert body["prefix"] == key[:8]
    assert body["user_id"] == str(personas.editor.pk)
    assert body["name"] == "Nightly import"
    assert body["last_used"] is None
    listed = editor.get("/api_key").json()["results"]
    assert {item["id"]: item["key"] for item in listed}[body["id"]] is None
    assert not ApiKey.objects.filter(key_hash=key).exists()

    own = ApiClient(key, project_base)
    assert own.get("/task").status_code == 200
    other_project = project_create(organization=personas.organization, name="Second")
    other_base = f"/api/v1/org/{personas.organization.pk}/project/{other_project.pk}"
    assert own.get(other_base + "/task").status_code == 404
    other_org_base = (
        f"/api/v1/org/{personas.other_organization.pk}"
        f"/project/{personas.other_project.pk}"
    )
    assert own.get(other_org_base + "/task").status_code == 404

    revoked = editor.delete(f"/api_key/{body['id']}")
    assert revoked.status_code == 200
    assert revoked.content == b"null"
    refused = own.get("/task")
    assert refused.status_code == 401
    assert refused.json()["type"] == "authorization_error"
    assert body["id"] not in {
        item["id"] for item in editor.get("/api_key").json()["results"]
    }


def test_using_a_key_records_when_it_was_last_used(personas, project_base):
    api_key, secret = api_key_create(
        project=personas.project, user=personas.editor, name="probe"
    )
    ApiClient(secret, project_base).get("/task")
    api_key.refresh_from_db()
    assert api_key.last_used is not None


# Validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"name": 42}, 400),
        ({"name": None}, 400),
        ({"name": ["a"]}, 400),
        ({"name": "   "}, 422),
        ({"name": "k" * 101}, 422),
        ({"name": "nul\x00byte"}, 422),
    ],
)
def test_bad_key_names_are_refused_and_nothing_is_stored(api, body, status):
    editor = api("editor")
    before = _active_keys()

    response = editor.post("/api_key", body)

    assert response.status_code == status, response.content
    assert response.json()["type"] == "validation_error"
    assert _active_keys() == before


def test_a_malformed_key_id_is_400(api):
    assert api("editor").delete("/api_key/not-a-uuid").status_code == 400


# Who sees and revokes which keys ----------------------------------------------------


def test_editors_see_and_revoke_only_their_own_keys_and_admins_all(personas, api):
    editor, admin = api("editor"), api("admin")
    owners_key, _ = api_key_create(
        project=personas.project, user=personas.owner, name="Owner's script"
    )

    editor_names = {k["name"] for k in editor.get("/api_key").json()["results"]}
    admin_names = {k["name"] for k in admin.get("/api_key").json()["results"]}

    assert editor_names == {"tests"}
    assert {"tests", "Owner's script"} <= admin_names
    assert editor.delete(f"/api_key/{owners_key.pk}").status_code == 404
    owners_key.refresh_from_db()
    assert owners_key.revoked_at is None
    assert admin.delete(f"/api_key/{owners_key.pk}").status_code == 200
    owners_key.refresh_from_db()
    assert owners_key.revoked_at is not None


def _endpoints(key_id) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", "/api_key", None),
        ("post", "/api_key", {"name": "New"}),
        ("delete", f"/api_key/{key_id}", None),
    ]


@pytest.mark.parametrize(
    ("persona", "status"), [("outsider", 404), ("viewer", 403), (None, 401)]
)
def test_every_api_key_endpoint_refuses_outsiders_viewers_and_anonymous_callers(
    personas, api, persona, status
):
    target, _ = api_key_create(
        project=personas.project, user=personas.viewer, name="Viewer's own"
    )
    caller = api(persona)
    before = _active_keys()

    for method, path, body in _endpoints(target.pk):
        args = (path, body) if method == "post" else (path,)
        response = getattr(caller, method)(*args)
        assert response.status_code == status, (method, path, response.content)

    assert _active_keys() == before


# Pagination and queries -------------------------------------------------------------


def test_the_key_list_pages_with_a_cursor(personas, api):
    for n in range(3):
        api_key_create(project=personas.project, user=personas.editor, name=f"K{n}")
    editor = api("editor")

    first = editor.get("/api_key", page_limit=2).json()
    second = editor.get(
        "/api_key", page_limit=2, cursor=first["pagination"]["next_cursor"]
    ).json()

    assert [k["name"] for k in first["results"]] == ["tests", "K2"]
    assert first["pagination"]["has_next"] is True
    assert [k["name"] for k in second["results"]] == ["K1", "K0"]
    assert second["pagination"] == {
        "has_next": False,
        "next_cursor": None,
        "page_limit": 2,
    }
    assert editor.get("/api_key", page_limit=-1).status_code == 400


def test_listing_keys_takes_the_same_queries_however_many_there_are(
    personas, api, django_assert_num_queries
):
    admin = api("admin")
    admin.get("/api_key")  # stamps the key's last_used, a write of its own

    # 1 API key with its user, project, organisation and the caller's role,
    # 2 the page of keys.
    with django_assert_num_queries(2):
        assert admin.get("/api_key").status_code == 200
    for n in range(5):
        api_key_create(project=personas.project, user=personas.editor, name=f"K{n}")
    with django_assert_num_queries(2):
        assert len(admin.get("/api_key").json()["results"]) == 6


# manage.py create_api_key -----------------------------------------------------------


def _create_api_key(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_create_api_key_prints_a_working_key_once_acting_as_the_first_owner(
    personas, project_base
):
    key, note = _create_api_key("--project", str(personas.project.pk), "--name", "CI")

    assert key.startswith("rbk_")
    assert "shown only this once" in note
    assert key not in note
    stored = ApiKey.objects.get(name="CI")
    assert stored.user == personas.owner
    assert stored.key_hash != key
    assert ApiClient(key, project_base).get("/task").status_code == 200


def test_create_api_key_acts_as_the_member_named_by_user(personas):
    key, _ = _create_api_key(
        "--project",
        str(personas.project.pk),
        "--name",
        "Viewer's key",
        "--user",
        "VIEWER@acme.test",
    )

    assert ApiKey.objects.get(name="Viewer's key").user == personas.viewer


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "nope", "--name", "x"], "not a project id"),
        (
            ["--project", "01900000-0000-7000-8000-000000000000", "--name", "x"],
            "no active project",
        ),
        (["--name", "x", "--user", "outsider@elsewhere.test"], "not a member"),
        (["--name", "  "], "name"),
    ],
)
def test_create_api_key_explains_what_is_wrong(personas, args, message):
    if "--project" not in args:
        args = ["--project", str(personas.project.pk), *args]
    with pytest.raises(CommandError, match=message):
        _create_api_key(*args)
    assert not ApiKey.objects.exists()
