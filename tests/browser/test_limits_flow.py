"""Limits and budgets in a real browser: an admin opens a key's limits on the
API clients page and a project's on the Projects page, saves a budget over
htmx, and the row shows it.

Screenshots of each step go to tests/artifacts/limits/.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from rightbrain.orgs.models import ApiKey, Project
from rightbrain.orgs.services import api_key_create
from tests.helpers import PASSWORD, artifacts_dir

pytestmark = pytest.mark.browser

ARTIFACTS = artifacts_dir("limits")


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_an_admin_sets_a_keys_and_a_projects_budget_in_the_browser(
    transactional_db, browser, live_server, personas
):
    api_key_create(
        project=personas.project, user=personas.editor, name="Nightly import"
    )
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", personas.admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/projects/"))

    page.goto(f"{live_server.url}/projects/{personas.project.pk}/api-clients")
    page.get_by_label("Limits and budget of Nightly import").click()
    page.get_by_label("Runs per minute").fill("20")
    page.get_by_label("Monthly credit budget").fill("250")
    _shot(page, "01-key-limits")
    page.get_by_role("button", name="Save limits").click()
    page.get_by_text("Saved the limits and budget of “Nightly import”.").wait_for()
    assert page.get_by_text(
        "20 runs a minute, budget 250.00 credits a month"
    ).is_visible()
    _shot(page, "02-key-saved")
    key = ApiKey.objects.get(name="Nightly import")
    assert (key.runs_per_minute, key.monthly_credit_budget) == (20, Decimal(250))

    page.goto(f"{live_server.url}/orgs/{personas.organization.pk}/projects")
    page.get_by_label("Limits and budget of Default project").click()
    budget = page.locator(f"#limits-{personas.project.pk}-monthly_credit_budget")
    budget.fill("-4")
    page.get_by_role("button", name="Save limits").click()
    page.get_by_text("Ensure this value is greater than or equal to 0.").wait_for()
    _shot(page, "03-project-refused")
    budget.fill("1000")
    page.get_by_role("button", name="Save limits").click()
    page.get_by_text("Saved the limits and budget of Default project.").wait_for()
    _shot(page, "04-project-saved")
    assert Project.objects.get(pk=personas.project.pk).monthly_credit_budget == 1000
