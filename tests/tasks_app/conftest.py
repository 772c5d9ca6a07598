from __future__ import annotations

import pytest


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
