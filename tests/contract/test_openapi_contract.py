"""Schemathesis drives every operation in our OpenAPI document with generated
input and checks the answers: no server errors, and every status code, content
type and body is one the document declares."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from rightbrain.orgs.services import api_key_create
from rightbrain.wsgi import application
from tasks_app.catalogue import catalogue_sync
from tasks_app.models import LLMModel
from tasks_app.services import RevisionSpec, task_create

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def owner_key(personas, settings) -> str:
    # The assistant answers with the offline demo model (the catalogue's; a
    # transactional test elsewhere may have flushed it) instead of a 503.
    catalogue_sync()
    settings.RB_ASSISTANT_MODEL = "rightbrain-demo"
    # Some real data for the generated requests to find.
    model = LLMModel.objects.create(
        provider="Test",
        vendor="Test",
        name="m",
        alias="M",
        litellm_model="openai/m",
        supports_vision=True,
    )
    task_create(
        project=personas.project,
        user=personas.owner,
        name="Existing",
        revision=RevisionSpec(user_prompt="Hello {name}", llm_model_id=model.pk),
    )
    _key, secret = api_key_create(
        project=personas.project, user=personas.owner, name="c"
    )
    return secret


def _aim_at(case, personas) -> None:
    """Send most requests to the caller's real project so they reach the handlers
    instead of stopping at a 404."""
    for name, value in (
        ("org_id", personas.organization.pk),
        ("project_id", personas.project.pk),
    ):
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = str(value)
    # `/task/tag` is the project's tag list, routed before `/task/{task_id}`
    # (tasks_app/api/__init__.py), so a generated task id of "tag" (hypothesis
    # draws strings it finds in our code) reaches that route and gets its 405.
    if case.path_parameters and case.path_parameters.get("task_id") == "tag":
        case.path_parameters["task_id"] = "not-a-task"


@pytest.fixture
def keep_test_connection():
    """Requests here bypass Django's test client, which normally stops each
    request from closing the database connection; do the same, or the first
    request would hand the test's transaction back to the pool."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_every_operation_honours_the_openapi_document(
    personas, owner_key, keep_test_connection
):
    api_schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    headers = {"Authorization": f"Bearer {owner_key}"}
    seen: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case):
            _aim_at(case, personas)
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            seen.append(response.status_code)

        exercise()
    # Generated requests reached the handlers, not only the error paths.
    assert 200 in seen
