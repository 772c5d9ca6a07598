"""Settings → API clients (dashboard.md §8): the page, its HTMX fragments and
non-JS fallbacks, secrets shown once, Client.env, and who may use it."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from rightbrain.orgs.models import ApiKey, OAuthClient
from rightbrain.orgs.services import api_key_create
from tests.orgs.oauth_helpers import REDIRECT_URI, make_client, token_request

HTMX = {"HX-Request": "true"}
NEW_CLIENT = {
    "name": "Backend",
    "description": "Our nightly jobs",
    "grant_types": ["client_credentials"],
    "redirect_uris": "",
    "client_type": "project",
}


def _url(name: str, personas, *extra) -> str:
    return reverse(name, args=[personas.project.pk, *extra])


def _secret_in(html: str, prefix: str = "") -> str:
    match = re.search(
        r'<code class="copyable" data-copy>(' + prefix + r"[^<]+)</code>", html
    )
    assert match, "no secret on the page"
    return match.group(1)


# Checklist 141 ----------------------------------------------------------------------


def test_api_clients_show_each_secret_exactly_once_and_regenerate_and_delete_work(
    personas, as_user
):
    browser = as_user("editor")

    made_key = browser.post(_url("api_key_create", personas), {"name": "Script"})
    assert made_key.status_code == 200
    key = _secret_in(made_key.text, "rbk_")
    assert "it will not be shown again" in made_key.text
    assert "never put it in browser" in made_key.text

    made_client = browser.post(_url("oauth_client_create", personas), NEW_CLIENT)
    assert made_client.status_code == 200
    client = OAuthClient.objects.get(name="Backend")
    secret_line = re.search(r"RB_CLIENT_SECRET=(\S+)", made_client.text)
    assert secret_line
    secret = secret_line.group(1)
    assert secret != "&lt;your"
    assert f"data-copy>{secret}</code>" in made_client.text

    page = browser.get(_url("api_clients", personas))
    assert page.status_code == 200
    assert key not in page.text
    assert secret not in page.text
    assert key[:8] + "…" in page.text
    assert client.client_id in page.text
    assert "RB_CLIENT_SECRET=&lt;your client secret&gt;" in page.text

    regenerated = browser.post(
        _url("oauth_client_regenerate_secret", personas, client.pk)
    )
    new_secret = re.search(r"RB_CLIENT_SECRET=(\S+)", regenerated.text).group(1)
    assert new_secret != secret
    assert "The previous secret no longer works" in regenerated.text
    assert (
        token_request(
            {"grant_type": "client_credentials"}, basic=(client.client_id, secret)
        ).status_code
        == 401
    )
    assert (
        token_request(
            {"grant_type": "client_credentials"}, basic=(client.client_id, new_secret)
        ).status_code
        == 200
    )
    assert new_secret not in browser.get(_url("api_clients", personas)).text

    deleted = browser.post(_url("oauth_client_delete", personas, client.pk))
    assert deleted.status_code == 302
    assert not OAuthClient.objects.filter(pk=client.pk).exists()
    api_key = ApiKey.objects.get(name="Script")
    revoked = browser.post(_url("api_key_revoke", personas, api_key.pk))
    assert revoked.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    final = browser.get(_url("api_clients", personas))
    assert "Deleted Backend; its tokens no longer work." in final.text
    assert f'id="oauth-client-{client.pk}"' not in final.text
    assert f'id="api-key-{api_key.pk}"' not in final.text


def test_client_env_holds_the_rb_environment_block(personas, as_user):
    client, _ = make_client(personas.project, personas.editor, name="Env client")

    page = as_user("editor").get(_url("api_clients", personas))

    site = settings.SITE_ROOT
    expected = "\n".join(
        [
            f"RB_ORG_ID={personas.organization.pk}",
            f"RB_PROJECT_ID={personas.project.pk}",
            f"RB_OAUTH2_URL={site}",
            f"RB_API_URL={site}/api/v1",
            f"RB_CLIENT_ID={client.client_id}",
            "RB_CLIENT_SECRET=&lt;your client secret&gt;",
            "RB_OAUTH2_TOKEN_PATH=/oauth2/token",
        ]
    )
    assert f'data-copy="{expected}">Client.env</button>' in page.text


def test_the_quick_reference_names_a_credential_for_each_use(personas, as_user):
    page = as_user("editor").get(_url("api_clients", personas))
    assert "Internal scripts and local testing" in page.text
    assert "Backend services, CI/CD, daemons" in page.text
    assert "Signing people in, delegated access" in page.text


# The URL the product uses -----------------------------------------------------------


def test_preferences_tab_api_clients_opens_the_current_projects_page(personas, as_user):
    browser = as_user("editor")
    browser.get(reverse("project_home", args=[personas.project.pk]))

    response = browser.get(reverse("preferences") + "?tab=api-clients")

    assert response.status_code == 302
    assert response["Location"] == _url("api_clients", personas)
    assert browser.get(reverse("preferences"))["Location"] == reverse(
        "account_settings"
    )


def test_preferences_without_a_remembered_project_uses_the_first_one(personas, as_user):
    response = as_user("editor").get(reverse("preferences") + "?tab=api-clients")
    assert response["Location"] == _url("api_clients", personas)


def test_the_settings_tabs_link_to_api_clients_for_editors_only(personas, as_user):
    editor_page = as_user("editor").get(reverse("account_settings"))
    viewer_page = as_user("viewer").get(reverse("account_settings"))
    assert _url("api_clients", personas) in editor_page.text
    assert _url("api_clients", personas) not in viewer_page.text


# HTMX and the non-JS fallbacks ------------------------------------------------------


def test_the_page_over_htmx_is_a_fragment(personas, as_user):
    browser = as_user("editor")
    full = browser.get(_url("api_clients", personas))
    fragment = browser.get(_url("api_clients", personas), headers=HTMX)

    assert "<html" in full.text
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="api-clients"' in fragment.text


def test_creating_a_key_over_htmx_answers_the_keys_panel_with_the_secret(
    personas, as_user
):
    response = as_user("editor").post(
        _url("api_key_create", personas),
        {"name": "From htmx"},
        headers={**HTMX, "HX-Trigger": "create-key"},
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="api-keys-panel"' in response.text
    assert 'id="oauth-clients-panel"' not in response.text
    assert _secret_in(response.text, "rbk_")


def test_creating_a_client_over_htmx_answers_the_clients_panel(personas, as_user):
    response = as_user("editor").post(
        _url("oauth_client_create", personas), NEW_CLIENT, headers=HTMX
    )

    assert "<html" not in response.text
    assert 'id="oauth-clients-panel"' in response.text
    assert "RB_CLIENT_ID=" in response.text


def test_revoking_and_deleting_over_htmx_answer_the_panel(personas, as_user):
    browser = as_user("editor")
    api_key, _ = api_key_create(
        project=personas.project, user=personas.editor, name="Doomed"
    )
    client, _ = make_client(personas.project, personas.editor, name="Doomed client")

    revoked = browser.post(_url("api_key_revoke", personas, api_key.pk), headers=HTMX)
    deleted = browser.post(
        _url("oauth_client_delete", personas, client.pk), headers=HTMX
    )

    assert revoked.status_code == 200
    assert 'id="api-keys-panel"' in revoked.text
    assert "Revoked the key “Doomed”" in revoked.text
    assert deleted.status_code == 200
    assert 'id="oauth-clients-panel"' in deleted.text
    assert "Deleted Doomed client" in deleted.text


def test_the_forms_post_without_javascript_and_confirm_destructive_actions(
    personas, as_user
):
    make_client(personas.project, personas.editor)
    api_key_create(project=personas.project, user=personas.editor, name="K")

    page = as_user("editor").get(_url("api_clients", personas)).text

    assert f'action="{_url("api_key_create", personas)}"' in page
    assert f'action="{_url("oauth_client_create", personas)}"' in page
    assert page.count("hx-confirm=") == 3  # revoke key, regenerate, delete


# Validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"redirect_uris": "http://app.example.com/cb"}, "Use https://"),
        ({"redirect_uris": "https://app.example.com/cb#x"}, "#fragment"),
        (
            {"grant_types": ["authorization_code"], "redirect_uris": ""},
            "needs at least one redirect URI",
        ),
        ({"grant_types": ["refresh_token"]}, "only granted together"),
        ({"grant_types": ["password"]}, "Select a valid choice"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_a_bad_client_form_is_shown_again_with_its_message_and_nothing_is_saved(
    personas, as_user, changes, message
):
    response = as_user("editor").post(
        _url("oauth_client_create", personas), {**NEW_CLIENT, **changes}, headers=HTMX
    )

    assert response.status_code == 200
    assert message in response.text
    assert '<details class="disclosure" open>' in response.text
    assert not OAuthClient.objects.exists()


def test_a_bad_key_name_is_shown_again_with_its_message(personas, as_user):
    response = as_user("editor").post(_url("api_key_create", personas), {"name": ""})
    assert response.status_code == 200
    assert "This field is required" in response.text
    assert not ApiKey.objects.exists()


# Editing ----------------------------------------------------------------------------


def test_editing_a_client_changes_redirect_uris_and_grant_types(personas, as_user):
    client, _ = make_client(personas.project, personas.editor, name="Web")
    browser = as_user("editor")
    url = _url("oauth_client_edit", personas, client.pk)

    form = browser.get(url)
    saved = browser.post(
        url,
        {
            "name": "Web",
            "description": "",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": f"{REDIRECT_URI}\nhttp://localhost:3000/cb\n",
        },
    )

    assert form.status_code == 200
    assert client.client_id in form.text
    assert "client_type" not in form.text
    assert saved.status_code == 302
    client.refresh_from_db()
    assert client.grant_types == ["authorization_code", "refresh_token"]
    assert client.redirect_uri_list == [REDIRECT_URI, "http://localhost:3000/cb"]


def test_an_invalid_edit_is_shown_again_and_changes_nothing(personas, as_user):
    client, _ = make_client(personas.project, personas.editor, name="Web")

    response = as_user("editor").post(
        _url("oauth_client_edit", personas, client.pk),
        {"name": "Web", "grant_types": ["authorization_code"], "redirect_uris": ""},
    )

    assert response.status_code == 200
    assert "needs at least one redirect URI" in response.text
    client.refresh_from_db()
    assert client.grant_types == ["client_credentials"]


def test_only_the_creator_may_edit_or_regenerate_a_user_client(personas, as_user):
    owners, _ = make_client(personas.project, personas.owner, name="Owner's")
    admin, editor = as_user("admin"), as_user("editor")

    assert admin.get(_url("oauth_client_edit", personas, owners.pk)).status_code == 403
    assert (
        admin.post(
            _url("oauth_client_regenerate_secret", personas, owners.pk)
        ).status_code
        == 403
    )
    assert editor.get(_url("oauth_client_edit", personas, owners.pk)).status_code == 404
    admin_page = admin.get(_url("api_clients", personas)).text
    assert _url("oauth_client_edit", personas, owners.pk) not in admin_page
    assert _url("oauth_client_delete", personas, owners.pk) in admin_page


# Who may use the page ---------------------------------------------------------------


def _views(personas, client_pk, key_pk) -> list[tuple[str, str, dict]]:
    return [
        ("get", _url("api_clients", personas), {}),
        ("post", _url("api_key_create", personas), {"name": "X"}),
        ("post", _url("api_key_revoke", personas, key_pk), {}),
        ("post", _url("api_key_limits", personas, key_pk), {"runs_per_minute": 1}),
        ("post", _url("oauth_client_create", personas), NEW_CLIENT),
        ("get", _url("oauth_client_edit", personas, client_pk), {}),
        ("post", _url("oauth_client_edit", personas, client_pk), {"name": "Y"}),
        ("post", _url("oauth_client_regenerate_secret", personas, client_pk), {}),
        ("post", _url("oauth_client_delete", personas, client_pk), {}),
    ]


@pytest.mark.parametrize(("persona", "status"), [("outsider", 404), ("viewer", 403)])
def test_every_api_clients_view_refuses_outsiders_and_viewers(
    personas, as_user, persona, status
):
    client, _ = make_client(
        personas.project, personas.owner, name="Service", client_type="project"
    )
    api_key, _ = api_key_create(
        project=personas.project, user=personas.viewer, name="Viewer's"
    )
    browser = as_user(persona)

    for method, url, data in _views(personas, client.pk, api_key.pk):
        response = getattr(browser, method)(url, data)
        assert response.status_code == status, (method, url)

    assert OAuthClient.objects.get().name == "Service"
    assert ApiKey.objects.get().revoked_at is None


def test_signed_out_visitors_are_sent_to_sign_in(personas, client):
    response = client.get(_url("api_clients", personas))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_state_changes_need_a_post(personas, as_user):
    client, _ = make_client(personas.project, personas.editor)
    browser = as_user("editor")
    assert browser.get(
        _url("oauth_client_delete", personas, client.pk)
    ).status_code == (405)
    assert OAuthClient.objects.exists()


# Queries ----------------------------------------------------------------------------


def test_the_page_takes_the_same_queries_however_many_credentials_exist(
    personas, as_user, django_assert_num_queries
):
    browser = as_user("admin")
    url = _url("api_clients", personas)
    browser.get(url)  # remembers the project in the session

    # 1 session, 2 user, 3 project with organisation and role, 4 OAuth clients
    # with creators, 5 API keys with owners, 6-7 the switcher's memberships and
    # projects.
    with django_assert_num_queries(7):
        assert browser.get(url).status_code == 200
    for n in range(4):
        make_client(personas.project, personas.editor, name=f"C{n}")
        api_key_create(project=personas.project, user=personas.editor, name=f"K{n}")
    with django_assert_num_queries(7):
        page = browser.get(url)
    assert page.text.count("Client.env</button>") == 4
