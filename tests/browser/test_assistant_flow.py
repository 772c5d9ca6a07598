"""The assistant in the editor, in a real browser: enhance a short prompt and
insert it, accept the suggested output fields, use the suggested settings,
then create the task from it all.

Screenshots go to tests/artifacts/assistant-*.png.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from rightbrain.orgs.services import organization_create
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel, Task
from tests.helpers import PASSWORD, artifacts_dir, make_user

pytestmark = pytest.mark.browser

ARTIFACTS = artifacts_dir()
PROMPT = "Please conduct sentiment analysis on the {customer_review}"


def _shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"assistant-{name}.png"), full_page=True)


def test_an_editor_writes_a_task_with_the_assistant(
    browser, transactional_db, live_server, settings, monkeypatch
):
    catalogue_sync()  # the live server's flush took the demo model with it
    settings.RB_ASSISTANT_MODEL = ""
    for key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    # A local model the instance can reach: the suggestion prefers it to the demo.
    local = LLMModel.objects.create(
        provider="Local",
        vendor="Local",
        name="local-model",
        alias="Local Model",
        litellm_model="openai/local-model",
        api_base="http://127.0.0.1:9/v1",
        model_params={"temperature": {"type": "number", "minimum": 0, "maximum": 2}},
        input_price_per_mtok=Decimal("0.10"),
        output_price_per_mtok=Decimal("0.40"),
    )
    owner = make_user("writer@example.test", "Wren Writer")
    project = organization_create(name="Acme", owner=owner).projects.get()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", "writer@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/projects/"))
    page.goto(live_server.url + reverse("task_create", args=[project.pk]))

    # An empty prompt: the assistant says what it needs, inline.
    page.get_by_role("button", name="Enhance prompt").click()
    page.locator(
        "#assistant-prompt [role=alert]", has_text="Write a user prompt"
    ).wait_for()

    # Enhance, review, insert: both prompts are replaced, nothing is saved.
    page.locator("#id_user_prompt").fill(PROMPT)
    page.get_by_role("button", name="Enhance prompt").click()
    suggestion = page.locator("#assistant-prompt [data-assistant-suggestion]")
    # The first model call loads litellm into the server: allow for it.
    suggestion.get_by_text("Processing Steps:").wait_for(timeout=90_000)
    _shot(page, "01-enhance-suggestion")
    page.emulate_media(color_scheme="dark")
    _shot(page, "01-enhance-suggestion-dark")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "01-enhance-suggestion-narrow")
    page.set_viewport_size({"width": 1280, "height": 900})
    suggestion.get_by_role("button", name="Insert prompt").click()
    page.locator("#assistant-prompt .assistant-done").wait_for()
    user_prompt = page.locator("#id_user_prompt").input_value()
    assert user_prompt.startswith("Goal:\nConduct sentiment analysis")
    assert "{customer_review} - " in user_prompt
    assert (
        page.locator("#id_system_prompt").input_value().startswith("You are an expert")
    )
    assert page.locator("#id_system_prompt").is_visible()
    page.locator("#variable-chips code", has_text="customer_review").wait_for()
    _shot(page, "02-enhance-inserted")

    # Generate output: accept all; the fields editor shows them.
    page.locator("[data-tab=io]").click()
    page.get_by_role("button", name="Generate output").click()
    fields = page.locator("#assistant-output [data-assistant-suggestion]")
    fields.get_by_role("button", name="Accept all").wait_for()
    _shot(page, "03-output-suggestion")
    fields.get_by_role("button", name="Accept all").click()
    page.locator("#schema-visual .property-list", has_text="result").wait_for()
    assert '"result"' in page.locator("#id_output_format").input_value()
    _shot(page, "04-output-accepted")

    # Settings: use all of them.
    page.locator("[data-tab=settings]").click()
    page.get_by_role("button", name="Suggest settings").click()
    settings_card = page.locator("#assistant-settings [data-assistant-suggestion]")
    settings_card.get_by_role("button", name="Use all").wait_for()
    _shot(page, "05-settings-suggestion")
    settings_card.get_by_role("button", name="Use all").click()
    # Choosing the model redraws its settings, keeping the suggested temperature.
    page.locator("#model-settings .model-card", has_text="Local Model").wait_for()
    assert page.locator("#id_llm_model").input_value() == str(local.pk)
    assert page.locator("#id_name").input_value() == "Sentiment Analysis"
    assert page.locator("#id_temperature").input_value() == "20"
    assert page.locator("#id_description").input_value().startswith("Conduct sentiment")
    _shot(page, "06-settings-used")
    assert not Task.objects.exists()

    page.get_by_role("button", name="Create task").click()
    page.wait_for_url(re.compile(r"/run$"))
    task = Task.objects.get()
    revision = task.revisions.get()
    assert task.name == "Sentiment Analysis"
    assert revision.user_prompt.startswith("Goal:")
    assert revision.input_params == ["customer_review"]
    assert revision.system_prompt.startswith("You are an expert")
    assert revision.llm_config["temperature"] == 0.2
    assert revision.llm_model == local
    assert revision.output_format is not None
    assert "result" in revision.output_format
    context.close()
