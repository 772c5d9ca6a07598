"""The assistant in the task editor: its buttons, the suggestion fragments,
the page without script, who may ask, and that nothing is saved."""

from __future__ import annotations

import html
import json

import pytest
from django.test import Client
from django.urls import reverse

from runs_app.models import HourlyUsage, TaskRun
from tasks_app.models import Task, TaskMember, TaskRevision
from tasks_app.services import RevisionSpec, task_create

HX = {"HX-Request": "true"}
SENTIMENT = "Please conduct sentiment analysis on the {customer_review}"


@pytest.fixture(autouse=True)
def _offline(settings, monkeypatch):
    settings.RB_ASSISTANT_MODEL = ""
    for key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(key, raising=False)


def _url(personas, helper: str, task: Task | None = None) -> str:
    if task is None:
        return reverse("assistant", args=[personas.project.pk, helper])
    return reverse("task_assistant", args=[personas.project.pk, task.pk, helper])


@pytest.fixture
def editor_form(llm):
    """What the editor form posts, as the assistant buttons send it."""

    def data(**overrides):
        return {
            "name": "",
            "description": "",
            "user_prompt": SENTIMENT,
            "system_prompt": "",
            "output_modality": "json",
            "output_format": "",
            "llm_model": str(llm.plain.pk),
            "temperature_set": "on",
            "temperature": "30",
            **overrides,
        }

    return data


@pytest.fixture
def existing(personas, llm) -> Task:
    return task_create(
        project=personas.project,
        user=personas.owner,
        name="Existing",
        revision=RevisionSpec(user_prompt="Review {review}", llm_model_id=llm.plain.pk),
    )


# The buttons in the editor ---------------------------------------------------------


def test_create_task_offers_the_three_helpers(personas, as_user, llm):
    page = as_user("editor").get(reverse("task_create", args=[personas.project.pk]))
    text = page.text
    for helper, label in (
        ("enhance-prompt", "Enhance prompt"),
        ("generate-output", "Generate output"),
        ("suggest-settings", "Suggest settings"),
    ):
        assert f'hx-post="{_url(personas, helper)}"' in text
        assert f'formaction="{_url(personas, helper)}"' in text
        assert label in text
    assert text.index("Enhance prompt") < text.index('id="tab-io"')
    assert text.index('id="tab-io"') < text.index("Generate output")
    assert text.index("Generate output") < text.index('id="tab-settings"')
    assert text.index('id="tab-settings"') < text.index("Suggest settings")


def test_the_task_editor_asks_through_the_tasks_own_urls(personas, as_user, existing):
    page = as_user("editor").get(
        reverse("task_edit", args=[personas.project.pk, existing.pk])
    )
    assert f'hx-post="{_url(personas, "enhance-prompt", existing)}"' in page.text


# Enhance prompt ----------------------------------------------------------------------


def test_enhance_prompt_answers_a_fragment_to_review_and_insert(
    personas, as_user, editor_form
):
    response = as_user("editor").post(
        _url(personas, "enhance-prompt"), editor_form(), headers=HX
    )
    assert response.status_code == 200
    text = response.text
    assert "<html" not in text
    assert "Goal:\nConduct sentiment analysis on the {customer_review}" in text
    assert "{customer_review} - " in text
    assert 'data-assistant-text="system_prompt">You are an expert' in text
    assert "data-assistant-insert" in text
    assert "Keep editing" in text


def test_without_script_the_suggestion_is_a_page(personas, as_user, editor_form):
    response = as_user("editor").post(_url(personas, "enhance-prompt"), editor_form())
    assert response.status_code == 200
    assert "<html" in response.text
    assert "Assistant suggestion" in response.text
    assert "Processing Steps:" in response.text
    assert "data-assistant-insert" not in response.text


def test_an_empty_prompt_is_an_inline_error(personas, as_user, editor_form):
    client = as_user("editor")
    fragment = client.post(
        _url(personas, "enhance-prompt"), editor_form(user_prompt="  "), headers=HX
    )
    assert fragment.status_code == 200  # so htmx swaps it in
    assert 'role="alert"' in fragment.text
    assert "Write a user prompt first" in fragment.text
    page = client.post(_url(personas, "enhance-prompt"), editor_form(user_prompt=""))
    assert page.status_code == 422
    assert "Write a user prompt first" in page.text


def test_the_prompt_is_escaped(personas, as_user, editor_form):
    response = as_user("editor").post(
        _url(personas, "enhance-prompt"),
        editor_form(user_prompt="Judge <script>alert(1)</script> {text}"),
        headers=HX,
    )
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_a_provider_failure_is_an_inline_error(
    personas, as_user, editor_form, settings, fake_llm
):
    from tasks_app.models import LLMModel

    LLMModel.objects.create(
        provider="Local",
        vendor="Local",
        name="flaky",
        alias="Flaky",
        litellm_model="openai/flaky",
        api_base=fake_llm.base_url,
    )
    settings.RB_ASSISTANT_MODEL = "flaky"
    fake_llm.fail(500, "boom")
    client = as_user("editor")
    fragment = client.post(_url(personas, "enhance-prompt"), editor_form(), headers=HX)
    assert fragment.status_code == 200
    assert "The assistant could not answer" in fragment.text
    fake_llm.fail(500, "boom")
    page = client.post(_url(personas, "enhance-prompt"), editor_form())
    assert page.status_code == 503


# Generate output ---------------------------------------------------------------------


def test_generate_output_lists_fields_to_accept_one_by_one_or_all(
    personas, as_user, editor_form
):
    response = as_user("editor").post(
        _url(personas, "generate-output"),
        editor_form(
            user_prompt="Classify the {review} as positive, negative or neutral"
        ),
        headers=HX,
    )
    assert response.status_code == 200
    text = response.text
    assert "Accept all" in text
    assert (
        '<code class="input-name">sentiment</code> <span class="badge">Enum</span>'
        in (text)
    )
    attributes = [
        json.loads(html.unescape(part.split('"', 1)[0]))
        for part in text.split('data-assistant-field="')[1:]
    ]
    assert attributes == [
        {
            "result": {
                "type": "str",
                "description": attributes[0]["result"]["description"],
            }
        },
        {
            "sentiment": {
                "type": "str",
                "description": "One of: positive, negative, neutral.",
                "options": ["positive", "negative", "neutral"],
            }
        },
    ]


def test_generate_output_for_an_image_task_says_there_are_no_fields(
    personas, as_user, editor_form
):
    response = as_user("editor").post(
        _url(personas, "generate-output"),
        editor_form(output_modality="image"),
        headers=HX,
    )
    assert "Only text output (JSON) has fields" in response.text


# Suggest settings --------------------------------------------------------------------


def test_suggest_settings_offers_each_setting(personas, as_user, editor_form, llm):
    response = as_user("editor").post(
        _url(personas, "suggest-settings"),
        editor_form(
            user_prompt="Classify the {review} as positive or negative",
            image_required="on",
        ),
        headers=HX,
    )
    assert response.status_code == 200
    text = response.text
    assert 'data-assistant-set="name" data-value="Classify Review"' in text
    assert 'data-assistant-set="temperature" data-value="20"' in text
    assert "classification task, 0–30 %" in text
    assert f'data-assistant-set="llm_model" data-value="{llm.vision.pk}"' in text
    assert "Use all" in text


def test_suggest_settings_needs_a_readable_output_format(
    personas, as_user, editor_form
):
    response = as_user("editor").post(
        _url(personas, "suggest-settings"),
        editor_form(output_format="{not json"),
        headers=HX,
    )
    assert "Fix the output format on the I/O tab first" in response.text


# Who may ask -------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), [("viewer", 403), ("outsider", 404)])
def test_viewers_are_refused_and_outsiders_find_nothing(
    personas, as_user, editor_form, existing, persona, status
):
    client = as_user(persona)
    for helper in ("enhance-prompt", "generate-output", "suggest-settings"):
        assert client.post(_url(personas, helper), editor_form()).status_code == status
        response = client.post(_url(personas, helper, existing), editor_form())
        assert response.status_code == status


def test_a_viewer_with_an_editor_grant_may_ask_in_that_tasks_editor(
    personas, as_user, editor_form, existing
):
    TaskMember.objects.create(
        task=existing, subject_type="user", subject_id=personas.viewer.pk, role="editor"
    )
    client = as_user("viewer")
    url = _url(personas, "enhance-prompt", existing)
    assert client.post(url, editor_form(), headers=HX).status_code == 200
    assert (
        client.post(_url(personas, "enhance-prompt"), editor_form()).status_code == 403
    )


def test_an_unknown_helper_is_404_and_reading_is_405(personas, as_user, editor_form):
    client = as_user("editor")
    assert (
        client.post(_url(personas, "write-my-task"), editor_form()).status_code == 404
    )
    assert client.get(_url(personas, "enhance-prompt")).status_code == 405


def test_signed_out_visitors_go_to_the_login(personas, editor_form):
    response = Client().post(_url(personas, "enhance-prompt"), editor_form())
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_the_csrf_token_is_required(personas, editor_form):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.editor)
    response = client.post(_url(personas, "enhance-prompt"), editor_form())
    assert response.status_code == 403


# Nothing is saved --------------------------------------------------------------------


def test_asking_saves_nothing_and_charges_nothing(
    personas, as_user, editor_form, existing
):
    client = as_user("owner")
    for helper in ("enhance-prompt", "generate-output", "suggest-settings"):
        for url in (_url(personas, helper), _url(personas, helper, existing)):
            assert client.post(url, editor_form(), headers=HX).status_code == 200
    assert Task.objects.count() == 1
    assert TaskRevision.objects.count() == 1
    existing.refresh_from_db()
    assert existing.name == "Existing"
    assert not TaskRun.objects.exists()
    assert not HourlyUsage.objects.exists()


def test_enhance_prompt_queries_are_fixed(
    personas, as_user, editor_form, existing, django_assert_num_queries
):
    client = as_user("editor")
    url = _url(personas, "enhance-prompt", existing)
    client.post(url, editor_form(), headers=HX)
    # 1 session, 2 user, 3 project with role, 4 task, 5 caller's grants,
    # 6 the assistant's model.
    with django_assert_num_queries(6):
        assert client.post(url, editor_form(), headers=HX).status_code == 200


def test_suggest_settings_queries_do_not_grow_with_the_catalogue(
    personas, as_user, editor_form, django_assert_num_queries
):
    from tasks_app.models import LLMModel

    client = as_user("editor")
    url = _url(personas, "suggest-settings")
    client.post(url, editor_form(), headers=HX)
    for n in range(5):
        LLMModel.objects.create(
            provider="P", vendor="P", name=f"m{n}", alias=f"M{n}", litellm_model="x/y"
        )
    # 1 session, 2 user, 3 project with role, 4 the catalogue's models,
    # 5 the assistant's model.
    with django_assert_num_queries(5):
        assert client.post(url, editor_form(), headers=HX).status_code == 200


def test_without_script_the_fields_are_shown_as_a_format_to_copy(
    personas, as_user, editor_form
):
    response = as_user("editor").post(_url(personas, "generate-output"), editor_form())
    assert response.status_code == 200
    assert "As an output format" in response.text
    assert "&quot;result&quot;: {" in response.text
    assert "data-assistant-field" not in response.text
