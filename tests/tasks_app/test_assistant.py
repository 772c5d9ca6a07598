"""The task-writing assistant's service (dashboard.md §4, checklist 123–127):
offline with the demo model, and against a real model's HTTP path (the local
fake provider), whose answers go through the same guards."""

from __future__ import annotations

import re

import pytest

from rightbrain.errors import Invalid
from runs_app.models import HourlyUsage, TaskRun
from tasks_app import assistant
from tasks_app.assistant import (
    AssistantUnavailable,
    output_format_generate,
    prompt_enhance,
    settings_suggest,
)
from tasks_app.limits import ASSISTANT_PROMPT_MAX_CHARS
from tasks_app.models import LLMModel
from tasks_app.output_format import compile_output_format, normalise_output_format
from tasks_app.services import TASK_NAME
from tasks_app.variables import detect_variables

SENTIMENT = "Please conduct sentiment analysis on the {customer_review}"
CLASSIFY = "Classify the {review} as positive, negative or neutral"
PROVIDER_KEYS = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GROQ_API_KEY",
)


@pytest.fixture(autouse=True)
def _offline(settings, monkeypatch):
    """The demo model answers unless a test configures another; no provider
    key leaks in from the machine running the tests."""
    settings.RB_ASSISTANT_MODEL = ""
    for key in PROVIDER_KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def served(db, fake_llm, settings) -> LLMModel:
    """A real model behind the local OpenAI-compatible server, as the
    assistant's model."""
    model = LLMModel.objects.create(
        provider="Local",
        vendor="Local",
        name="assistant-model",
        alias="Local Assistant",
        litellm_model="openai/assistant-model",
        api_base=fake_llm.base_url,
        supports_vision=False,
        model_params={"temperature": {"type": "number", "minimum": 0, "maximum": 2}},
    )
    settings.RB_ASSISTANT_MODEL = "assistant-model"
    return model


def _sections(text: str) -> list[str]:
    return re.findall(
        r"^(Goal|Context|Input Parameters|Processing Steps):$", text, re.M
    )


# 123: prompt enhancement -------------------------------------------------------------


def test_enhance_prompt_has_four_sections_the_variable_and_a_system_prompt(db):
    enhanced = prompt_enhance(user_prompt=SENTIMENT)
    text = enhanced.enhanced_prompt
    assert _sections(text) == [
        "Goal",
        "Context",
        "Input Parameters",
        "Processing Steps",
    ]
    assert "{customer_review}" in text
    assert detect_variables(text) == ["customer_review"]
    assert "{customer_review} - " in text  # described under Input Parameters
    assert re.search(r"^1\. .+\n2\. .+\n3\. .+\n4\. .+$", text, re.M)
    assert enhanced.system_prompt.startswith("You are an expert in sentiment analysis")


def test_enhance_prompt_keeps_every_variable_in_order_and_as_spelled(db):
    prompt = (
        "Context: {{context}}\n\nQuestion: {{ question }}. Answer in {language}. "
        "Quote {context} where it helps."
    )
    text = prompt_enhance(user_prompt=prompt).enhanced_prompt
    assert detect_variables(text) == ["context", "question", "language"]
    assert "{{context}} - " in text
    assert "{{ question }} - " in text
    assert "Quote {context} where it helps." in text  # later sentences kept


def test_enhance_prompt_without_variables_says_the_task_takes_none(db):
    text = prompt_enhance(
        user_prompt="Analyse this product image and provide a quality assessment"
    ).enhanced_prompt
    assert "Input Parameters:\nNone: the task works from this prompt" in text
    assert detect_variables(text) == []


def test_a_real_models_enhancement_is_used_and_held_to_the_variables(served, fake_llm):
    fake_llm.answer(
        {
            "goal": "Judge the tone of {customer_review} and of {invented}.",
            "context": "Reviews come from an online shop.",
            "input_parameters": [
                {"name": "{customer_review}", "meaning": "the review, as {source}"},
                {"name": "invented", "meaning": "not in the prompt"},
            ],
            "processing_steps": ["1. Read the review", "- Weigh the words", "  "],
            "system_prompt": "You are a retail analyst.",
        }
    )
    enhanced = prompt_enhance(user_prompt=SENTIMENT)
    text = enhanced.enhanced_prompt
    assert "Goal:\nJudge the tone of {customer_review} and of invented." in text
    assert "Context:\nReviews come from an online shop." in text
    assert "{customer_review} - the review, as source" in text
    assert "Processing Steps:\n1. Read the review\n2. Weigh the words" in text
    assert detect_variables(text) == ["customer_review"]
    assert enhanced.system_prompt == "You are a retail analyst."
    sent = fake_llm.requests[0]
    assert sent["model"] == "assistant-model"
    assert "{customer_review}" in sent["messages"][-1]["content"]
    schema = sent["response_format"]["json_schema"]["schema"]
    assert set(schema["required"]) == set(assistant.ENHANCE_FORMAT)


def test_a_real_model_that_reorders_the_variables_has_them_named_plainly(
    served, fake_llm
):
    fake_llm.answer(
        {
            "goal": "Compare {b} with {a}.",
            "context": "",
            "input_parameters": [],
            "processing_steps": [],
            "system_prompt": "",
        }
    )
    text = prompt_enhance(user_prompt="Compare {a} with {b}").enhanced_prompt
    assert detect_variables(text) == ["a", "b"]
    assert "Goal:\nCompare b with a." in text
    assert "{a} - the a to work on" in text


# 124: output generation --------------------------------------------------------------


def test_generate_output_compiles_and_describes_every_field(db):
    prompt = (
        "Classify the {ticket} as low, medium or high priority, and route it to "
        "billing/technical/other."
    )
    output_format = output_format_generate(user_prompt=prompt).output_format
    compile_output_format(normalise_output_format(output_format))
    assert all(spec["description"] for spec in output_format.values())
    assert output_format["priority"]["options"] == ["low", "medium", "high"]
    assert output_format["category"]["options"] == ["billing", "technical", "other"]
    assert output_format["result"]["type"] == "str"


def test_generate_output_for_a_plain_prompt_gives_a_described_result(db):
    output_format = output_format_generate(user_prompt=SENTIMENT).output_format
    assert list(output_format) == ["result"]
    assert output_format["result"]["description"].startswith("The answer to the task")


def test_a_real_models_fields_are_repaired_to_compile(served, fake_llm):
    fake_llm.answer(
        {
            "fields": [
                {
                    "name": "Sentiment Label",
                    "type": "str",
                    "description": "The overall tone.",
                    "options": ["positive", "negative", "positive"],
                },
                {
                    "name": "2nd score",
                    "type": "number",
                    "description": "",
                    "options": [],
                },
                {
                    "name": "sentimentLabel",
                    "type": "str",
                    "description": "dup",
                    "options": [],
                },
                {"name": "!!!", "type": "str", "description": "no name", "options": []},
                {
                    "name": "keywords",
                    "type": "list",
                    "description": "Words.",
                    "options": ["x"],
                },
            ]
        }
    )
    output_format = output_format_generate(user_prompt=SENTIMENT).output_format
    assert output_format == {
        "sentiment_label": {
            "type": "str",
            "description": "The overall tone.",
            "options": ["positive", "negative"],
        },
        "field_2nd_score": {"type": "number", "description": "The field 2nd score."},
        "keywords": {"type": "list", "description": "Words.", "item_type": "str"},
    }
    compile_output_format(normalise_output_format(output_format))


def test_a_real_model_with_no_usable_field_gets_the_draft(served, fake_llm):
    fake_llm.answer({"fields": []})
    output_format = output_format_generate(user_prompt=CLASSIFY).output_format
    assert output_format["sentiment"]["options"] == ["positive", "negative", "neutral"]


def test_generate_output_refuses_modalities_without_fields(db):
    with pytest.raises(Invalid) as error:
        output_format_generate(user_prompt=SENTIMENT, output_modality="image")
    assert error.value.field == "output_modality"


# 125: settings suggestions -----------------------------------------------------------


def test_suggest_settings_for_a_classification_with_images(db, llm):
    suggestion = settings_suggest(user_prompt=CLASSIFY, image_required=True)
    assert TASK_NAME.match(suggestion.name)
    assert len(suggestion.name) <= 60
    assert suggestion.name == "Classify Review"
    assert suggestion.description.startswith("Classify the review as positive")
    assert suggestion.llm_model is not None
    assert suggestion.llm_model.supports_vision
    assert suggestion.task_type == "classification"
    assert suggestion.temperature_percent <= 30


@pytest.mark.parametrize(
    ("prompt", "kind", "low", "high"),
    [
        (SENTIMENT, "classification", 0, 30),
        ("Extract every date from {contract}", "extraction", 0, 30),
        ("Summarise the {article} for executives", "analysis", 30, 50),
        ("Write a short poem about {topic}", "generation", 50, 100),
    ],
)
def test_the_temperature_follows_the_band_of_the_task_type(db, prompt, kind, low, high):
    suggestion = settings_suggest(user_prompt=prompt)
    assert suggestion.task_type == kind
    assert low <= suggestion.temperature_percent <= high


def test_an_output_format_with_choices_reads_as_a_classification(db):
    suggestion = settings_suggest(
        user_prompt="Handle {ticket}",
        output_format={"team": {"type": "str", "options": ["a", "b"]}},
    )
    assert suggestion.task_type == "classification"


def test_image_output_gets_an_image_model(db, llm):
    suggestion = settings_suggest(
        user_prompt="Draw a logo for {brand}", output_modality="image"
    )
    assert suggestion.llm_model is not None
    assert suggestion.llm_model.supports_image_output


def test_real_models_with_credentials_come_before_the_demo(db, monkeypatch):
    sonnet = LLMModel.objects.get(name="claude-sonnet-4-5-20250929")
    haiku = LLMModel.objects.get(name="claude-haiku-4-5-20251001")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    # A quick, cheap model for classification; a stronger one for generation.
    assert settings_suggest(user_prompt=CLASSIFY).llm_model == haiku
    assert (
        settings_suggest(user_prompt="Write a story about {hero}").llm_model == sonnet
    )


def test_a_real_models_settings_are_repaired_and_held_to_the_band(
    served, fake_llm, llm
):
    fake_llm.answer(
        {
            "name": "Séntiment Analyser ★ (v2)! " + "x" * 80,
            "description": "  Sorts reviews\nby tone.  ",
            "task_type": "generation",
            "temperature_percent": 90,
            "llm_model": "Vision-Model",
        }
    )
    suggestion = settings_suggest(user_prompt=CLASSIFY, image_required=True)
    assert suggestion.name == "Sentiment Analyser v2"
    assert suggestion.description == "Sorts reviews by tone."
    assert suggestion.task_type == "classification"  # the prompt's words win
    assert suggestion.temperature_percent == 30
    assert suggestion.llm_model == llm.vision
    schema = fake_llm.requests[0]["response_format"]["json_schema"]["schema"]
    offered = schema["properties"]["llm_model"]["enum"]
    assert "Plain-Model" not in offered  # cannot read images
    assert "Vision-Model" in offered


# 126: determinism --------------------------------------------------------------------


def test_every_helper_answers_the_same_input_the_same_way_offline(db, llm):
    for _ in range(2):
        results = [
            prompt_enhance(user_prompt=SENTIMENT),
            output_format_generate(user_prompt=CLASSIFY),
            settings_suggest(user_prompt=CLASSIFY, image_required=True),
        ]
        if _ == 0:
            first = results
    assert results == first


# 127: no runs, no credits ------------------------------------------------------------


def test_assistant_calls_create_no_run_and_charge_no_credits(
    served, fake_llm, settings
):
    fake_llm.answer({"fields": []}).answer(
        {
            "name": "Tone",
            "description": "Tone.",
            "task_type": "analysis",
            "temperature_percent": 40,
            "llm_model": "Local Assistant",
        }
    )
    output_format_generate(user_prompt=SENTIMENT)
    settings_suggest(user_prompt=SENTIMENT)
    settings.RB_ASSISTANT_MODEL = ""  # and offline
    prompt_enhance(user_prompt=SENTIMENT)
    output_format_generate(user_prompt=SENTIMENT)
    settings_suggest(user_prompt=SENTIMENT)
    assert len(fake_llm.requests) == 2
    assert TaskRun.objects.count() == 0
    assert HourlyUsage.objects.count() == 0


# Bad input and failures --------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["", "   \n ", None, 42])
def test_an_empty_prompt_is_refused_before_any_call(db, fake_llm, served, prompt):
    for helper in (prompt_enhance, output_format_generate, settings_suggest):
        with pytest.raises(Invalid) as error:
            helper(user_prompt=prompt)
        assert error.value.field == "user_prompt"
        assert "Write a user prompt first" in error.value.message
    assert fake_llm.requests == []


def test_a_prompt_too_long_is_refused(db):
    with pytest.raises(Invalid) as error:
        prompt_enhance(user_prompt="x" * (ASSISTANT_PROMPT_MAX_CHARS + 1))
    assert "too long" in error.value.message


def test_bad_modality_and_bad_output_format_are_refused(db):
    with pytest.raises(Invalid) as error:
        settings_suggest(user_prompt=SENTIMENT, output_modality="video")
    assert error.value.field == "output_modality"
    with pytest.raises(Invalid) as error:
        settings_suggest(user_prompt=SENTIMENT, output_format={"bad name": "str"})
    assert error.value.field == "output_format"


def test_an_unknown_assistant_model_is_a_clear_error(db, settings):
    settings.RB_ASSISTANT_MODEL = "no-such-model"
    with pytest.raises(AssistantUnavailable) as error:
        prompt_enhance(user_prompt=SENTIMENT)
    assert "“no-such-model” is not an enabled catalogue model" in error.value.message
    assert error.value.status == 503


def test_the_assistant_model_may_be_named_by_id(served, fake_llm, settings):
    settings.RB_ASSISTANT_MODEL = str(served.pk)
    fake_llm.answer({"fields": []})
    output_format_generate(user_prompt=SENTIMENT)
    assert fake_llm.requests[0]["model"] == "assistant-model"


def test_a_provider_failure_is_a_clear_error(served, fake_llm):
    fake_llm.fail(503, "overloaded")
    with pytest.raises(AssistantUnavailable) as error:
        prompt_enhance(user_prompt=SENTIMENT)
    assert error.value.message.startswith("The assistant could not answer:")
    assert "overloaded" in error.value.message


def test_a_model_without_its_key_is_a_clear_error(db, settings):
    LLMModel.objects.create(
        provider="P",
        vendor="P",
        name="keyed",
        alias="Keyed",
        litellm_model="openai/keyed",
        api_key_env="RB_TEST_ABSENT_KEY",
    )
    settings.RB_ASSISTANT_MODEL = "keyed"
    with pytest.raises(AssistantUnavailable) as error:
        settings_suggest(user_prompt=SENTIMENT)
    assert "set RB_TEST_ABSENT_KEY" in error.value.message


def test_a_reply_that_never_matches_the_schema_is_an_error(served, fake_llm):
    fake_llm.answer("no json").answer({"goal": 1})
    with pytest.raises(AssistantUnavailable) as error:
        prompt_enhance(user_prompt=SENTIMENT)
    assert "did not match the output format" in error.value.message


def test_an_enhanced_prompt_is_read_by_its_goal(db):
    enhanced = prompt_enhance(user_prompt="Write a short poem about {topic}")
    suggestion = settings_suggest(user_prompt=enhanced.enhanced_prompt)
    assert suggestion.name == "Write Short Poem"
    assert suggestion.task_type == "generation"
    assert suggestion.description == "Write a short poem about topic. Input: topic."
    output_format = output_format_generate(user_prompt=enhanced.enhanced_prompt)
    assert output_format.output_format["result"]["description"] == (
        "The answer to the task: Write a short poem about topic."
    )


def test_enhancing_an_enhanced_prompt_keeps_its_sections(db):
    once = prompt_enhance(user_prompt=SENTIMENT).enhanced_prompt
    edited = once.replace(
        "the customer review to work on, given at run time", "one review, verbatim"
    )
    twice = prompt_enhance(user_prompt=edited).enhanced_prompt
    assert twice == edited
    assert _sections(twice) == [
        "Goal",
        "Context",
        "Input Parameters",
        "Processing Steps",
    ]
