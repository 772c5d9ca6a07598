from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone

from tasks_app.models import LLMModel

TEXT_PARAMS = {
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "max_tokens": {"type": "integer", "minimum": 1},
}


@dataclass
class Models:
    vision: LLMModel
    plain: LLMModel
    retired: LLMModel
    image: LLMModel


def _model(name: str, **fields) -> LLMModel:
    defaults = {
        "provider": "Test",
        "vendor": "Test",
        "alias": name.title(),
        "litellm_model": f"openai/{name}",
        "model_params": TEXT_PARAMS,
        "max_context_window": 128000,
    }
    return LLMModel.objects.create(name=name, **{**defaults, **fields})


@pytest.fixture
def llm(db) -> Models:
    vision = _model("vision-model", supports_vision=True)
    return Models(
        vision=vision,
        plain=_model("plain-model"),
        retired=_model("old-model", retired=timezone.now(), replaced_by=vision),
        image=_model(
            "image-model",
            supports_image_output=True,
            model_params={"quality": {"enum": ["standard", "hd"]}},
        ),
    )


@pytest.fixture
def new_task(llm):
    """A create body with only the required fields, overridable."""

    def body(**overrides):
        return {
            "name": "Review checker",
            "enabled": True,
            "system_prompt": "You are careful.",
            "user_prompt": "Review {review}",
            "llm_model_id": str(llm.vision.pk),
            **overrides,
        }

    return body
