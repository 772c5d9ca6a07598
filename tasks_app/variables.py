"""Prompt variables: `{name}` and `{{name}}` placeholders (domain.md §5).

Both spellings name the same variable. Braces around anything that is not a bare
identifier — JSON snippets, spaces, punctuation — are literal text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# One pattern for both spellings so "first appearance" follows the text order.
# `{{ name }}` may pad the name with spaces; `{name}` may not, and must not be part
# of a longer run of braces.
_PLACEHOLDER = re.compile(
    r"\{\{\s*(?P<double>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}"
    r"|(?<!\{)\{(?P<single>[A-Za-z_][A-Za-z0-9_]*)\}(?!\})"
)


def detect_variables(prompt: str) -> list[str]:
    """Distinct variable names in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _PLACEHOLDER.finditer(prompt or ""):
        seen.setdefault(match.group("double") or match.group("single"), None)
    return list(seen)


def render_prompt(prompt: str, values: Mapping[str, Any]) -> str:
    """Replace every placeholder with its value; non-strings are JSON-encoded.

    Placeholders without a value are left as written (callers validate first).
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group("double") or match.group("single")
        if name not in values:
            return match.group(0)
        value = values[name]
        return value if isinstance(value, str) else json.dumps(value)

    return _PLACEHOLDER.sub(substitute, prompt or "")
