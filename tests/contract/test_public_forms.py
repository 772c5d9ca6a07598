"""Every page that takes a POST without a login — found by walking the URL
patterns, not listed by hand — sent NUL characters, unpaired surrogates and
deeply nested JSON in its form fields, multipart parts and query string:
each is refused (422, or 400 for what cannot be read), none answers a
server error."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from runs_app.services import run_execute
from sharing.services import share_create
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel
from tasks_app.services import RevisionSpec, task_create

NUL = "a\x00b"
DEEP = "[" * 10_000 + "]" * 10_000
# Field names every public form might read, besides those its page shows.
LIKELY_FIELDS = ("email", "password", "password1", "login", "task_input", "text")
_FIELD_NAME = re.compile(r'name="([^"]+)"')


def _patterns(resolver: URLResolver) -> Iterator[URLPattern]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in ("admin", "api"):
                continue  # the admin needs staff; the API has its own test
            yield from _patterns(pattern)
        elif pattern.name:
            yield pattern


@pytest.fixture
def ids(personas, settings) -> dict[str, str]:
    settings.RB_SHARE_RUNS_PER_MINUTE = 100_000
    catalogue_sync()  # a transactional test elsewhere may have flushed it
    demo = LLMModel.objects.get(name="rightbrain-demo")
    task = task_create(
        project=personas.project,
        user=personas.owner,
        name="Summaries",
        revision=RevisionSpec(user_prompt="Summarise {text}", llm_model_id=demo.pk),
    )
    run = run_execute(
        task=task,
        revision=task.revisions.get(),
        task_input={"text": "A long article."},
        user=personas.owner,
    )
    share = share_create(task=task, user=personas.owner, allow_inputs=True)
    return {
        "org_id": str(personas.organization.pk),
        "project_id": str(personas.project.pk),
        "task_id": str(task.pk),
        "task_run_id": str(run.pk),
        "short_id": share.short_id,
        "share_id": str(share.pk),
    }


def _url(pattern: URLPattern, ids: dict[str, str]) -> str | None:
    names = pattern.pattern.regex.groupindex
    kwargs = {name: ids.get(name, str(uuid.uuid4())) for name in names}
    for attempt in (kwargs, dict.fromkeys(names, "x1")):
        try:
            return reverse(pattern.name, kwargs={**attempt, **_known(ids, names)})
        except NoReverseMatch:
            continue
    return None


def _known(ids: dict[str, str], names) -> dict[str, str]:
    return {name: ids[name] for name in names if name in ids}


def _public_post_urls(ids: dict[str, str]) -> list[str]:
    """The URLs a visitor who is not logged in may POST to: not a 405, not a
    redirect to the login page, not a 404 or 403."""
    found = []
    for pattern in _patterns(get_resolver()):
        url = _url(pattern, ids)
        if url is None:
            continue
        response = Client().post(url)
        to_login = response.status_code == 302 and "/accounts/login" in response.get(
            "Location", ""
        )
        if response.status_code not in (403, 404, 405) and not to_login:
            found.append(url)
    return found


def _field_names(url: str) -> set[str]:
    page = Client().get(url)
    shown = set(_FIELD_NAME.findall(page.content.decode(errors="replace")))
    return (shown | set(LIKELY_FIELDS)) - {"csrfmiddlewaretoken"}


def test_every_public_form_refuses_malformed_input_without_a_server_error(ids):
    urls = _public_post_urls(ids)
    short_id = ids["short_id"]
    for expected in (
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
        reverse("oauth2_token"),
        reverse("share_run", args=[short_id]),
    ):
        assert expected in urls
    problems = []
    for url in urls:
        fields = _field_names(url)
        hostile = {
            "NUL in the form": (dict.fromkeys(fields, NUL), {}),
            "NUL in multipart parts": (
                dict.fromkeys(fields, NUL),
                {"format": "multipart"},
            ),
            "deep JSON in the form": (dict.fromkeys(fields, DEEP), {}),
            "NUL in the query": ({}, {"query": "next=" + quote(NUL)}),
        }
        for label, (data, how) in hostile.items():
            client = Client()
            target = f"{url}?{how['query']}" if "query" in how else url
            if how.get("format") == "multipart":
                response = client.post(target, data)  # the test client's default
            else:
                response = client.post(
                    target,
                    "&".join(f"{k}={quote(v)}" for k, v in data.items()),
                    content_type="application/x-www-form-urlencoded",
                )
            if response.status_code not in (400, 422):
                problems.append(f"POST {url}: {label} → {response.status_code}")
        surrogate = client.post(
            url,
            "text=a%ED%A0%80b&email=a%ED%A0%80b",
            content_type="application/x-www-form-urlencoded",
        )
        if surrogate.status_code >= 500:
            problems.append(f"POST {url}: a surrogate → {surrogate.status_code}")
    assert problems == []
