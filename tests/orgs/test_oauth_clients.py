"""OAuth client endpoints (api.md §12.1): create, list, get, update, delete and
regenerate the secret; validation; who may see and change which client."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher

from rightbrain.orgs.models import OAuthClient
from tests.helpers import ApiClient
from tests.orgs.oauth_helpers import REDIRECT_URI, client_credentials, make_client

WEB_CLIENT = {
    "name": "Web app",
    "description": "Signs our users in",
    "grant_types": ["authorization_code", "refresh_token"],
    "redirect_uris": [REDIRECT_URI],
    "client_type": "user",
}


def _snapshot() -> list[tuple]:
    return list(
        OAuthClient.objects.order_by("pk").values_list(
            "pk", "name", "description", "grant_types", "redirect_uris", "acts_as"
        )
    )


# Create and read (checklist 105) ----------------------------------------------------


def test_creating_a_client_returns_its_secret_once_and_get_and_list_return_null(
    personas, api
):
    editor = api("editor")

    created = editor.post("/oauth_client", WEB_CLIENT)

    assert created.status_code == 200, created.content
    body = created.json()
    assert body["client_id"]
    assert body["client_secret"]
    assert body["project_id"] == str(personas.project.pk)
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["redirect_uris"] == [REDIRECT_URI]
    assert body["client_type"] == "user"
    assert body["public_client"] is False
    assert body["description"] == "Signs our users in"
    assert body["created"] and body["modified"]

    detail = editor.get(f"/oauth_client/{body['id']}")
    listing = editor.get("/oauth_client")
    assert detail.status_code == 200
    assert detail.json()["client_secret"] is None
    assert detail.json()["client_id"] == body["client_id"]
    assert [item["client_secret"] for item in listing.json()["results"]] == [None]
    stored = OAuthClient.objects.get(pk=body["id"])
    assert stored.client_secret != body["client_secret"]
    assert identify_hasher(stored.client_secret)


def test_a_new_client_defaults_to_a_confidential_user_client_with_client_credentials(
    personas, api
):
    created = api("editor").post("/oauth_client", {"name": "Nightly job"})

    body = created.json()
    assert created.status_code == 200
    assert body["grant_types"] == ["client_credentials"]
    assert body["redirect_uris"] == []
    assert body["client_type"] == "user"
    assert body["public_client"] is False
    assert body["description"] is None


def test_a_public_client_has_no_secret(api):
    created = api("editor").post(
        "/oauth_client",
        {
            "name": "SPA",
            "grant_types": ["authorization_code"],
            "redirect_uris": [REDIRECT_URI],
            "public_client": True,
        },
    )

    assert created.status_code == 200
    assert created.json()["public_client"] is True
    assert created.json()["client_secret"] is None
    regenerate = api("editor").post(
        f"/oauth_client/{created.json()['id']}/client_secret"
    )
    assert regenerate.status_code == 422


# Validation (checklist 112, and envelope errors) ------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"redirect_uris": ["https://app.example.com/cb#frag"]}, "redirect_uris"),
        ({"redirect_uris": ["http://app.example.com/cb"]}, "redirect_uris"),
        (
            {"redirect_uris": ["https://app.example.com/" + "a" * 2030]},
            "redirect_uris",
        ),
        ({"redirect_uris": []}, "redirect_uris"),
        ({"grant_types": ["implicit"], "redirect_uris": []}, "redirect_uris"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "redirect_uris"),
        ({"redirect_uris": ["https://user:pw@app.example.com/cb"]}, "redirect_uris"),
        ({"redirect_uris": ["/relative/callback"]}, "redirect_uris"),
        ({"redirect_uris": ["https://app.example.com/a b"]}, "redirect_uris"),
        ({"grant_types": ["refresh_token"]}, "grant_types"),
        ({"grant_types": ["client_credentials", "refresh_token"]}, "grant_types"),
        ({"grant_types": []}, "grant_types"),
        ({"public_client": True, "grant_types": ["client_credentials"]}, "grant_types"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "bad\x00name"}, "name"),
    ],
)
def test_invalid_clients_are_refused_with_422_and_nothing_is_stored(
    personas, api, changes, field
):
    response = api("editor").post("/oauth_client", {**WEB_CLIENT, **changes})

    assert response.status_code == 422, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["detail"][0]["loc"][:2] == ["body", field]
    assert not OAuthClient.objects.exists()


def test_a_redirect_uri_of_exactly_2048_characters_is_accepted(api):
    uri = "https://app.example.com/" + "a" * (2048 - len("https://app.example.com/"))
    response = api("editor").post(
        "/oauth_client", {**WEB_CLIENT, "redirect_uris": [uri]}
    )
    assert response.status_code == 200
    assert response.json()["redirect_uris"] == [uri]


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:3000/callback",
        "http://127.0.0.1/callback",
        "myapp://oauth/callback",
        "https://app.example.com/callback?tenant=1",
    ],
)
def test_localhost_custom_scheme_and_https_redirect_uris_are_accepted(api, uri):
    response = api("editor").post(
        "/oauth_client", {**WEB_CLIENT, "redirect_uris": [uri]}
    )
    assert response.status_code == 200, response.content
    assert response.json()["redirect_uris"] == [uri]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": 42},
        {"name": "x", "grant_types": ["password"]},
        {"name": "x", "grant_types": "client_credentials"},
        {"name": "x", "redirect_uris": REDIRECT_URI},
        {"name": "x", "redirect_uris": [7]},
        {"name": "x", "client_type": "robot"},
        {"name": "x", "public_client": "yes"},
        {"name": "x", "description": ["a"]},
    ],
)
def test_malformed_bodies_are_400_and_nothing_is_stored(api, body):
    response = api("editor").post("/oauth_client", body)

    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert not OAuthClient.objects.exists()


def test_malformed_json_and_a_malformed_id_are_400(api):
    editor = api("editor")
    raw = editor.client.post(
        editor.url("/oauth_client"), "{not json", content_type="application/json"
    )
    assert raw.status_code == 400
    assert editor.get("/oauth_client/not-a-uuid").status_code == 400
    assert editor.get("/oauth_client?cursor=nope").status_code == 400


# Update (checklist 113) -------------------------------------------------------------


def test_updating_redirect_uris_and_grant_types_works_and_changing_client_type_is_422(
    api,
):
    editor = api("editor")
    created = editor.post("/oauth_client", WEB_CLIENT).json()

    updated = editor.post(
        f"/oauth_client/{created['id']}",
        {
            "redirect_uris": [
                "https://app.example.com/new",
                "http://localhost:8000/cb",
            ],
            "grant_types": ["authorization_code"],
            "name": "Web app v2",
            "client_type": "user",
        },
    )

    assert updated.status_code == 200, updated.content
    body = updated.json()
    assert body["redirect_uris"] == [
        "https://app.example.com/new",
        "http://localhost:8000/cb",
    ]
    assert body["grant_types"] == ["authorization_code"]
    assert body["name"] == "Web app v2"
    assert body["client_id"] == created["client_id"]
    assert body["client_secret"] is None
    assert body["description"] == "Signs our users in"

    before = _snapshot()
    changed_type = editor.post(
        f"/oauth_client/{created['id']}", {"client_type": "project"}
    )
    assert changed_type.status_code == 422
    assert changed_type.json()["detail"][0]["loc"] == ["body", "client_type"]
    assert _snapshot() == before


def test_an_update_that_breaks_a_rule_changes_nothing(api):
    editor = api("editor")
    created = editor.post("/oauth_client", WEB_CLIENT).json()
    before = _snapshot()

    for body in (
        {"name": "New name", "redirect_uris": []},
        {"name": "New name", "grant_types": ["refresh_token"]},
        {"name": "New name", "redirect_uris": ["http://evil.example.com/cb"]},
    ):
        response = editor.post(f"/oauth_client/{created['id']}", body)
        assert response.status_code == 422, body

    assert editor.post(f"/oauth_client/{created['id']}", {"name": 7}).status_code == 400
    assert _snapshot() == before


def test_a_null_description_clears_it(api):
    editor = api("editor")
    created = editor.post("/oauth_client", WEB_CLIENT).json()

    updated = editor.post(f"/oauth_client/{created['id']}", {"description": None})

    assert updated.json()["description"] is None
    assert updated.json()["name"] == "Web app"


def test_existing_tokens_stay_valid_after_an_update(personas, api, project_base):
    client, secret = make_client(personas.project, personas.editor)
    token = client_credentials(client, secret)

    api("editor").post(f"/oauth_client/{client.pk}", {"name": "Renamed"})

    assert ApiClient(token, project_base).get("/task").status_code == 200


# Delete -----------------------------------------------------------------------------


def test_delete_answers_200_null_and_the_client_is_gone(api):
    editor = api("editor")
    created = editor.post("/oauth_client", WEB_CLIENT).json()

    response = editor.delete(f"/oauth_client/{created['id']}")

    assert response.status_code == 200
    assert response.content == b"null"
    assert editor.get(f"/oauth_client/{created['id']}").status_code == 404
    assert editor.delete(f"/oauth_client/{created['id']}").status_code == 404


# Who sees and changes what ----------------------------------------------------------


def test_editors_see_their_own_user_clients_and_every_project_client(personas, api):
    mine, _ = make_client(personas.project, personas.editor, name="Mine")
    service, _ = make_client(
        personas.project, personas.owner, name="Service", client_type="project"
    )
    owners, _ = make_client(personas.project, personas.owner, name="Owner's")

    editor_names = {
        c["name"] for c in api("editor").get("/oauth_client").json()["results"]
    }
    admin_names = {
        c["name"] for c in api("admin").get("/oauth_client").json()["results"]
    }

    assert editor_names == {"Mine", "Service"}
    assert admin_names == {"Mine", "Service", "Owner's"}
    assert api("editor").get(f"/oauth_client/{owners.pk}").status_code == 404
    assert api("editor").get(f"/oauth_client/{service.pk}").status_code == 200
    assert api("editor").get(f"/oauth_client/{mine.pk}").status_code == 200


def test_only_the_creator_changes_a_user_client_though_admins_may_delete_it(
    personas, api
):
    owners, _ = make_client(personas.project, personas.owner, name="Owner's")
    admin = api("admin")
    before = _snapshot()

    assert admin.post(
        f"/oauth_client/{owners.pk}", {"name": "Mine now"}
    ).status_code == (403)
    assert admin.post(f"/oauth_client/{owners.pk}/client_secret").status_code == 403
    assert _snapshot() == before
    assert admin.delete(f"/oauth_client/{owners.pk}").status_code == 200


def test_any_editor_manages_a_project_client(personas, api):
    service, _ = make_client(
        personas.project, personas.owner, name="Service", client_type="project"
    )
    editor = api("editor")

    assert (
        editor.post(f"/oauth_client/{service.pk}", {"name": "Svc"}).status_code == 200
    )
    assert editor.post(f"/oauth_client/{service.pk}/client_secret").status_code == 200
    assert editor.delete(f"/oauth_client/{service.pk}").status_code == 200


def test_a_client_of_another_project_is_not_found(personas, api):
    theirs, _ = make_client(personas.other_project, personas.outsider)
    editor = api("editor")

    assert editor.get(f"/oauth_client/{theirs.pk}").status_code == 404
    assert editor.delete(f"/oauth_client/{theirs.pk}").status_code == 404
    assert OAuthClient.objects.filter(pk=theirs.pk).exists()


def test_a_service_account_token_cannot_manage_credentials(personas, project_base):
    service, secret = make_client(
        personas.project, personas.owner, client_type="project"
    )
    api = ApiClient(client_credentials(service, secret), project_base)

    assert api.get("/oauth_client").status_code == 403
    assert api.post("/oauth_client", {"name": "More"}).status_code == 403
    assert api.post("/api_key", {"name": "More"}).status_code == 403
    assert OAuthClient.objects.count() == 1


def _endpoints(client_id) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", "/oauth_client", None),
        ("post", "/oauth_client", {"name": "New"}),
        ("get", f"/oauth_client/{client_id}", None),
        ("post", f"/oauth_client/{client_id}", {"name": "Renamed"}),
        ("delete", f"/oauth_client/{client_id}", None),
        ("post", f"/oauth_client/{client_id}/client_secret", None),
    ]


@pytest.mark.parametrize(
    ("persona", "status"), [("outsider", 404), ("viewer", 403), (None, 401)]
)
def test_every_oauth_client_endpoint_refuses_outsiders_viewers_and_anonymous_callers(
    personas, api, persona, status
):
    client, _ = make_client(
        personas.project, personas.owner, name="Service", client_type="project"
    )
    caller = api(persona)
    before = _snapshot()

    for method, path, body in _endpoints(client.pk):
        args = (path, body) if method == "post" else (path,)
        response = getattr(caller, method)(*args)
        assert response.status_code == status, (method, path, response.content)
        assert response.json()["type"] == (
            "resource_error" if status == 404 else "authorization_error"
        )

    assert _snapshot() == before


# Pagination and queries -------------------------------------------------------------


def test_the_list_pages_with_a_cursor(personas, api):
    for n in range(3):
        make_client(personas.project, personas.editor, name=f"C{n}")
    editor = api("editor")

    first = editor.get("/oauth_client", page_limit=2).json()
    assert [c["name"] for c in first["results"]] == ["C2", "C1"]
    assert first["pagination"] == {
        "has_next": True,
        "next_cursor": first["results"][-1]["id"],
        "page_limit": 2,
    }
    second = editor.get(
        "/oauth_client", page_limit=2, cursor=first["pagination"]["next_cursor"]
    ).json()
    assert [c["name"] for c in second["results"]] == ["C0"]
    assert second["pagination"]["has_next"] is False
    assert second["pagination"]["next_cursor"] is None

    assert editor.get("/oauth_client", page_limit=0).status_code == 400
    assert editor.get("/oauth_client", page_limit="many").status_code == 400
    assert (
        editor.get("/oauth_client", page_limit=5000).json()["pagination"]["page_limit"]
        == 1000
    )
    unknown = "01900000-0000-7000-8000-000000000000"
    assert editor.get("/oauth_client", cursor=unknown).status_code == 400


def test_listing_clients_takes_the_same_queries_however_many_there_are(
    personas, api, django_assert_num_queries
):
    editor = api("editor")
    make_client(personas.project, personas.editor, name="First")
    editor.get("/oauth_client")  # stamps the key's last_used, a write of its own

    # 1 API key with its user, project, organisation and the caller's role,
    # 2 the page of clients.
    with django_assert_num_queries(2):
        assert editor.get("/oauth_client").status_code == 200
    for n in range(5):
        make_client(
            personas.project, personas.owner, name=f"S{n}", client_type="project"
        )
    with django_assert_num_queries(2):
        assert len(editor.get("/oauth_client").json()["results"]) == 6
