"""The share flow in a real browser (checklist 142): open a share link signed
out, run it, sign up, clone it and land in the cloned task's project.

Debian's chromium through Playwright, against pytest-django's live server and
the fake LLM provider. Screenshots go to tests/artifacts/sharing/. Skipped
where chromium is missing, unless RB_REQUIRE_SERVICES makes that a failure.
"""

from __future__ import annotations

import pytest

from sharing.models import ShareRun, TaskShare
from tasks_app.models import Task
from tests.helpers import PASSWORD, artifacts_dir

pytestmark = pytest.mark.browser

ARTIFACTS = artifacts_dir("sharing")


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_open_a_link_signed_out_run_it_sign_up_and_clone_it(
    shared, fake_llm, live_server, browser_page, settings
):
    settings.SITE_ROOT = live_server.url
    share = shared.share(
        custom_short_id="demo",
        title="Review reader",
        description="Paste a product review and see how the customer feels.",
        allow_inputs=True,
        max_uses=20,
    )
    fake_llm.answer({"sentiment": "negative", "confident": True, "reasons": ["noisy"]})
    page = browser_page

    page.goto(f"{live_server.url}/s/demo")
    assert page.title().startswith("Review reader")
    page.get_by_role("heading", name="Review reader").wait_for()
    assert page.get_by_text("Arrived quickly and works well").count() >= 1
    _shot(page, "01-share-page-signed-out")

    page.get_by_role("textbox", name="Review").fill("Loud fan and it broke in a week.")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("heading", name="Result").wait_for()
    result = page.locator(".share-result")
    assert "negative" in result.inner_text()
    assert "noisy" in result.inner_text()
    _shot(page, "02-share-run-result")

    page.get_by_role("link", name="Create an account").click()
    page.wait_for_url("**/accounts/signup/**")
    page.get_by_label("Email").fill("visitor@example.test")
    page.get_by_label("Password", exact=True).fill("a-long-enough-passphrase")
    page.get_by_label("Password (again)").fill("a-long-enough-passphrase")
    _shot(page, "03-sign-up")
    page.get_by_role("button", name="Sign up").click()

    page.wait_for_url("**/s/demo/clone")
    page.get_by_role("heading", name="Clone “Review Sentiment”").wait_for()
    _shot(page, "04-choose-project")
    page.get_by_role("button", name="Clone to this project").click()

    page.wait_for_url("**/projects/**")
    page.get_by_text("Cloned “Review Sentiment” into Default project").wait_for()
    _shot(page, "05-cloned-task")

    clone = Task.objects.get(created_by__email="visitor@example.test")
    assert clone.cloned_from_task_revision_id == shared.revision.pk
    assert page.url.endswith(f"/projects/{clone.project_id}/tasks/{clone.pk}/run")
    run = ShareRun.objects.get(share=share).task_run
    assert run.run_data == {"submitted": {"review": "Loud fan and it broke in a week."}}
    share.refresh_from_db()
    assert share.use_count == 2  # one run, one clone


@pytest.mark.django_db(transaction=True)
def test_an_editor_creates_copies_and_revokes_a_link_in_the_dashboard(
    shared, personas, live_server, browser_page, settings
):
    settings.SITE_ROOT = live_server.url
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(personas.editor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/projects/**")

    page.goto(
        f"{live_server.url}/projects/{personas.project.pk}/tasks/{shared.task.pk}/shares"
    )
    page.get_by_label("Title").fill("Launch demo")
    page.get_by_label("Maximum uses").fill("25")
    page.get_by_label("Custom short id").fill("lnch")
    page.get_by_label("Visitors may enter their own inputs").check()
    page.get_by_role("button", name="Create link").click()
    page.get_by_role("heading", name="Your new share link").wait_for()
    assert page.locator("code[data-copy]").first.inner_text().endswith("/s/lnch")
    _shot(page, "06-dashboard-link-created")

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    page.get_by_text("Revoked /s/lnch").wait_for()
    _shot(page, "07-dashboard-link-revoked")

    page.goto(f"{live_server.url}/projects/{personas.project.pk}/shares")
    page.get_by_role("link", name="Review Sentiment").wait_for()
    _shot(page, "08-project-shares")

    share = TaskShare.objects.get(short_id="lnch")
    assert not share.active and share.max_uses == 25 and share.allow_inputs
