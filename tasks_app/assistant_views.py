"""The assistant in the task editor (dashboard.md §2, §4): Enhance prompt on the
Prompts tab, Generate output on the I/O tab, Suggest on Settings.

Each button posts the whole editor form here; the answer is the suggestion as
an htmx fragment that the editor's script lets the user insert or accept.
Nothing is saved: the user still saves the task. Without script the same post
shows the suggestion on a page of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_POST

from rightbrain.errors import DomainError
from rightbrain.http import AuthedRequest
from rightbrain.orgs.access import project_for_user
from rightbrain.orgs.permissions import Perm
from rightbrain.orgs.selectors import ProjectAccess
from tasks_app import assistant, schema_editor
from tasks_app.access import task_for_user
from tasks_app.forms import describe_format_error
from tasks_app.output_format import TYPE_ALIASES

PAGE = "tasks_app/task_assistant.html"
_TYPE_LABELS = {
    "str": "String",
    "int": "Integer",
    "number": "Number",
    "bool": "Boolean",
}


def _enhance_prompt(data: QueryDict) -> dict[str, Any]:
    enhanced = assistant.prompt_enhance(user_prompt=data.get("user_prompt", ""))
    return {"enhanced": enhanced}


def _field_rows(output_format: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, spec in output_format.items():
        kind = TYPE_ALIASES[spec["type"]]
        label = _TYPE_LABELS.get(kind, "List of strings")
        rows.append(
            {
                "name": name,
                "type_label": "Enum" if spec.get("options") else label,
                "description": spec["description"],
                "options": spec.get("options") or [],
                "json": json.dumps({name: spec}),
            }
        )
    return rows


def _generate_output(data: QueryDict) -> dict[str, Any]:
    suggestion = assistant.output_format_generate(
        user_prompt=data.get("user_prompt", ""),
        system_prompt=data.get("system_prompt", ""),
        output_modality=data.get("output_modality", "json"),
    )
    return {
        "fields": _field_rows(suggestion.output_format),
        "all_json": json.dumps(suggestion.output_format),
        "format_text": schema_editor.format_text(suggestion.output_format),
    }


def _suggest_settings(data: QueryDict) -> dict[str, Any]:
    parsed = schema_editor.parse_format_text(data.get("output_format", ""))
    if parsed.error:
        raise DomainError(
            "Fix the output format on the I/O tab first: "
            + describe_format_error(parsed.error),
            field="output_format",
        )
    suggestion = assistant.settings_suggest(
        user_prompt=data.get("user_prompt", ""),
        output_format=parsed.value,
        image_required=data.get("image_required") in {"on", "true", "1"},
        output_modality=data.get("output_modality", "json"),
    )
    lowest, highest, _default = assistant.BANDS[suggestion.task_type]
    return {"settings": suggestion, "band": f"{lowest}–{highest} %"}


HELPERS: dict[str, tuple[str, Callable[[QueryDict], dict[str, Any]]]] = {
    "enhance-prompt": ("enhance_prompt", _enhance_prompt),
    "generate-output": ("generate_output", _generate_output),
    "suggest-settings": ("suggest_settings", _suggest_settings),
}


def _caller(
    request: AuthedRequest, project_id: UUID, task_id: UUID | None
) -> ProjectAccess:
    """Project editors on Create Task; whoever may edit the task in its editor
    (a task member's grant counts there)."""
    if task_id is None:
        return project_for_user(request, project_id, Perm.PROJECT_CREATE_TASK)
    return task_for_user(request, project_id, task_id, Perm.TASK_EDIT).project


@require_POST
@login_required
def assistant_suggest(
    request: AuthedRequest, project_id: UUID, helper: str, task_id: UUID | None = None
) -> HttpResponse:
    """One helper's suggestion from the editor's current (unsaved) fields."""
    access = _caller(request, project_id, task_id)
    if helper not in HELPERS:
        raise Http404("No such assistant helper.")
    part, suggest = HELPERS[helper]
    context: dict[str, Any] = {"access": access, "nav": "tasks", "helper": part}
    status = 200
    try:
        context |= suggest(request.POST)
    except DomainError as error:
        context["error"] = error.message
        # htmx swaps only 2xx answers; the error is part of the fragment.
        status = 200 if request.htmx else error.status
    template = f"{PAGE}#{part}" if request.htmx else PAGE
    return render(request, template, context, status=status)
