"""The OAuth 2.0 endpoints (api.md §12.3) and the tokens they issue, driven
through /oauth2/token and the real /oauth2/auth sign-in and consent pages."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken, get_grant_model

from rightbrain.orgs.models import Membership, OAuthClient
from rightbrain.orgs.permissions import Role
from rightbrain.orgs.services import project_create
from tests.helpers import PASSWORD, ApiClient
from tests.orgs.oauth_helpers import (
    REDIRECT_URI,
    authorize_url,
    client_credentials,
    code_client,
    consent,
    exchange_code,
    hidden_inputs,
    make_client,
    pkce_pair,
    redirect_params,
    sign_in,
    token_request,
)

Grant = get_grant_model()

TASK = {
    "name": "Made by a token",
    "enabled": True,
    "system_prompt": "You are terse.",
    "user_prompt": "Summarise {text}",
}


@pytest.fixture(autouse=True)
def _no_sign_in_rate_limit(settings):
    # These tests sign in through the real login page dozens of times a minute
    # from one address; allauth's login rate limit (kept in the shared cache,
    # Redis under CI) would otherwise refuse them and the tests that follow.
    settings.ACCOUNT_RATE_LIMITS = False


@pytest.fixture
def task_body(db):
    from tasks_app.models import LLMModel

    model = LLMModel.objects.create(
        provider="Test",
        vendor="Test",
        name="oauth-test-model",
        alias="OAuth test",
        litellm_model="openai/oauth-test-model",
    )
    return {**TASK, "llm_model_id": str(model.pk)}


# Client credentials (checklist 106, 107) --------------------------------------------


def test_client_credentials_over_basic_auth_give_a_bearer_token_for_api_calls(
    personas, project_base
):
    client, secret = make_client(personas.project, personas.editor)

    response = token_request(
        {"grant_type": "client_credentials"}, basic=(client.client_id, secret)
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body
    assert body["access_token"].startswith("rbo_")
    api = ApiClient(body["access_token"], project_base)
    assert api.get("/task").status_code == 200


@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth/token"])
def test_form_field_credentials_work_on_both_paths_and_a_wrong_secret_is_refused(
    personas, project_base, path
):
    client, secret = make_client(personas.project, personas.editor)

    good = token_request(
        {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": secret,
        },
        path=path,
    )
    wrong = token_request(
        {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": secret[:-1] + ("y" if secret.endswith("x") else "x"),
        },
        path=path,
    )
    wrong_basic = token_request(
        {"grant_type": "client_credentials"},
        basic=(client.client_id, "not-the-secret"),
        path=path,
    )

    assert good.status_code == 200
    assert ApiClient(good.json()["access_token"], project_base).get(
        "/task"
    ).status_code == (200)
    for refused in (wrong, wrong_basic):
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"


def test_an_unknown_client_is_invalid_client(db):
    response = token_request(
        {"grant_type": "client_credentials"}, basic=("no-such-client", "secret")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_grant_the_client_was_not_given_is_unauthorized_client(personas):
    client, secret = code_client(personas.project, personas.editor)
    response = token_request(
        {"grant_type": "client_credentials"}, basic=(client.client_id, secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_unknown_grants_the_password_grant_and_unknown_scopes_are_refused(personas):
    client, secret = make_client(personas.project, personas.editor)
    unknown = token_request(
        {"grant_type": "urn:example:made-up"}, basic=(client.client_id, secret)
    )
    password = token_request(
        {
            "grant_type": "password",
            "username": "editor@acme.test",
            "password": PASSWORD,
        },
        basic=(client.client_id, secret),
    )
    scope = token_request(
        {"grant_type": "client_credentials", "scope": "admin"},
        basic=(client.client_id, secret),
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "unsupported_grant_type"
    assert password.status_code == 400
    assert password.json()["error"] == "unauthorized_client"
    assert scope.status_code == 400
    assert scope.json()["error"] == "invalid_scope"


# Expiry and revocation (checklist 108) ----------------------------------------------


def test_an_expired_access_token_is_refused_with_401(personas, project_base):
    client, secret = make_client(personas.project, personas.editor)
    token = client_credentials(client, secret)
    api = ApiClient(token, project_base)
    assert api.get("/task").status_code == 200

    AccessToken.objects.filter(application=client).update(
        expires=timezone.now() - timedelta(seconds=1)
    )

    response = api.get("/task")
    assert response.status_code == 401
    assert response.json()["type"] == "authorization_error"


def test_a_token_revoked_at_the_revocation_endpoint_is_refused(personas, project_base):
    client, secret = make_client(personas.project, personas.editor)
    token = client_credentials(client, secret)

    response = token_request(
        {"token": token, "token_type_hint": "access_token"},
        basic=(client.client_id, secret),
        path="/oauth2/revoke",
    )

    assert response.status_code == 200
    assert ApiClient(token, project_base).get("/task").status_code == 401


def test_tokens_are_stored_as_digests_only(personas):
    client, secret = code_client(personas.project, personas.editor)
    code = redirect_params(
        consent(client, personas.editor.email, scope="offline_access")
    )["code"]
    tokens = exchange_code(client, secret, code).json()

    assert not AccessToken.objects.filter(token=tokens["access_token"]).exists()
    assert not RefreshToken.objects.filter(token=tokens["refresh_token"]).exists()
    assert AccessToken.objects.get(application=client).token == ""


# Authorization code (checklist 109, 111) --------------------------------------------


def test_authorization_code_with_offline_access_refreshes_and_rotates_the_token(
    personas, project_base
):
    client, secret = code_client(personas.project, personas.editor)

    answer = consent(
        client, personas.editor.email, state="xyz-123", scope="offline_access"
    )

    params = redirect_params(answer)
    assert params["state"] == "xyz-123"
    tokens = exchange_code(client, secret, params["code"])
    assert tokens.status_code == 200
    first = tokens.json()
    assert first["token_type"] == "Bearer"
    assert first["expires_in"] == 3600
    assert first["scope"] == "offline_access"
    assert first["refresh_token"].startswith("rbr_")
    assert ApiClient(first["access_token"], project_base).get("/task").status_code == (
        200
    )

    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        basic=(client.client_id, secret),
    )
    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert ApiClient(second["access_token"], project_base).get("/task").status_code == (
        200
    )

    replay = token_request(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        basic=(client.client_id, secret),
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


def test_replaying_a_rotated_refresh_token_revokes_the_whole_family(personas):
    client, secret = code_client(personas.project, personas.editor)
    code = redirect_params(
        consent(client, personas.editor.email, scope="offline_access")
    )["code"]
    first = exchange_code(client, secret, code).json()
    second = token_request(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        basic=(client.client_id, secret),
    ).json()

    token_request(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        basic=(client.client_id, secret),
    )
    after_replay = token_request(
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        basic=(client.client_id, secret),
    )

    assert after_replay.status_code == 400
    assert after_replay.json()["error"] == "invalid_grant"


def test_without_offline_access_no_refresh_token_is_issued(personas):
    client, secret = code_client(personas.project, personas.editor)
    code = redirect_params(consent(client, personas.editor.email))["code"]

    tokens = exchange_code(client, secret, code).json()

    assert "refresh_token" not in tokens
    assert tokens["scope"] == ""


def test_a_client_without_the_refresh_grant_gets_no_refresh_token(personas):
    client, secret = code_client(
        personas.project, personas.editor, grant_types=["authorization_code"]
    )
    code = redirect_params(
        consent(client, personas.editor.email, scope="offline_access")
    )["code"]

    assert "refresh_token" not in exchange_code(client, secret, code).json()


def test_denying_consent_redirects_with_access_denied_and_the_state(personas):
    client, _secret = code_client(personas.project, personas.editor)

    params = redirect_params(
        consent(client, personas.editor.email, allow=False, state="s1")
    )

    assert params["error"] == "access_denied"
    assert params["state"] == "s1"
    assert "code" not in params


def test_reusing_an_authorization_code_is_invalid_grant(personas):
    client, secret = code_client(personas.project, personas.editor)
    code = redirect_params(consent(client, personas.editor.email))["code"]
    assert exchange_code(client, secret, code).status_code == 200

    again = exchange_code(client, secret, code)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_reusing_a_code_revokes_the_access_token_it_bought(
    personas, project_base, caplog
):
    client, secret = code_client(personas.project, personas.editor)
    code = redirect_params(consent(client, personas.editor.email))["code"]
    bought = exchange_code(client, secret, code).json()["access_token"]
    api = ApiClient(bought, project_base)
    assert api.get("/task").status_code == 200

    again = exchange_code(client, secret, code)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert api.get("/task").status_code == 401
    assert f"authorization code of OAuth client {client.pk} was presented again" in (
        caplog.text
    )


def test_reusing_a_code_revokes_its_refresh_token_and_every_token_refreshed_from_it(
    personas, project_base
):
    client, secret = code_client(personas.project, personas.editor)
    other_code = redirect_params(
        consent(client, personas.editor.email, scope="offline_access")
    )["code"]
    unrelated = exchange_code(client, secret, other_code).json()
    code = redirect_params(
        consent(client, personas.editor.email, scope="offline_access")
    )["code"]
    first = exchange_code(client, secret, code).json()
    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        basic=(client.client_id, secret),
    ).json()
    assert ApiClient(refreshed["access_token"], project_base).get(
        "/task"
    ).status_code == (200)

    assert exchange_code(client, secret, code).json()["error"] == "invalid_grant"

    assert ApiClient(refreshed["access_token"], project_base).get(
        "/task"
    ).status_code == (401)
    refresh_again = token_request(
        {"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
        basic=(client.client_id, secret),
    )
    assert refresh_again.status_code == 400
    assert refresh_again.json()["error"] == "invalid_grant"
    # Tokens bought with another code are untouched.
    assert ApiClient(unrelated["access_token"], project_base).get(
        "/task"
    ).status_code == (200)


def test_a_code_that_was_never_issued_revokes_nothing(personas, project_base):
    client, secret = code_client(personas.project, personas.editor)
    code = redirect_params(consent(client, personas.editor.email))["code"]
    bought = exchange_code(client, secret, code).json()["access_token"]

    response = exchange_code(client, secret, "x" * len(code))

    assert response.json()["error"] == "invalid_grant"
    assert ApiClient(bought, project_base).get("/task").status_code == 200


def test_authorization_codes_are_stored_as_digests_only(personas):
    client, secret = code_client(personas.project, personas.editor)
    code = redirect_params(consent(client, personas.editor.email))["code"]

    grant = Grant.objects.get(application=client)
    assert grant.code != code
    assert grant.code == hashlib.sha256(code.encode()).hexdigest()
    # Whoever reads the digest (a leaked backup) holds no code: it is hashed too.
    assert not Grant.objects.filter(code=str(grant.code)).exists()
    assert exchange_code(client, secret, grant.code).json()["error"] == "invalid_grant"
    assert exchange_code(client, secret, code).status_code == 200


def test_an_expired_authorization_code_is_invalid_grant(personas):
    client, secret = code_client(personas.project, personas.editor)
    code = redirect_params(consent(client, personas.editor.email))["code"]
    Grant.objects.filter(application=client).update(
        expires=timezone.now() - timedelta(seconds=1)
    )

    response = exchange_code(client, secret, code)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_the_code_exchange_needs_the_same_redirect_uri_and_the_client_secret(
    personas,
):
    client, secret = code_client(
        personas.project,
        personas.editor,
        redirect_uris=[REDIRECT_URI, "https://app.example.com/other"],
    )
    code = redirect_params(consent(client, personas.editor.email))["code"]

    other_uri = exchange_code(
        client, secret, code, redirect_uri="https://app.example.com/other"
    )
    no_secret = exchange_code(client, None, code)

    assert other_uri.status_code == 400
    assert other_uri.json()["error"] == "invalid_request"
    assert no_secret.status_code == 401
    assert no_secret.json()["error"] == "invalid_client"


# PKCE (checklist 110) ---------------------------------------------------------------


def test_pkce_right_verifier_works_without_a_secret_and_a_wrong_one_is_refused(
    personas, project_base
):
    client, secret = code_client(
        personas.project,
        personas.editor,
        grant_types=["authorization_code"],
        public_client=True,
    )
    assert secret is None
    verifier, challenge = pkce_pair()

    def fresh_code() -> str:
        return redirect_params(
            consent(
                client,
                personas.editor.email,
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )["code"]

    wrong = exchange_code(client, None, fresh_code(), code_verifier=pkce_pair()[0])
    right = exchange_code(client, None, fresh_code(), code_verifier=verifier)

    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert right.status_code == 200
    token = right.json()["access_token"]
    assert ApiClient(token, project_base).get("/task").status_code == 200


def test_a_public_client_refreshes_with_its_client_id_alone(personas, project_base):
    client, _ = code_client(personas.project, personas.editor, public_client=True)
    verifier, challenge = pkce_pair()
    code = redirect_params(
        consent(
            client,
            personas.editor.email,
            scope="offline_access",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )["code"]
    first = exchange_code(client, None, code, code_verifier=verifier).json()

    refreshed = token_request(
        {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": client.client_id,
        }
    )

    assert refreshed.status_code == 200, refreshed.content
    token = refreshed.json()["access_token"]
    assert ApiClient(token, project_base).get("/task").status_code == 200


def test_pkce_plain_is_refused_before_any_code_is_issued(personas):
    client, _ = code_client(personas.project, personas.editor, public_client=True)
    browser = Client()
    url = authorize_url(
        client,
        state="p",
        code_challenge="a" * 43,
        code_challenge_method="plain",
    )

    answer = sign_in(browser, url, personas.editor.email)

    params = redirect_params(answer)
    assert params["error"] == "invalid_request"
    assert "S256" in params["error_description"]
    assert params["state"] == "p"
    assert not Grant.objects.filter(application=client).exists()


def test_a_public_client_must_use_pkce(personas):
    client, _ = code_client(personas.project, personas.editor, public_client=True)

    answer = sign_in(Client(), authorize_url(client), personas.editor.email)

    assert redirect_params(answer)["error"] == "invalid_request"


def test_a_malformed_code_verifier_is_invalid_request(personas):
    client, _ = code_client(personas.project, personas.editor, public_client=True)
    _verifier, challenge = pkce_pair()
    code = redirect_params(
        consent(
            client,
            personas.editor.email,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )["code"]

    response = exchange_code(client, None, code, code_verifier="too-short")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_confidential_client_may_add_pkce(personas):
    client, secret = code_client(personas.project, personas.editor)
    verifier, challenge = pkce_pair()
    code = redirect_params(
        consent(
            client,
            personas.editor.email,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )["code"]

    assert exchange_code(client, secret, code, code_verifier=verifier).status_code == (
        200
    )


# The authorize endpoint's pages (checklist 112) -------------------------------------


def test_an_unregistered_redirect_uri_shows_an_error_page_and_does_not_redirect(
    personas,
):
    client, _ = code_client(personas.project, personas.editor)
    browser = Client()
    url = authorize_url(client, redirect_uri="https://evil.example.com/steal")

    page = sign_in(browser, url, personas.editor.email)

    assert page.status_code == 400
    assert "Location" not in page
    assert "cannot be completed" in page.text
    assert "evil.example.com" not in page.text
    assert not Grant.objects.exists()


def test_an_unknown_client_shows_an_error_page(personas):
    browser = Client()
    browser.force_login(personas.editor)
    url = "/oauth2/auth?response_type=code&client_id=nope&redirect_uri=" + (
        REDIRECT_URI
    )

    page = browser.get(url)

    assert page.status_code == 400
    assert "Location" not in page
    assert "cannot be completed" in page.text


def test_the_consent_page_uses_our_layout_and_lets_the_form_reach_the_client(
    personas,
):
    client, _ = code_client(personas.project, personas.editor)
    browser = Client()
    browser.force_login(personas.editor)

    page = browser.get(authorize_url(client, state="s"))

    assert page.status_code == 200
    assert 'class="card card-narrow"' in page.text
    assert 'name="allow" value="on"' in page.text
    assert hidden_inputs(page.text)["state"] == "s"
    policy = page["Content-Security-Policy"]
    assert "form-action 'self' https://app.example.com" in policy


def test_the_implicit_grant_is_refused_at_the_authorize_endpoint(personas):
    client, _ = make_client(
        personas.project,
        personas.editor,
        grant_types=["implicit"],
        redirect_uris=[REDIRECT_URI],
    )
    browser = Client()
    browser.force_login(personas.editor)

    answer = browser.get(authorize_url(client, response_type="token"))

    assert answer.status_code == 302
    assert "error=unauthorized_client" in answer["Location"]
    assert "access_token" not in answer["Location"]


def test_a_loopback_http_redirect_uri_works(personas):
    loopback = "http://127.0.0.1:8765/callback"
    client, secret = code_client(
        personas.project, personas.editor, redirect_uris=[loopback]
    )

    answer = consent(client, personas.editor.email, redirect_uri=loopback)

    assert answer.status_code == 302
    assert answer["Location"].startswith(loopback + "?code=")


# Secrets and deletion (checklist 114, 115) ------------------------------------------


def test_regenerating_the_secret_makes_the_old_one_fail_and_the_new_one_work(
    personas, api
):
    client, old_secret = make_client(personas.project, personas.editor)

    response = api("editor").post(f"/oauth_client/{client.pk}/client_secret")

    assert response.status_code == 200
    new_secret = response.json()["client_secret"]
    assert new_secret and new_secret != old_secret
    old = token_request(
        {"grant_type": "client_credentials"}, basic=(client.client_id, old_secret)
    )
    assert old.status_code == 401
    assert old.json()["error"] == "invalid_client"
    assert client_credentials(client, new_secret)


def test_deleting_a_client_revokes_the_tokens_it_issued(personas, api, project_base):
    service, service_secret = make_client(
        personas.project, personas.editor, client_type="project"
    )
    service_token = client_credentials(service, service_secret)
    web, web_secret = code_client(personas.project, personas.editor)
    code = redirect_params(consent(web, personas.editor.email, scope="offline_access"))[
        "code"
    ]
    web_tokens = exchange_code(web, web_secret, code).json()

    for client in (service, web):
        response = api("editor").delete(f"/oauth_client/{client.pk}")
        assert response.status_code == 200
        assert response.content == b"null"

    for token in (service_token, web_tokens["access_token"]):
        assert ApiClient(token, project_base).get("/task").status_code == 401
    refresh = token_request(
        {"grant_type": "refresh_token", "refresh_token": web_tokens["refresh_token"]},
        basic=(web.client_id, web_secret),
    )
    assert refresh.status_code == 401
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.exists()


# Who a token acts as (checklist 117) ------------------------------------------------


def test_a_project_client_token_creates_tasks_in_its_project_only(
    personas, project_base, task_body
):
    client, secret = make_client(
        personas.project, personas.editor, client_type="project"
    )
    api = ApiClient(client_credentials(client, secret), project_base)

    created = api.post("/task", task_body)

    assert created.status_code == 200, created.content
    assert created.json()["project_id"] == str(personas.project.pk)
    other = project_create(organization=personas.organization, name="Second")
    other_base = f"/api/v1/org/{personas.organization.pk}/project/{other.pk}"
    assert api.get(other_base + "/task").status_code == 404


def test_a_project_client_keeps_working_when_its_creator_leaves(personas, project_base):
    client, secret = make_client(
        personas.project, personas.editor, client_type="project"
    )
    personas.membership(personas.editor).delete()

    api = ApiClient(client_credentials(client, secret), project_base)

    assert api.get("/task").status_code == 200


def test_a_user_client_token_has_exactly_its_creators_permissions(
    personas, project_base, task_body
):
    client, secret = make_client(personas.project, personas.editor)
    api = ApiClient(client_credentials(client, secret), project_base)
    assert api.post("/task", task_body).status_code == 200

    membership = personas.membership(personas.editor)
    membership.role = Role.VIEWER
    membership.save()
    assert api.get("/task").status_code == 200
    assert api.post("/task", {**task_body, "name": "Second"}).status_code == 403

    membership.delete()
    # Project-wide endpoints answer people outside the organisation 404.
    assert api.get("/model").status_code == 404
    assert api.post("/task", {**task_body, "name": "Third"}).status_code == 404

    personas.editor.is_active = False
    personas.editor.save()
    assert api.get("/task").status_code == 401


def test_an_authorization_code_token_acts_as_the_person_who_consented(
    personas, project_base, task_body
):
    client, secret = code_client(personas.project, personas.editor)
    code = redirect_params(consent(client, personas.viewer.email))["code"]
    token = exchange_code(client, secret, code).json()["access_token"]
    api = ApiClient(token, project_base)

    assert api.get("/task").status_code == 200
    assert api.post("/task", task_body).status_code == 403


def test_an_outsider_who_consents_gets_a_token_that_cannot_see_the_project(
    personas, project_base
):
    client, secret = code_client(personas.project, personas.editor)
    code = redirect_params(consent(client, personas.outsider.email))["code"]
    token = exchange_code(client, secret, code).json()["access_token"]

    assert ApiClient(token, project_base).get("/model").status_code == 404
    assert ApiClient(token, project_base).get("/task").json()["results"] == []
    outsider_base = (
        f"/api/v1/org/{personas.other_organization.pk}"
        f"/project/{personas.other_project.pk}"
    )
    # The token is limited to the client's project, even where the person may go.
    assert ApiClient(token, outsider_base).get("/model").status_code == 404
    assert ApiClient(token, outsider_base).get("/task").status_code == 404


def test_a_refreshed_token_still_acts_as_the_person_who_consented(
    personas, project_base, task_body
):
    client, secret = code_client(personas.project, personas.editor)
    code = redirect_params(
        consent(client, personas.viewer.email, scope="offline_access")
    )["code"]
    first = exchange_code(client, secret, code).json()
    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        basic=(client.client_id, secret),
    ).json()

    api = ApiClient(refreshed["access_token"], project_base)
    assert api.get("/task").status_code == 200
    assert api.post("/task", task_body).status_code == 403


def test_a_users_client_acting_as_a_deleted_creator_is_refused(personas, project_base):
    client, secret = make_client(personas.project, personas.editor)
    token = client_credentials(client, secret)
    Membership.objects.filter(user=personas.editor).delete()
    personas.editor.delete()

    assert OAuthClient.objects.get(pk=client.pk).user is None
    assert ApiClient(token, project_base).get("/task").status_code == 401
