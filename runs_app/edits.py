"""The Run view's editable configuration (dashboard.md §3, "iterate fast"):
prompts, output format and models as the editor shows and posts them, and
what they change against the revision they were loaded from.

Changes are never saved over a revision (revisions never change): a run of
edited prompts makes a test revision (runs_app.services.run_submit_edited).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from rightbrain.errors import Invalid
from tasks_app.forms import describe_format_error
from tasks_app.models import Task, TaskRevision
from tasks_app.schema_editor import format_text, parse_format_text
from tasks_app.variables import detect_variables

# The fields a DomainError may name that belong to the editor, not the inputs.
EDITOR_FIELDS = (
    "user_prompt",
    "system_prompt",
    "output_format",
    "input_processors",
    "llm_model_id",
    "fallback_llm_model_id",
    "llm_config",
    "fallback_llm_config",
    "image_required",
    "output_modality",
)
TEXTS = ("user_prompt", "system_prompt", "output_format")
MODELS = ("llm_model_id", "fallback_llm_model_id")


def _text(value: str) -> str:
    # Browsers post a textarea's line breaks as CRLF.
    return value.replace("\r\n", "\n")


@dataclass
class PromptEdits:
    user_prompt: str
    system_prompt: str
    output_format: str
    with_format: bool  # only JSON tasks have an output format
    llm_model_id: str
    fallback_llm_model_id: str  # "" for none

    @classmethod
    def of(cls, revision: TaskRevision, task: Task) -> PromptEdits:
        return cls(
            user_prompt=revision.user_prompt,
            system_prompt=revision.system_prompt or "",
            output_format=format_text(revision.output_format),
            with_format=task.output_modality == Task.OutputModality.JSON,
            llm_model_id=str(revision.llm_model_id),
            fallback_llm_model_id=str(revision.fallback_llm_model_id or ""),
        )

    @classmethod
    def posted(
        cls, data: Mapping[str, Any], source: TaskRevision, task: Task
    ) -> PromptEdits:
        """What was posted; a field that was not posted keeps the source's."""
        shown = cls.of(source, task)
        for name in (*TEXTS, *MODELS):
            value = data.get(name)
            if isinstance(value, str):
                setattr(shown, name, _text(value) if name in TEXTS else value)
        return shown

    @property
    def variables(self) -> list[str]:
        return detect_variables(self.user_prompt)

    def changes(self, source: TaskRevision) -> dict[str, Any]:
        """The revision fields that differ from `source`; Invalid when the
        output format is not one."""
        changes: dict[str, Any] = {}
        if self.user_prompt != source.user_prompt:
            changes["user_prompt"] = self.user_prompt
        if self.system_prompt != (source.system_prompt or ""):
            changes["system_prompt"] = self.system_prompt
        if self.with_format and (
            self.output_format.strip() != format_text(source.output_format).strip()
        ):
            parsed = parse_format_text(self.output_format)
            if parsed.error is not None:
                raise Invalid(
                    "Output format: " + describe_format_error(parsed.error),
                    field="output_format",
                )
            if parsed.value != source.output_format:
                changes["output_format"] = parsed.value
        for name in MODELS:
            value = getattr(self, name)
            if value != str(getattr(source, name) or ""):
                changes[name] = _model_id(value, name)
        if "fallback_llm_model_id" in changes:
            # Settings of one model rarely fit another: start clean.
            changes["fallback_llm_config"] = None
        return changes


def _model_id(value: str, field: str) -> UUID | None:
    if not value and field == "fallback_llm_model_id":
        return None
    try:
        return UUID(value)
    except ValueError:
        raise Invalid("Choose a model from the list.", field=field) from None
