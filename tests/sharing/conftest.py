"""Fixtures of the sharing tests: a task served by the fake LLM provider, its
example run, and share links made through the real services."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from rightbrain.orgs.tokens import decrypt_secret
from runs_app.models import TaskRun
from runs_app.services import run_execute
from sharing.models import TaskShare
from sharing.services import share_create
from tasks_app.models import LLMModel, Task, TaskRevision
from tasks_app.services import RevisionSpec, task_create, task_forwarder_create

GOOD = {"sentiment": "positive", "confident": True, "reasons": ["fast", "cheap"]}
OUTPUT_FORMAT = {
    "sentiment": {
        "type": "str",
        "options": ["positive", "negative"],
        "description": "How the reviewer feels",
    },
    "confident": {"type": "bool", "description": "Whether the model is sure"},
    "reasons": {"type": "list", "item_type": "str"},
}
SIGNING_KEY = "sk_forwarder_signing_key_do_not_leak"
FORWARDER_URL = "https://hooks.acme.test/forwarder-secret-path"


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    settings.RB_LLM_RETRY_BACKOFF = 0
    settings.RB_LLM_TIMEOUT = 5
    settings.RB_LLM_ATTEMPTS = 2


@pytest.fixture
def served_model(db, fake_llm) -> LLMModel:
    return LLMModel.objects.create(
        provider="Local",
        vendor="Local",
        name="primary",
        alias="Primary",
        litellm_model="openai/primary",
        api_base=fake_llm.base_url,
        supports_vision=True,
        model_params={"temperature": {"type": "number", "minimum": 0, "maximum": 2}},
        input_price_per_mtok=Decimal("3"),
        output_price_per_mtok=Decimal("15"),
    )


@dataclass
class Shared:
    """A task with a forwarder (whose secrets must never leak), its live
    revision and an example run of it."""

    task: Task
    revision: TaskRevision
    example: TaskRun
    access_token: str

    def share(self, **options) -> TaskShare:
        options.setdefault("task_run_id", self.example.pk)
        return share_create(task=self.task, user=self.task.created_by, **options)


@pytest.fixture
def shared(personas, served_model, fake_llm, settings) -> Shared:
    settings.RB_ALLOW_PRIVATE_URLS = True
    forwarder = task_forwarder_create(
        project=personas.project,
        name="Hook",
        config={"destination_url": FORWARDER_URL},
        config_sensitive={"signing_key": SIGNING_KEY},
    )
    task = task_create(
        project=personas.project,
        user=personas.editor,
        name="Review Sentiment",
        description="Tells how a customer feels about a product.",
        revision=RevisionSpec(
            system_prompt="You classify reviews.",
            user_prompt="Review: {review}",
            llm_model_id=served_model.pk,
            output_format=OUTPUT_FORMAT,
            task_forwarder_id=forwarder.pk,
            input_param_descriptions={"review": "What the customer wrote"},
        ),
    )
    revision = task.revisions.get()
    fake_llm.answer(GOOD)
    example = run_execute(
        task=task,
        revision=revision,
        task_input={"review": "Arrived quickly and works well"},
        user=personas.editor,
    )
    assert not example.is_error
    return Shared(
        task=task,
        revision=revision,
        example=example,
        access_token=decrypt_secret(task.access_token_encrypted) or "",
    )


def assert_no_secrets(text: str, shared: Shared) -> None:
    """Nothing of the task's credentials or forwarder in a public answer."""
    assert shared.access_token and shared.access_token not in text
    assert shared.task.access_token_hash not in text
    assert FORWARDER_URL not in text
    assert "forwarder-secret-path" not in text
    assert SIGNING_KEY not in text
    assert "access_token" not in text
    assert "task_forwarder" not in text
