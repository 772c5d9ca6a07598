"""The LLM gateway against a local OpenAI-compatible server and the demo model."""

from __future__ import annotations

import pytest

from tasks_app.llm import Image, LLMError, build_messages, complete
from tasks_app.models import LLMModel
from tasks_app.output_format import compile_output_format, normalise_output_format

SCHEMA = compile_output_format(
    normalise_output_format(
        {
            "sentiment": {"type": "str", "options": ["positive", "negative"]},
            "score": "int",
        }
    )
)


@pytest.fixture
def served_model(db, fake_llm) -> LLMModel:
    return LLMModel.objects.create(
        provider="Local",
        vendor="Local",
        name="fake-model",
        alias="Fake",
        litellm_model="openai/fake-model",
        api_base=fake_llm.base_url,
        supports_vision=True,
    )


@pytest.fixture
def demo_model(db) -> LLMModel:
    return LLMModel.objects.get(name="rightbrain-demo")


def _messages(text="Review: great blender"):
    return build_messages(system_prompt="You classify.", user_prompt=text)


def test_a_valid_reply_is_parsed_and_counted(served_model, fake_llm):
    fake_llm.answer(
        {"sentiment": "positive", "score": 4}, prompt_tokens=50, completion_tokens=9
    )
    reply = complete(model=served_model, messages=_messages(), schema=SCHEMA)
    assert reply.content == {"sentiment": "positive", "score": 4}
    assert (reply.input_tokens, reply.output_tokens, reply.attempts) == (50, 9, 1)
    sent = fake_llm.requests[0]
    assert sent["model"] == "fake-model"
    assert sent["messages"][0] == {"role": "system", "content": "You classify."}
    assert sent["response_format"]["json_schema"]["schema"] == SCHEMA


def test_a_reply_missing_a_field_gets_one_repair_attempt(served_model, fake_llm):
    fake_llm.answer({"sentiment": "positive"}).answer(
        {"sentiment": "negative", "score": 1}
    )
    reply = complete(model=served_model, messages=_messages(), schema=SCHEMA)
    assert reply.content == {"sentiment": "negative", "score": 1}
    assert reply.attempts == 2
    assert reply.input_tokens == 22  # both calls are counted
    repair = fake_llm.requests[1]["messages"]
    assert repair[-2]["role"] == "assistant"
    assert "score" in repair[-1]["content"]


def test_a_reply_that_never_validates_is_an_error_not_a_success(served_model, fake_llm):
    fake_llm.answer("not json at all").answer({"sentiment": "meh", "score": 1})
    with pytest.raises(LLMError) as error:
        complete(model=served_model, messages=_messages(), schema=SCHEMA)
    assert error.value.kind == "invalid_output"
    assert error.value.attempts == 2
    assert len(fake_llm.requests) == 2


def test_json_in_a_code_fence_is_accepted(served_model, fake_llm):
    fake_llm.answer('```json\n{"sentiment": "positive", "score": 2}\n```')
    reply = complete(model=served_model, messages=_messages(), schema=SCHEMA)
    assert reply.content["score"] == 2


def test_without_a_schema_the_text_comes_back(served_model, fake_llm):
    fake_llm.answer("Plain words.")
    reply = complete(model=served_model, messages=_messages())
    assert reply.content == "Plain words."
    assert "response_format" not in fake_llm.requests[0]


@pytest.mark.parametrize(
    ("status", "kind"),
    [(429, "rate_limit"), (500, "unavailable"), (401, "auth"), (400, "bad_request")],
)
def test_provider_failures_map_to_clear_kinds(served_model, fake_llm, status, kind):
    fake_llm.fail(status)
    with pytest.raises(LLMError) as error:
        complete(model=served_model, messages=_messages(), schema=SCHEMA)
    assert error.value.kind == kind
    # The gateway does not retry on its own: the engine owns the policy.
    assert len(fake_llm.requests) == 1


def test_a_slow_provider_times_out(served_model, fake_llm):
    fake_llm.slow(2.0)
    with pytest.raises(LLMError) as error:
        complete(model=served_model, messages=_messages(), timeout=0.5)
    assert error.value.kind == "timeout"


def test_images_travel_as_vision_content_parts(served_model, fake_llm):
    fake_llm.answer("A red square.")
    messages = build_messages(
        system_prompt="",
        user_prompt="Describe it",
        images=[Image("image/png", b"\x89PNG fake")],
    )
    complete(model=served_model, messages=messages)
    parts = fake_llm.requests[0]["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "Describe it"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_model_settings_are_passed_through(served_model, fake_llm):
    fake_llm.answer("ok")
    complete(model=served_model, messages=_messages(), config={"temperature": 0.3})
    assert fake_llm.requests[0]["temperature"] == 0.3


def test_a_model_without_its_key_says_which_variable_to_set(db, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = LLMModel.objects.get(name="gpt-5-mini")
    with pytest.raises(LLMError) as error:
        complete(model=model, messages=_messages())
    assert error.value.kind == "not_configured"
    assert "OPENAI_API_KEY" in error.value.message


def test_the_demo_model_answers_offline_deterministically_and_validly(demo_model):
    first = complete(model=demo_model, messages=_messages(), schema=SCHEMA)
    second = complete(model=demo_model, messages=_messages(), schema=SCHEMA)
    assert first.content == second.content
    assert set(first.content) == {"sentiment", "score"}
    assert first.content["sentiment"] in {"positive", "negative"}
    assert first.input_tokens > 0 and first.output_tokens > 0
    other = complete(
        model=demo_model, messages=_messages("Review: awful"), schema=SCHEMA
    )
    assert other.attempts == 1


def test_the_demo_model_writes_text_without_a_schema(demo_model):
    reply = complete(model=demo_model, messages=_messages())
    assert "offline demo model" in reply.content
