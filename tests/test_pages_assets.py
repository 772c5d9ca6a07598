"""Every page loads its assets from our own origin, under a strict CSP."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from rightbrain.orgs.services import invitation_create


class _AssetCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "action", "poster", "srcset"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        # json_script's data blocks are not code: neither run nor held by CSP.
        is_data = attrs.get("type") == "application/json"
        if tag == "script" and not attrs.get("src") and not is_data:
            self.inline_scripts += 1
        self.inline_handlers += [a for a in attrs if a.startswith(("on", "hx-on"))]


def _pages(personas):
    invitation_token = "t0ken"
    invitation_create(
        organization=personas.organization,
        email="x@acme.test",
        role="viewer",
        invited_by=personas.owner,
    )
    org, project = personas.organization.pk, personas.project.pk
    logged_out = [
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
    ]
    logged_in = [
        reverse("project_home", args=[project]),
        reverse("project_runs", args=[project]),
        reverse("project_usage", args=[project]),
        reverse("project_shares", args=[project]),
        reverse("account_settings"),
        reverse("organization_create"),
        reverse("console_members", args=[org]),
        reverse("console_projects", args=[org]),
        reverse("account_change_password"),
        reverse("account_email"),
    ]
    del invitation_token
    return logged_out, logged_in


def _assert_self_hosted(response):
    assert response.status_code == 200, response
    parser = _AssetCollector()
    parser.feed(response.text)
    external = [
        url for url in parser.urls if re.match(r"^(https?:)?//", url, re.IGNORECASE)
    ]
    assert external == [], f"{response.request['PATH_INFO']} loads {external}"
    path = response.request["PATH_INFO"]
    assert parser.inline_scripts == 0, f"{path} has an inline script"
    assert parser.inline_handlers == [], f"{path} has inline handlers"
    csp = response.headers["Content-Security-Policy"]
    script_src = csp.split("script-src")[1].split(";")[0]
    assert "unsafe-eval" not in script_src
    assert "unsafe-inline" not in script_src
    assert script_src.split()[0] == "'self'"


def test_no_page_loads_anything_from_another_host(personas, as_user, client):
    logged_out, logged_in = _pages(personas)
    for url in logged_out:
        _assert_self_hosted(client.get(url))
    owner = as_user("owner")
    for url in logged_in:
        _assert_self_hosted(owner.get(url))


def test_the_shell_loads_htmx_and_our_css_from_static(personas, as_user):
    page = as_user("viewer").get(reverse("project_home", args=[personas.project.pk]))
    assert '/static/django_htmx/htmx-2.min.js"' in page.text
    assert '/static/css/app.css"' in page.text
    assert '"allowEval": false' in page.text


def test_the_shell_shows_navigation_and_the_switcher(personas, as_user):
    page = as_user("viewer").get(reverse("project_home", args=[personas.project.pk]))
    nav = page.text.split('aria-label="Main"')[1].split("</nav>")[0]
    links = re.findall(r"<a\b.*?</a>", nav, flags=re.S)
    labels = [re.sub(r"<[^>]+>|\s+", "", link) for link in links]
    assert labels == ["Tasks", "Templates", "Runs", "Usage", "Shares", "Settings"]
    assert "Acme" in page.text
    assert "Default project" in page.text
    # The outsider's organisation never appears in a member's switcher.
    assert "Elsewhere" not in page.text


def test_the_project_home_shows_an_empty_state_with_its_ids(personas, as_user):
    page = as_user("viewer").get(reverse("project_home", args=[personas.project.pk]))
    assert "No tasks yet" in page.text
    assert str(personas.project.pk) in page.text
    assert str(personas.organization.pk) in page.text


@pytest.mark.parametrize(
    "path", ["vendor/plotly.min.js", "django_htmx/htmx-2.min.js", "css/app.css"]
)
def test_vendored_assets_are_found_by_staticfiles(path):
    assert finders.find(path), path


def test_project_home_query_count_is_constant(
    personas, as_user, django_assert_num_queries
):
    client = as_user("viewer")
    url = reverse("project_home", args=[personas.project.pk])
    client.get(url)
    # 1 session, 2 user, 3 project + organisation + role, 4 task tags for the
    # filter, 5 the first page of tasks, 6-7 the switcher.
    with django_assert_num_queries(7):
        client.get(url)
