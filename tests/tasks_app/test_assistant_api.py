"""The assistant over JSON: who may call it, what it answers, its errors."""

from __future__ import annotations

from typing import Any

import pytest

from runs_app.models import HourlyUsage, TaskRun
from tasks_app.models import LLMModel, Task
from tasks_app.output_format import compile_output_format, normalise_output_format
from tasks_app.services import TASK_NAME
from tests.helpers import ApiClient

SENTIMENT = "Please conduct sentiment analysis on the {customer_review}"
ENHANCE = "/assistant/enhance-prompt"
GENERATE = "/assistant/generate-output"
SUGGEST = "/assistant/suggest-settings"
BODIES: dict[str, dict[str, Any]] = {
    ENHANCE: {"user_prompt": SENTIMENT},
    GENERATE: {"user_prompt": SENTIMENT, "output_modality": "json"},
    SUGGEST: {"user_prompt": SENTIMENT, "image_required": True},
}


@pytest.fixture(autouse=True)
def _offline(settings, monkeypatch):
    settings.RB_ASSISTANT_MODEL = ""
    for key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(key, raising=False)


def test_enhance_prompt_answers_the_prompt_and_a_system_prompt(api):
    response = api("editor").post(ENHANCE, BODIES[ENHANCE])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"enhanced_prompt", "system_prompt"}
    for section in ("Goal:", "Context:", "Input Parameters:", "Processing Steps:"):
        assert section in body["enhanced_prompt"]
    assert "{customer_review}" in body["enhanced_prompt"]
    assert body["system_prompt"]


def test_generate_output_answers_a_format_that_compiles(api):
    response = api("editor").post(
        GENERATE, {"user_prompt": "Rate {ticket} as low, medium or high"}
    )
    assert response.status_code == 200
    output_format = response.json()["output_format"]
    compile_output_format(normalise_output_format(output_format))
    assert all(spec["description"] for spec in output_format.values())
    assert output_format["priority"]["options"] == ["low", "medium", "high"]


def test_suggest_settings_answers_name_description_model_and_temperature(api):
    response = api("editor").post(
        SUGGEST,
        {
            "user_prompt": "Classify the {review} as positive or negative",
            "image_required": True,
            "output_format": [{"name": "label", "description": "The label"}],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert TASK_NAME.match(body["name"])
    assert body["description"]
    assert LLMModel.objects.get(pk=body["llm_model_id"]).supports_vision
    assert body["temperature_percent"] <= 30
    assert body["task_type"] == "classification"


def test_the_same_body_gets_the_same_answer(api):
    client = api("editor")
    for path, body in BODIES.items():
        assert client.post(path, body).json() == client.post(path, body).json()


def test_assistant_calls_store_nothing(api):
    client = api("owner")
    for path, body in BODIES.items():
        assert client.post(path, body).status_code == 200
    assert not TaskRun.objects.exists()
    assert not HourlyUsage.objects.exists()
    assert not Task.objects.exists()


@pytest.mark.parametrize("path", list(BODIES))
def test_viewers_are_refused_and_outsiders_find_nothing(api, path):
    assert api("viewer").post(path, BODIES[path]).status_code == 403
    outsider = api("outsider").post(path, BODIES[path])
    assert outsider.status_code == 404
    assert outsider.json()["detail"] == "No such project."
    assert api(None).post(path, BODIES[path]).status_code == 401


def test_a_task_access_token_cannot_use_the_assistant(api, new_task, project_base):
    task = api("editor").post("/task", new_task()).json()
    client = ApiClient(task["access_token"], project_base)
    for path, body in BODIES.items():
        # Like every project-wide endpoint: a task token has no project role.
        assert client.post(path, body).status_code == 404, path


@pytest.mark.parametrize("path", list(BODIES))
def test_an_empty_prompt_is_a_422_naming_the_field(api, path):
    response = api("editor").post(path, {**BODIES[path], "user_prompt": "  "})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"][0]["loc"] == ["body", "user_prompt"]
    assert "Write a user prompt first" in body["detail"][0]["msg"]


def test_malformed_bodies_are_400(api):
    client = api("editor")
    assert client.post(ENHANCE, {}).status_code == 400
    assert client.post(ENHANCE, {"user_prompt": ["a"]}).status_code == 400
    bad_modality = client.post(GENERATE, {"user_prompt": "x", "output_modality": "v"})
    assert bad_modality.status_code == 400
    assert bad_modality.json()["detail"][0]["loc"] == [
        "body",
        "payload",
        "output_modality",
    ]


def test_semantic_errors_are_422(api):
    client = api("editor")
    too_long = client.post(ENHANCE, {"user_prompt": "x" * 20_001})
    assert too_long.status_code == 422
    no_fields = client.post(GENERATE, {"user_prompt": "x", "output_modality": "image"})
    assert no_fields.status_code == 422
    assert no_fields.json()["detail"][0]["loc"] == ["body", "output_modality"]
    bad_format = client.post(SUGGEST, {"user_prompt": "x", "output_format": {"a b": 1}})
    assert bad_format.status_code == 422


def test_a_provider_failure_is_a_503_envelope(api, settings, fake_llm):
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
    response = api("editor").post(ENHANCE, BODIES[ENHANCE])
    assert response.status_code == 503
    assert response.json()["detail"].startswith("The assistant could not answer:")


def test_an_unknown_assistant_model_is_a_503(api, settings):
    settings.RB_ASSISTANT_MODEL = "gone"
    response = api("editor").post(ENHANCE, BODIES[ENHANCE])
    assert response.status_code == 503
    assert "“gone” is not an enabled catalogue model" in response.json()["detail"]


def test_suggest_settings_queries_are_fixed(api, llm, django_assert_num_queries):
    client = api("editor")
    client.post(SUGGEST, BODIES[SUGGEST])
    # 1 the API key with its project and role (its last use was stamped on
    # the first call), 2 the catalogue's models, 3 the assistant's model.
    with django_assert_num_queries(3):
        assert client.post(SUGGEST, BODIES[SUGGEST]).status_code == 200


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    prefix = "/api/v1/org/{org_id}/project/{project_id}"
    for path in BODIES:
        operation = paths[prefix + path]["post"]
        assert set(operation["responses"]) >= {"200", "403", "404", "422", "503"}
