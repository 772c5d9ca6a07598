"""Iterating on a task in its Run view, in a real browser (Debian's chromium
driven by Playwright against the live server, a Celery worker consuming the
in-memory transport in a thread): edit the prompt, run it with Ctrl+Enter,
watch the queued run come in by polling, save the test revision as a
revision and find it on the Revisions tab.

Screenshots go to tests/browser/artifacts/ (light, dark and 390 px wide).
"""

from __future__ import annotations

import re

import pytest

from rightbrain.celery import app as celery_app
from runs_app.models import TaskRun
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import ActiveRevision, LLMModel, Task
from tasks_app.services import RevisionSpec, task_create
from tests.helpers import PASSWORD, artifacts_dir

pytestmark = pytest.mark.browser

ARTIFACTS = artifacts_dir("run-iterate")
CHARTS_DRAWN = "() => document.querySelectorAll('#run-usage [data-drawn]').length === 2"


@pytest.fixture
def worker(broker):
    """A Celery worker in a thread, on the in-memory transport: dashboard
    runs are queued, not run inside the request."""
    # The first model call imports litellm (seconds on a busy machine): pay
    # for it here, not while the page waits.
    import litellm  # noqa: F401
    import openai  # noqa: F401
    from celery.contrib.testing.worker import start_worker

    broker("memory://")
    with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=5):
        yield


def _shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _task(personas) -> Task:
    catalogue_sync()  # a live server flushes the catalogue between tests
    demo = LLMModel.objects.get(name="rightbrain-demo")
    return task_create(
        project=personas.project,
        user=personas.owner,
        name="Review Analyser",
        revision=RevisionSpec(
            user_prompt="Please judge the {customer_review}",
            system_prompt="You read product reviews.",
            llm_model_id=demo.pk,
            output_format={
                "sentiment": {"type": "str", "options": ["positive", "negative"]},
                "key_points": {"type": "list", "item_type": "str"},
            },
            input_param_descriptions={"customer_review": "The review text"},
        ),
    )


def test_an_editor_tries_a_prompt_change_and_keeps_it(
    browser, live_server, personas, worker
):
    task = _task(personas)
    live = list(ActiveRevision.objects.filter(task=task).values_list("pk", "weight"))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else 0)
    page.on("pageerror", lambda error: problems.append(str(error)))
    polls: list[str] = []
    page.on(
        "request",
        lambda request: (
            polls.append(request.url)
            if request.headers.get("hx-target") == "run-result"
            else None
        ),
    )

    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", personas.editor.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    run_path = f"/projects/{personas.project.pk}/tasks/{task.pk}/run"
    page.goto(live_server.url + run_path)
    page.wait_for_function(CHARTS_DRAWN)
    run_button = page.get_by_role("button", name="Run task")
    assert run_button.is_disabled()  # until the review is typed
    _shot(page, "run-01-start")

    # Edit the prompt: a new variable brings its input while typing.
    page.get_by_text("Prompts, output format and models").click()
    prompt = page.locator("#run-user-prompt")
    prompt.fill("Please judge the {customer_review} in a {tone} tone.")
    page.locator("#input-tone").wait_for()
    page.fill("#input-customer_review", "The toaster exploded. Never again.")
    assert run_button.is_disabled()  # the new input is required too
    page.fill("#input-tone", "calm")
    assert run_button.is_enabled()
    _shot(page, "run-02-edited")

    # Ctrl+Enter runs it; the run is queued and the panel polls until it is done.
    page.locator("#input-tone").press("Control+Enter")
    page.locator("#run-result .badge-success").wait_for(timeout=30_000)
    assert polls, "the result came without polling"
    assert page.locator(".friendly-field dt", has_text="Key points").is_visible()
    run = TaskRun.objects.get()
    assert run.status == TaskRun.Status.SUCCEEDED
    test = run.task_revision
    assert test.test and test.input_params == ["customer_review", "tone"]
    assert run.run_data["submitted"]["tone"] == "calm"
    assert (
        list(ActiveRevision.objects.filter(task=task).values_list("pk", "weight"))
        == live
    )
    # History and usage heard the run finish.
    page.locator("#run-history .run-history li.current .badge-warning").wait_for()
    page.locator(
        "#run-usage .usage-figures dd", has_text=re.compile(r"^1$")
    ).first.wait_for()
    page.wait_for_function(CHARTS_DRAWN)
    assert page.locator("#config-title .badge", has_text="Test revision").is_visible()
    _shot(page, "run-03-test-result")

    # Keep it: a normal revision, not live.
    page.fill("#promote-note", "Asks for the tone")
    page.get_by_role("button", name="Save as revision").click()
    page.get_by_text("Saved as a new revision.").wait_for()
    saved = task.revisions.get(test=False, annotation="Asks for the tone")
    assert saved.user_prompt == test.user_prompt
    assert (
        list(ActiveRevision.objects.filter(task=task).values_list("pk", "weight"))
        == live
    )
    _shot(page, "run-04-saved")

    # It is on the Revisions tab; the test revision shows when asked for.
    page.locator(".alert-success").get_by_role("link", name="Revisions").click()
    row = page.locator(f"#revision-{saved.pk}")
    row.wait_for()
    assert "Asks for the tone" in row.inner_text()
    assert page.locator(f"#revision-{test.pk}").count() == 0
    page.get_by_role("switch", name=re.compile("Include test revisions")).click()
    page.locator(f"#revision-{test.pk} .badge-warning", has_text="Test").wait_for()
    _shot(page, "run-05-revisions")
    assert problems == []

    # The run view in the dark and on a phone.
    for scheme, width in (("dark", 1280), ("light", 390)):
        other = browser.new_context(
            viewport={"width": width, "height": 860},
            color_scheme=scheme,
            storage_state=context.storage_state(),
        )
        view = other.new_page()
        view.goto(f"{live_server.url}{run_path}?run={run.pk}")
        view.wait_for_function(CHARTS_DRAWN)
        _shot(view, f"run-06-{scheme}-{width}")
        other.close()
    context.close()
