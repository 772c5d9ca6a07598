"""An owner removes a member and finds it in the audit log, filtered by action
with htmx; a member leaves an organisation after confirming, in a real browser.

Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import pytest

from rightbrain.orgs.models import ApiKey, AuditEvent, Membership
from rightbrain.orgs.services import api_key_create
from tests.helpers import PASSWORD, artifacts_dir

pytestmark = pytest.mark.browser

ARTIFACTS = artifacts_dir()


def _sign_in(browser, live_server, email: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    return page


def test_a_removal_shows_in_the_audit_log_and_a_member_leaves(
    browser, live_server, personas
):
    api_key_create(project=personas.project, user=personas.editor, name="Script")
    owner = _sign_in(browser, live_server, personas.owner.email)
    owner.on("dialog", lambda dialog: dialog.accept())

    owner.goto(f"{live_server.url}/orgs/{personas.organization.pk}/members")
    editor_row = owner.locator(f"#member-{personas.membership(personas.editor).pk}")
    editor_row.get_by_role("button", name="Remove").click()
    owner.get_by_text(f"Removed {personas.editor.email}").wait_for()
    assert ApiKey.objects.get(user=personas.editor).revoked_at is not None

    owner.get_by_role("link", name="Audit log").first.click()
    owner.get_by_role("heading", name="Audit log").wait_for()
    assert owner.locator("[id^=event-]").count() == 3  # key made, revoked, removal
    owner.select_option("select[name=action]", "member.removed")
    owner.wait_for_url("**action=member.removed**")
    owner.locator("[id^=event-]").first.wait_for()
    assert owner.locator("[id^=event-]").count() == 1
    row = owner.locator("[id^=event-]").first
    assert personas.editor.email in row.inner_text()
    assert "api keys revoked" in row.inner_text()
    owner.screenshot(path=str(ARTIFACTS / "audit-log.png"), full_page=True)

    viewer = _sign_in(browser, live_server, personas.viewer.email)
    viewer.on("dialog", lambda dialog: dialog.accept())
    viewer.goto(live_server.url + "/settings/")
    viewer.get_by_role("button", name="Leave").click()
    viewer.get_by_text(f"You left {personas.organization.name}").wait_for()
    assert not Membership.objects.filter(user=personas.viewer).exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_LEFT).exists()
