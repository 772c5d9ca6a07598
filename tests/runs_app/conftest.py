from __future__ import annotations

from decimal import Decimal

import pytest

from tasks_app.models import LLMModel


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    settings.RB_LLM_RETRY_BACKOFF = 0
    settings.RB_LLM_TIMEOUT = 5


@pytest.fixture
def served(db, fake_llm):
    """Two models served by the fake provider: a primary and a fallback."""

    def model(name: str) -> LLMModel:
        return LLMModel.objects.create(
            provider="Local",
            vendor="Local",
            name=name,
            alias=name.title(),
            litellm_model=f"openai/{name}",
            api_base=fake_llm.base_url,
            supports_vision=True,
            model_params={
                "temperature": {"type": "number", "minimum": 0, "maximum": 2}
            },
            input_price_per_mtok=Decimal("3"),
            output_price_per_mtok=Decimal("15"),
        )

    return model("primary"), model("backup")


@pytest.fixture
def run_task(api, served):
    """Create a task on the served primary and return (client, task)."""

    def make(persona="editor", **overrides):
        client = api(persona)
        primary, backup = served
        body = {
            "name": "Sentiment",
            "enabled": True,
            "system_prompt": "Classify.",
            "user_prompt": "Review: {review}",
            "llm_model_id": str(primary.pk),
            "output_format": {
                "sentiment": {"type": "str", "options": ["positive", "negative"]}
            },
            **overrides,
        }
        response = client.post("/task", body)
        assert response.status_code == 200, response.json()
        return client, response.json()

    return make


@pytest.fixture
def run_media(settings, tmp_path):
    """Run files stored under this test's temporary folder."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path
