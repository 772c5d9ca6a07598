"""The task-writing assistant over JSON (dashboard.md §4): the same three helpers
the editor offers, for the project's editors.

Each answers a suggestion and stores nothing: no task, no run, no credits.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema

from rightbrain.api_common import ERRORS, PROJECT, ErrorResponse
from rightbrain.orgs.permissions import Perm
from tasks_app import assistant
from tasks_app.api.common import member_access
from tasks_app.schemas import OutputModality

router = Router(tags=["assistant"])

# The assistant's model can fail or be missing: that is a 503, not our bug.
ASSISTANT_ERRORS: dict[int, Any] = {**ERRORS, 503: ErrorResponse}


class EnhancePromptIn(Schema):
    user_prompt: str = Field(description="The prompt to improve.")


class EnhancePromptOut(Schema):
    enhanced_prompt: str = Field(
        description="The prompt with Goal, Context, Input Parameters and Processing "
        "Steps sections; every variable of the original is kept as written."
    )
    system_prompt: str = Field(description="A system prompt: role and expertise.")


class GenerateOutputIn(Schema):
    user_prompt: str
    system_prompt: str | None = None
    output_modality: OutputModality = "json"


class GenerateOutputOut(Schema):
    output_format: dict[str, Any] = Field(
        description="An output_format with a type and a description on every field."
    )


class SuggestSettingsIn(Schema):
    user_prompt: str
    output_format: dict[str, Any] | list[dict[str, Any]] | None = None
    image_required: bool = False
    output_modality: OutputModality = "json"


class SuggestSettingsOut(Schema):
    name: str = Field(description="Valid per the task-name rule, at most 60 chars.")
    description: str
    llm_model_id: UUID | None = Field(
        description="A model that can run the task (vision-capable when images are "
        "required); null when the catalogue has none."
    )
    temperature_percent: int = Field(ge=0, le=100)
    task_type: str = Field(
        description="classification, extraction, analysis, generation or general: "
        "what the temperature band follows."
    )


def _editor_access(request: HttpRequest, org_id: UUID, project_id: UUID) -> None:
    member_access(request, org_id, project_id, Perm.PROJECT_CREATE_TASK)


@router.post(
    PROJECT + "/assistant/enhance-prompt",
    response={200: EnhancePromptOut, **ASSISTANT_ERRORS},
    summary="Improve a prompt (Goal, Context, Input Parameters, Processing Steps)",
    operation_id="assistant_enhance_prompt",
)
def enhance_prompt(
    request: HttpRequest, org_id: UUID, project_id: UUID, payload: EnhancePromptIn
):
    _editor_access(request, org_id, project_id)
    enhanced = assistant.prompt_enhance(user_prompt=payload.user_prompt)
    return {
        "enhanced_prompt": enhanced.enhanced_prompt,
        "system_prompt": enhanced.system_prompt,
    }


@router.post(
    PROJECT + "/assistant/generate-output",
    response={200: GenerateOutputOut, **ASSISTANT_ERRORS},
    summary="Propose output fields for a prompt",
    operation_id="assistant_generate_output",
)
def generate_output(
    request: HttpRequest, org_id: UUID, project_id: UUID, payload: GenerateOutputIn
):
    _editor_access(request, org_id, project_id)
    suggestion = assistant.output_format_generate(
        user_prompt=payload.user_prompt,
        system_prompt=payload.system_prompt or "",
        output_modality=payload.output_modality,
    )
    return {"output_format": suggestion.output_format}


@router.post(
    PROJECT + "/assistant/suggest-settings",
    response={200: SuggestSettingsOut, **ASSISTANT_ERRORS},
    summary="Suggest a name, description, model and temperature",
    operation_id="assistant_suggest_settings",
)
def suggest_settings(
    request: HttpRequest, org_id: UUID, project_id: UUID, payload: SuggestSettingsIn
):
    _editor_access(request, org_id, project_id)
    suggestion = assistant.settings_suggest(
        user_prompt=payload.user_prompt,
        output_format=payload.output_format,
        image_required=payload.image_required,
        output_modality=payload.output_modality,
    )
    return {
        "name": suggestion.name,
        "description": suggestion.description,
        "llm_model_id": suggestion.llm_model.pk if suggestion.llm_model else None,
        "temperature_percent": suggestion.temperature_percent,
        "task_type": suggestion.task_type,
    }
