"""A task's Usage page in a real browser: the demo history is seeded, the
charts draw, and switching the range redraws them in place (HTMX, no page
load), with no error in the console (the CSP stays strict).

Debian's chromium through Playwright, against pytest-django's live server.
Screenshots go to tests/artifacts/usage/. Skipped where chromium is missing,
unless RB_REQUIRE_SERVICES makes that a failure.
"""

from __future__ import annotations

import json

import pytest

from runs_app.demo_history import demo_tasks_create
from tasks_app.catalogue import catalogue_sync
from tests.helpers import PASSWORD, artifacts_dir

pytestmark = pytest.mark.browser

ARTIFACTS = artifacts_dir("usage")

# Functions, not expressions: the page's CSP forbids evaluating strings.
ALL_DRAWN = "() => document.querySelectorAll('[data-drawn]').length === 4"
BUCKETS_ARE = """(count) => {
  const data = document.getElementById('usage-runs-chart');
  return data && JSON.parse(data.textContent).data[0].x.length === count;
}"""


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def _buckets(page) -> int:
    """How many buckets the drawn runs chart has."""
    figure = json.loads(page.text_content("#usage-runs-chart"))
    return len(figure["data"][0]["x"])


def _drawn_charts(page) -> int:
    return page.locator("[data-chart][data-drawn] .main-svg").count()


def test_switching_the_range_redraws_the_charts_in_place(
    personas, live_server, browser_page
):
    # A live server flushes tables between tests, the catalogue's seeded
    # models with them: put the demo model back first.
    catalogue_sync()
    tasks = demo_tasks_create(project=personas.project, user=personas.owner)
    task = next(task for task in tasks if task.name == "Sentiment Analyser")
    page = browser_page
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", personas.viewer.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)

    page.goto(f"{live_server.url}/projects/{personas.project.pk}/tasks/{task.pk}/usage")
    page.wait_for_function(ALL_DRAWN)
    assert _drawn_charts(page) >= 4
    assert _buckets(page) == 7
    legend = page.locator("#usage-runs-chart-title + .chart .legendtext")
    assert "succeeded" in legend.all_text_contents()
    page.screenshot(path=str(ARTIFACTS / "task-usage-7-days.png"), full_page=True)

    # A mark on the window survives an HTMX swap, not a page load.
    page.evaluate("window.__stillHere = true")
    old_chart = page.locator("[data-chart='usage-runs-chart']").element_handle()
    page.select_option("select[name=range]", "24h")
    page.wait_for_function(BUCKETS_ARE, arg=24)
    page.wait_for_function(ALL_DRAWN)
    assert page.evaluate("window.__stillHere") is True
    assert page.evaluate("(el) => !el.isConnected", old_chart)
    assert "range=24h" in page.url
    assert _buckets(page) == 24
    page.screenshot(path=str(ARTIFACTS / "task-usage-24-hours.png"), full_page=True)

    # Typing a phrase makes the range custom; Apply draws its 15 days.
    page.fill("input[name=start]", "2 weeks ago")
    assert page.input_value("select[name=range]") == "custom"
    page.click("form[data-usage-filters] button[type=submit]")
    page.wait_for_function(BUCKETS_ARE, arg=15)
    page.wait_for_function(ALL_DRAWN)
    assert page.evaluate("window.__stillHere") is True
    page.screenshot(path=str(ARTIFACTS / "task-usage-2-weeks.png"), full_page=True)
    assert problems == []
