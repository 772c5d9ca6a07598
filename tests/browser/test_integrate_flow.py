"""Integrate in a real browser (Debian's chromium driven by Playwright against
the live server): run a task once, open Integrate, make an API key, copy the
curl command and run it with curl: a 200 run comes back with the inputs of
the run made in the browser.

Screenshots of each step go to tests/artifacts/integrate/.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from runs_app.models import TaskRun
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel, TaskMember
from tasks_app.services import RevisionSpec, task_create
from tests.helpers import PASSWORD, artifacts_dir, need_service, run_curl

pytestmark = pytest.mark.browser

ARTIFACTS = artifacts_dir("integrate")


def _shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_copied_curl_of_a_new_key_runs_the_task(
    transactional_db, browser, live_server, personas, tmp_path
):
    need_service(shutil.which("curl") is not None, "curl is not installed")
    catalogue_sync()  # the demo model answers offline
    task = task_create(
        project=personas.project,
        user=personas.owner,
        name="Review judge",
        revision=RevisionSpec(
            user_prompt="Judge {customer_review}",
            llm_model_id=LLMModel.objects.get(name="rightbrain-demo").pk,
            output_format={"sentiment": {"type": "str", "options": ["up", "down"]}},
        ),
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", personas.editor.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/projects/"))

    # Run it once in the Run view.
    page.goto(f"{live_server.url}/projects/{task.project_id}/tasks/{task.pk}/run")
    review = "Loud, but it's the best kettle I've owned"
    page.fill("#input-customer_review", review)
    page.get_by_role("button", name="Run task").click()
    # The first run loads the model gateway in the server: slow on a busy machine.
    page.locator("#run-result .badge-success").wait_for(timeout=60_000)
    _shot(page, "01-run")

    # Integrate: the call is pre-filled from that run, the key read from $RB_API_KEY.
    page.get_by_role("link", name="Integrate", exact=True).click()
    page.wait_for_url(re.compile(r"/integrate$"))
    assert "Loud, but it" in page.locator("#code-curl pre").inner_text()
    assert "$RB_API_KEY" in page.locator("#code-curl pre").inner_text()
    _shot(page, "02-integrate")
    page.locator("label[for=snippet-python]").click()
    page.locator("#code-python pre").wait_for()
    _shot(page, "03-python")
    page.locator("label[for=snippet-curl]").click()

    # Make a key: its secret goes into the examples, masked until revealed.
    page.get_by_text("+ Create a new API key").click()
    page.fill("#key_name", "Kettle reviews import")
    page.get_by_role("button", name="Create key").click()
    page.locator("#new-key-notice").wait_for()
    masked = page.locator("#code-curl pre.snippet-masked")
    assert "•" in masked.inner_text()
    _shot(page, "04-new-key")
    page.locator("#code-curl .reveal-label").click()
    revealed = page.locator("#code-curl pre.snippet-revealed").inner_text()
    assert "rbk_" in revealed
    _shot(page, "05-revealed")

    # Copy it as a user would and run it.
    page.locator("#code-curl [data-copy]").click()
    curl = page.evaluate("() => navigator.clipboard.readText()")
    assert curl == revealed
    status, body = run_curl(curl, tmp_path)
    assert status == 200, body
    run = json.loads(body)
    assert run["run_data"]["submitted"] == {"customer_review": review}
    assert run["response"]["sentiment"] in {"up", "down"}
    assert TaskRun.objects.filter(task=task, user=personas.editor).count() == 2

    # MCP: turned on here, with the URL and the new key's configuration.
    page.get_by_role("button", name="Enable MCP").click()
    page.locator("#mcp .badge-success", has_text="MCP on").wait_for()
    task.refresh_from_db()
    assert task.mcp_enabled
    page.locator("#mcp").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "06-mcp.png"), full_page=True)

    # The page on a phone and in the dark.
    for scheme, width in (("dark", 1280), ("light", 390)):
        other = browser.new_context(
            viewport={"width": width, "height": 860},
            color_scheme=scheme,
            storage_state=context.storage_state(),
        )
        view = other.new_page()
        view.goto(
            f"{live_server.url}/projects/{task.project_id}/tasks/{task.pk}/integrate"
        )
        _shot(view, f"07-integrate-{scheme}-{width}")
        other.close()
    context.close()


def test_members_and_tags_change_in_place(
    transactional_db, browser, live_server, personas, llm
):
    task = task_create(
        project=personas.project,
        user=personas.owner,
        name="Lead scorer",
        revision=RevisionSpec(user_prompt="Score {lead}", llm_model_id=llm.plain.pk),
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", personas.owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/projects/"))
    base = f"{live_server.url}/projects/{task.project_id}/tasks/{task.pk}"

    # Members: add the viewer as an editor of this task, then make them a viewer.
    page.goto(base + "/members")
    page.select_option("#id_member", f"user:{personas.viewer.pk}")
    page.select_option("#id_role", "editor")
    page.get_by_role("button", name="Add member").click()
    page.locator("#members-panel .message", has_text="is now editor").wait_for()
    row = page.locator("tr", has_text="Viewer Person")
    row.locator("select").select_option("viewer")
    page.locator("#members-panel .message", has_text="Changed the role").wait_for()
    assert TaskMember.objects.get(task=task, subject_id=personas.viewer.pk).role == (
        "viewer"
    )
    _shot(page, "08-members")

    # Tags: a bad name is refused inline, a good one made under a parent.
    page.goto(base + "/revisions")
    page.fill("#tag-name", "pre-prod")
    page.get_by_role("button", name="Create and add").click()
    page.locator("#tag-name-error").wait_for()
    _shot(page, "09-tag-error")
    page.fill("#tag-name", "sales")
    page.get_by_role("button", name="Create and add").click()
    page.locator(".tag-chip", has_text="sales").wait_for()
    page.fill("#tag-name", "leads")
    page.select_option("#tag-parent", label="under sales")
    page.get_by_role("button", name="Create and add").click()
    page.locator(".tag-chip", has_text="sales / leads").wait_for()
    page.get_by_role("button", name="Remove the tag sales", exact=True).click()
    page.locator(".tag-chip").nth(1).wait_for(state="detached")
    assert set(task.tags.values_list("name", flat=True)) == {"leads"}
    _shot(page, "10-tags")
    assert problems == []
    context.close()
