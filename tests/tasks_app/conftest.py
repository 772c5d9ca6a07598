from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from rightbrain.orgs.services import api_key_create
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


class ApiClient:
    """A JSON client for one project's API with one bearer token."""

    def __init__(self, token: str | None, base: str):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = Client(headers=headers)
        self.base = base

    def url(self, path: str) -> str:
        return path if path.startswith("/api/") else self.base + path

    def get(self, path: str, **params):
        return self.client.get(self.url(path), params)

    def post(self, path: str, body=None):
        return self.client.post(
            self.url(path), json.dumps(body or {}), content_type="application/json"
        )

    def delete(self, path: str):
        return self.client.delete(self.url(path))


@pytest.fixture
def project_base(personas) -> str:
    return f"/api/v1/org/{personas.organization.pk}/project/{personas.project.pk}"


@pytest.fixture
def api(personas, project_base):
    """`api("editor")` → an ApiClient holding that persona's API key; `api(None)`
    sends no credentials."""

    def make(persona: str | None, base: str | None = None) -> ApiClient:
        if persona is None:
            return ApiClient(None, base or project_base)
        user = getattr(personas, persona)
        project = personas.other_project if persona == "outsider" else personas.project
        _key, secret = api_key_create(project=project, user=user, name="tests")
        return ApiClient(secret, base or project_base)

    return make


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
