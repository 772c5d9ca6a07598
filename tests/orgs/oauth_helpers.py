"""Drive the OAuth 2.0 endpoints as a client and a browser would."""

from __future__ import annotations

import base64
import hashlib
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from rightbrain.orgs import services
from rightbrain.orgs.models import OAuthClient, Project, User
from tests.helpers import PASSWORD

REDIRECT_URI = "https://app.example.com/callback"


def make_client(
    project: Project, user: User, **fields
) -> tuple[OAuthClient, str | None]:
    fields.setdefault("name", "Test client")
    return services.oauth_client_create(project=project, created_by=user, **fields)


def code_client(project: Project, user: User, **fields):
    """A confidential authorization-code client that may refresh."""
    fields.setdefault("grant_types", ["authorization_code", "refresh_token"])
    fields.setdefault("redirect_uris", [REDIRECT_URI])
    return make_client(project, user, **fields)


def token_request(
    data: dict,
    *,
    basic: tuple[str, str | None] | None = None,
    path: str = "/oauth2/token",
) -> HttpResponse:
    headers = {}
    if basic is not None:
        client_id, secret = basic
        pair = f"{client_id}:{secret or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return Client().post(
        path,
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def client_credentials(client: OAuthClient, secret: str | None, **extra) -> str:
    """An access token from the client-credentials grant."""
    response = token_request(
        {"grant_type": "client_credentials", **extra},
        basic=(client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(client: OAuthClient, **params) -> str:
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        **params,
    }
    return reverse("oauth2_authorize") + "?" + urlencode(query)


class _HiddenInputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"] or ""] = attributes.get("value") or ""


def hidden_inputs(html: str) -> dict[str, str]:
    parser = _HiddenInputs()
    parser.feed(html)
    return parser.fields


def sign_in(browser: Client, url: str, email: str) -> HttpResponse:
    """Open `url` signed out, sign in on the real login page, land on `url`."""
    first = browser.get(url)
    assert first.status_code == 302
    assert first["Location"].startswith(reverse("account_login"))
    login = browser.post(first["Location"], {"login": email, "password": PASSWORD})
    assert login.status_code == 302
    assert login["Location"] == url
    return browser.get(url)


def consent(
    client: OAuthClient, email: str, *, allow: bool = True, **params
) -> HttpResponse:
    """Through /oauth2/auth as a browser: sign in, read the consent screen,
    answer it. Returns the answer (a redirect to the client, or a page)."""
    browser = Client()
    url = authorize_url(client, **params)
    page = sign_in(browser, url, email)
    assert page.status_code == 200, page.content
    assert f"Allow {client.name} to act as you?" in page.text
    fields = hidden_inputs(page.text)
    if allow:
        fields["allow"] = "on"
    return browser.post(url, fields)


def redirect_params(response: HttpResponse) -> dict[str, str]:
    assert response.status_code == 302, response.content
    location = response["Location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return {
        key: values[0] for key, values in parse_qs(urlsplit(location).query).items()
    }


def exchange_code(
    client: OAuthClient, secret: str | None, code: str, **extra
) -> HttpResponse:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": client.client_id,
        **extra,
    }
    if secret is None:
        return token_request(data)
    return token_request(data, basic=(client.client_id, secret))
