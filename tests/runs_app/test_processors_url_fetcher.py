"""Checklist item 45: url_fetcher replaces the URL with the page's text before the
prompt is rendered, falls back when told to, and never reaches private
addresses unless the instance allows it."""

from __future__ import annotations

import json

import pytest

from runs_app.models import TaskRun

GOOD = {"sentiment": "positive"}
ARTICLE = """<!doctype html>
<html><head><title>Blender review</title></head>
<body>
<nav><a href="/">Home</a> <a href="/shop">Shop</a></nav>
<article>
<h1>The X200 blender</h1>
<p>The X200 crushes ice in under ten seconds and is quieter than its rivals.</p>
<p>Its jug survived a drop from the counter, though the lid cracked slightly.</p>
</article>
<footer>Copyright Example Reviews</footer>
</body></html>"""


def _processor(**config):
    return [{"param_name": "page", "input_processor": "url_fetcher", "config": config}]


def _task(run_task, **config):
    return run_task(
        user_prompt="Summarise: {page}", input_processors=_processor(**config)
    )


def _run(client, task, url):
    return client.post(f"/task/{task['id']}/run", {"task_input": {"page": url}})


def _prompt(fake_llm) -> str:
    return fake_llm.requests[-1]["messages"][-1]["content"]


def test_the_pages_readable_text_replaces_the_url_before_the_prompt_is_rendered(
    run_task, fake_llm, fake_web
):
    client, task = _task(run_task)
    url = fake_web.serve("/x200", ARTICLE)
    fake_llm.answer(GOOD)
    response = _run(client, task, url)
    assert response.status_code == 200
    prompt = _prompt(fake_llm)
    assert prompt.startswith("Summarise: ")
    assert "crushes ice in under ten seconds" in prompt
    assert "the lid cracked slightly" in prompt
    assert "<p>" not in prompt
    assert url not in prompt
    # What the caller sent is kept as sent.
    assert response.json()["run_data"] == {"submitted": {"page": url}}


def test_the_title_can_be_left_out_and_the_text_clipped(run_task, fake_llm, fake_web):
    client, task = _task(run_task, include_title=False, max_length=40)
    url = fake_web.serve("/x200", ARTICLE)
    fake_llm.answer(GOOD)
    assert _run(client, task, url).status_code == 200
    text = _prompt(fake_llm).removeprefix("Summarise: ")
    assert len(text) <= 40
    assert "Blender review" not in text


def test_extract_text_off_keeps_the_html(run_task, fake_llm, fake_web):
    client, task = _task(run_task, extract_text=False)
    url = fake_web.serve("/x200", ARTICLE)
    fake_llm.answer(GOOD)
    assert _run(client, task, url).status_code == 200
    assert "<nav>" in _prompt(fake_llm)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", json.dumps({"price": 129, "in_stock": True})),
        ("text/plain; charset=utf-8", "Price: 129 EUR, in stock."),
    ],
)
def test_json_and_plain_text_are_used_as_they_come(
    run_task, fake_llm, fake_web, content_type, body
):
    client, task = _task(run_task)
    url = fake_web.serve("/data", body, content_type=content_type)
    fake_llm.answer(GOOD)
    assert _run(client, task, url).status_code == 200
    assert _prompt(fake_llm) == f"Summarise: {body}"


def test_the_fetch_is_timed_as_processor_time(run_task, fake_llm, fake_web):
    client, task = _task(run_task)
    url = fake_web.serve("/slow", ARTICLE, delay=0.2)
    fake_llm.answer(GOOD)
    run = _run(client, task, url).json()
    assert run["input_processor_timing"] >= 0.2
    assert isinstance(run["llm_call_timing"], float)


def _failing_urls(fake_web, settings) -> dict[str, str]:
    settings.RB_URL_FETCH_MAX_BYTES = 1_000
    settings.RB_URL_FETCH_TIMEOUT = 0.3
    return {
        "missing": fake_web.base_url + "/nowhere",
        "server error": fake_web.serve("/boom", "oops", status=500),
        "too large": fake_web.serve("/huge", "<p>" + "x" * 5_000 + "</p>"),
        "too slow": fake_web.serve("/slow", ARTICLE, delay=1.0),
        "not a page": fake_web.serve("/a.zip", b"PK\x03\x04", content_type="x/zip"),
        "unreachable": "http://127.0.0.1:9/closed",
    }


def test_a_failed_fetch_uses_the_fallback_text(run_task, fake_llm, fake_web, settings):
    client, task = _task(run_task, fallback_text="(page unavailable)")
    for reason, url in _failing_urls(fake_web, settings).items():
        fake_llm.answer(GOOD)
        response = _run(client, task, url)
        assert response.status_code == 200, reason
        assert _prompt(fake_llm) == "Summarise: (page unavailable)", reason


def test_a_failed_fetch_without_fallback_is_a_422_naming_the_variable(
    run_task, fake_llm, fake_web, settings
):
    client, task = _task(run_task)
    for reason, url in _failing_urls(fake_web, settings).items():
        response = _run(client, task, url)
        assert response.status_code == 422, reason
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", "task_input", "page"], reason
        assert detail["msg"].startswith("url_fetcher (page): could not fetch"), reason
    assert not TaskRun.objects.exists()
    assert fake_llm.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.20.30.40"])
def test_private_addresses_are_refused_unless_allowed(
    run_task, fake_llm, fake_web, settings, host
):
    client, task = _task(run_task)
    fake_web.serve("/x200", ARTICLE)
    settings.RB_ALLOW_PRIVATE_URLS = False
    response = _run(client, task, f"http://{host}:{fake_web.port}/x200")
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "task_input", "page"]
    assert "is not allowed" in detail["msg"]
    assert fake_web.requests == []
    assert not TaskRun.objects.exists()


def test_a_page_whose_name_rebinds_to_loopback_is_not_fetched(
    run_task, fake_llm, fake_web, fake_dns, settings
):
    """DNS rebinding: the name looks public to whoever checks it and answers
    127.0.0.1 afterwards. The fetch connects to the address it checked."""
    client, task = _task(run_task, timeout=2)
    fake_web.serve("/admin", "<h1>Internal admin</h1><p>Database passwords.</p>")
    settings.RB_ALLOW_PRIVATE_URLS = False
    fake_dns.answer("rebind.test", ["93.184.216.34"], ["93.184.216.34"], ["127.0.0.1"])
    response = _run(client, task, f"http://rebind.test:{fake_web.port}/admin")
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"].startswith(
        "url_fetcher (page): could not fetch"
    )
    assert fake_web.requests == []
    assert fake_dns.connects == ["93.184.216.34"]
    assert fake_llm.requests == []
    assert not TaskRun.objects.exists()


def test_a_redirect_is_followed_to_the_page(run_task, fake_llm, fake_web):
    client, task = _task(run_task)
    page = fake_web.serve("/x200", ARTICLE)
    moved = fake_web.redirect("/old", to=page)
    fake_llm.answer(GOOD)
    assert _run(client, task, moved).status_code == 200
    assert "crushes ice" in _prompt(fake_llm)


@pytest.mark.parametrize("value", ["", "   ", 42, ["http://x.test"]])
def test_a_value_that_is_not_a_url_is_a_422(run_task, fake_llm, fake_web, value):
    client, task = _task(run_task)
    response = _run(client, task, value)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "task_input", "page"]
    assert not TaskRun.objects.exists()


def test_a_url_that_is_not_http_is_refused(run_task, fake_llm, fake_web):
    client, task = _task(run_task)
    response = _run(client, task, "file:///etc/passwd")
    assert response.status_code == 422
    assert "http" in response.json()["detail"][0]["msg"]
