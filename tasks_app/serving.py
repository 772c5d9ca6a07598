"""Which catalogue model answers for a revision's model (domain.md §14).

Revisions never change, but the catalogue does: an operator may retire a model
(optionally naming its replacement) or disable it. A revision keeps naming the
model it was saved with; at run time a retired model is stood in for by its
replacement, and a run that would need a disabled model, or a retired one with
no usable replacement, is refused before anything is written.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from rightbrain.errors import Invalid
from tasks_app.models import LLMModel

# Replacements may themselves be retired and replaced; a chain longer than
# this is an operator's loop, not a succession of models.
_MAX_REPLACEMENTS = 10


def model_in_service(model: LLMModel, *, field: str) -> LLMModel:
    """The model that answers in place of `model`: `model` itself while it is
    enabled and not retired, else the model it was retired in favour of.

    Raises `Invalid` (422), naming `field`, when no model can answer."""
    current = model
    for _ in range(_MAX_REPLACEMENTS):
        if not current.enabled:
            raise Invalid(
                f"{_named(model, current)} is disabled on this instance; "
                "edit the task to choose another model.",
                field=field,
            )
        if not current.is_retired:
            return current
        replacement = current.replaced_by
        if replacement is None:
            raise Invalid(
                f"{_named(model, current)} is retired and has no replacement; "
                "edit the task to choose another model.",
                field=field,
            )
        current = replacement
    raise Invalid(
        f"{model.alias} is retired and its replacements never end; "
        "edit the task to choose another model.",
        field=field,
    )


def config_in_service(
    config: dict[str, Any] | None, *, saved_for: LLMModel, answering: LLMModel
) -> dict[str, Any]:
    """A revision's settings for the model that answers: unchanged for the
    model they were saved for; for a replacement, only the settings it takes
    with values it accepts (the others fall back to its defaults)."""
    config = dict(config or {})
    if answering.pk == saved_for.pk:
        return config
    params = answering.model_params or {}
    kept = {}
    for key, value in config.items():
        if key not in params:
            continue
        try:
            jsonschema.validate(value, params[key])
        except jsonschema.ValidationError:
            continue
        kept[key] = value
    return kept


def _named(asked: LLMModel, found: LLMModel) -> str:
    if asked.pk == found.pk:
        return asked.alias
    return f"{asked.alias} (replaced by {found.alias})"
