"""The dashboard as a new user meets it, in a real browser (Debian's chromium
driven by Playwright against the live server): sign up, create a task through
the three tabs, run it, edit it into a new revision, split traffic, compare
the two revisions side by side, and run the task with the curl the Integrate
tab shows.

Screenshots of each step go to tests/artifacts/ (light, dark and 390 px wide).
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from runs_app.models import TaskRun
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import ActiveRevision, Task
from tests.helpers import PASSWORD, artifacts_dir, need_service, run_curl

pytestmark = pytest.mark.browser

ARTIFACTS = artifacts_dir()


def _shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_new_user_creates_runs_edits_and_splits_a_task(
    browser, live_server, tmp_path
):
    need_service(shutil.which("curl") is not None, "curl is not installed")
    catalogue_sync()  # the demo model answers offline
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    # Generous: a busy machine (CI running other suites) can be slow.
    page.set_default_timeout(30_000)

    # Sign up: the empty project offers to create a task or start from a template.
    page.goto(live_server.url + "/accounts/signup/")
    page.fill("input[name=email]", "newcomer@example.test")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("heading", name="No tasks yet").wait_for()
    assert page.get_by_role("link", name="Start from a template").is_visible()
    _shot(page, "01-empty-project")

    # Prompts: the variable is found while typing, before anything is saved.
    page.get_by_role("link", name="Create task").first.click()
    prompt = page.locator("#id_user_prompt")
    prompt.click()
    prompt.press_sequentially(
        "Please conduct sentiment analysis on the {customer_review}", delay=5
    )
    page.locator("#variable-chips code", has_text="customer_review").wait_for()
    _shot(page, "02-prompts")

    # I/O: the input is there; three output properties, an enum and a list.
    page.locator("[data-tab=io]").click()
    page.locator("#input-customer_review").wait_for()
    assert Task.objects.count() == 0
    _add_property(
        page, "sentiment", "str", "Overall tone", enum="positive, negative, neutral"
    )
    _add_property(page, "key_points", "str", "What the review says", array=True)
    _add_property(page, "score", "int", "0 to 10")
    page.locator("label[for=schema-view-json]").click()
    schema = page.locator("#id_output_format").input_value()
    assert '"key_points"' in schema and '"options"' in schema
    page.locator("label[for=schema-view-visual]").click()
    _shot(page, "03-io")

    # Settings: the name rule is checked inline, then the task is created.
    page.locator("[data-tab=settings]").click()
    page.fill("#id_name", "Review_Analyser")
    page.locator("#name-errors", has_text="letters, digits, spaces").wait_for()
    page.fill("#id_name", "Review Analyser")
    page.locator("#name-errors p").wait_for(state="detached")
    page.locator("#id_temperature").fill("30")
    _shot(page, "04-settings")
    page.get_by_role("button", name="Create task").click()
    page.wait_for_url(re.compile(r"/run$"))
    task = Task.objects.get()
    revision = task.revisions.get()
    assert revision.llm_config["temperature"] == 0.3
    assert revision.input_params == ["customer_review"]

    # Run with Ctrl+Enter: the friendly output, then the complete JSON.
    page.fill("#input-customer_review", "The toaster exploded. Never again.")
    page.locator("#input-customer_review").press("Control+Enter")
    page.locator("#run-result .badge-success").wait_for()
    assert page.locator(".friendly-field dt", has_text="Key points").is_visible()
    assert page.locator(".friendly-list li").count() >= 1
    _shot(page, "05-run-result")
    page.locator("label[for=result-view-json]").click()
    assert '"task_revision_id"' in page.locator(".json-view").inner_text()
    _shot(page, "06-run-json")
    assert TaskRun.objects.filter(task=task, is_error=False).count() == 1

    # Edit the prompt: a new revision, not live.
    page.get_by_role("link", name="Edit", exact=True).first.click()
    page.locator("#id_user_prompt").fill(
        "Please conduct sentiment analysis on the {customer_review}. Be brief."
    )
    page.locator("[data-tab=settings]").click()
    page.locator("#id_make_live").uncheck()
    page.get_by_role("button", name="Save revision").click()
    page.wait_for_url(re.compile(r"/run$"))
    assert task.revisions.count() == 2

    # Split traffic 50/50 between the two revisions.
    page.get_by_role("link", name="Revisions", exact=True).click()
    newest = task.revisions.order_by("-created").first()
    page.locator(f"#revision-{newest.pk}").get_by_role(
        "button", name="Split 50/50 with current"
    ).click()
    page.locator(".traffic-row").nth(1).wait_for()
    weights = sorted(
        ActiveRevision.objects.filter(task=task).values_list("weight", flat=True)
    )
    assert [float(w) for w in weights] == [0.5, 0.5]
    _shot(page, "07-revisions")

    # Compare the two live revisions on one input, side by side: the demo
    # model's sentiment and score differ between the two prompts here.
    page.get_by_role("link", name="Compare", exact=True).click()
    page.wait_for_url(re.compile(r"/compare$"))
    assert page.locator("[data-compare-revision]:checked").count() == 2
    run_button = page.get_by_role("button", name="Run comparison")
    assert run_button.is_disabled()  # the input is still empty
    page.locator("[data-compare-revision]").first.uncheck()
    page.locator("[data-compare-count]", has_text="1 chosen").wait_for()
    page.locator("[data-compare-revision]").first.check()
    page.fill(
        "#input-customer_review", "Burnt my bagel twice, but the design is lovely."
    )
    assert run_button.is_enabled()
    run_button.click()
    page.locator("#compare-results").wait_for()
    page.wait_for_url(re.compile(r"/compare\?revisions=.+&runs="))
    assert page.locator(".compare-head").count() == 2
    assert page.locator("tr.compare-differs").count() == 2
    assert page.locator("td.compare-cell-differs").count() == 4
    assert TaskRun.objects.filter(task=task).count() == 3
    compare_path = page.url.removeprefix(live_server.url)
    _shot(page, "07b-compare")
    page.locator("#compare-only-differences").check()
    assert not page.locator("tr.compare-same").first.is_visible()
    assert page.locator("tr.compare-differs").first.is_visible()

    # Integrate: make a key, copy the curl as shown and run it from here.
    page.get_by_role("link", name="Integrate", exact=True).click()
    page.wait_for_url(re.compile(r"/integrate$"))
    page.get_by_text("+ Create a new API key").click()
    page.fill("#key_name", "From the flow")
    page.get_by_role("button", name="Create key").click()
    page.locator("#new-key-notice").wait_for()
    page.locator("#code-curl .reveal-label").click()
    page.locator("#code-curl [data-copy]").click()
    curl = page.evaluate("() => navigator.clipboard.readText()")
    assert curl.startswith("curl") and "rbk_" in curl
    _shot(page, "07c-integrate")
    status, body = run_curl(curl, tmp_path)
    assert status == 200, body
    assert json.loads(body)["task_id"] == str(task.pk)
    assert TaskRun.objects.filter(task=task).count() == 4

    # The same pages in the dark and on a phone.
    for scheme, width in (("dark", 1280), ("light", 390), ("dark", 390)):
        other = browser.new_context(
            viewport={"width": width, "height": 860},
            color_scheme=scheme,
            storage_state=context.storage_state(),
        )
        view = other.new_page()
        for name, path in (
            ("home", "/"),
            (
                "create",
                f"/projects/{task.project_id}/tasks/new?template=invoice-extractor",
            ),
            ("run", f"/projects/{task.project_id}/tasks/{task.pk}/run"),
            ("revisions", f"/projects/{task.project_id}/tasks/{task.pk}/revisions"),
            ("compare", compare_path),
        ):
            view.goto(live_server.url + path)
            _shot(view, f"08-{name}-{scheme}-{width}")
        other.close()
    context.close()


def _add_property(page, name, kind, description, *, enum="", array=False):
    page.fill("#id_prop_name", name)
    page.select_option("#id_prop_type", kind)
    page.fill("#id_prop_description", description)
    if array:
        page.check("#id_prop_array")
    if enum:
        page.fill("#id_prop_options", enum)
    page.locator("[data-property-save]").click()
    page.locator(".property-name code", has_text=name).wait_for()
