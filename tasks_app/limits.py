"""How large a task's parts may be, in one place.

Every limit is enforced by the services' validation (tasks_app.services,
tasks_app.output_format), so the API, the dashboard's forms, clones and
templates all obey it: beyond it the API answers 422 naming the field, a form
shows the message next to it. Without limits one 25 MB prompt made every task
list 27 MB.
"""

from __future__ import annotations

TASK_NAME_MAX_CHARS = 255
# A long document fits in a prompt's variables, not in the prompt itself.
PROMPT_MAX_CHARS = 100_000
# Task descriptions, revision annotations and the descriptions of a prompt's
# variables.
DESCRIPTION_MAX_CHARS = 5_000
# The assistant sends a prompt to its own model: a tighter bound.
ASSISTANT_PROMPT_MAX_CHARS = 20_000

OUTPUT_FORMAT_MAX_FIELDS = 200  # counting nested fields
OUTPUT_FORMAT_MAX_DEPTH = 5
OUTPUT_FORMAT_MAX_BYTES = 50_000  # as UTF-8 JSON, descriptions and options included


def too_long(text: str | None, limit: int) -> bool:
    return text is not None and len(text) > limit
