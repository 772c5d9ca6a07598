"""The user-friendly display of a run's output (dashboard.md §3, checklist 136):
each field labelled, booleans as ✓/✗, lists as bullets, nested objects expanded.

`friendly` turns a JSON value into a tree of plain dicts that
`templates/runs_app/_friendly_value.html` renders recursively, so any page that
shows a run (the run view, a share page) displays it the same way.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 8


def field_label(name: str) -> str:
    """`customer_name` → `Customer name`."""
    words = str(name).replace("_", " ").replace("-", " ").split()
    text = " ".join(words) or str(name)
    return text[:1].upper() + text[1:]


def friendly(value: Any, *, depth: int = 0) -> dict[str, Any]:
    """A display node: {"kind": fields | list | bool | empty | number | text, …}."""
    if depth >= MAX_DEPTH:
        return {"kind": "text", "text": str(value)}
    if isinstance(value, dict):
        return {
            "kind": "fields",
            "fields": [
                {
                    "name": str(key),
                    "label": field_label(key),
                    "value": friendly(item, depth=depth + 1),
                }
                for key, item in value.items()
            ],
        }
    if isinstance(value, list | tuple):
        return {
            "kind": "list",
            "items": [friendly(item, depth=depth + 1) for item in value],
        }
    if isinstance(value, bool):
        return {"kind": "bool", "value": value, "text": "✓" if value else "✗"}
    if value is None or value == "":
        return {"kind": "empty", "text": "—"}
    if isinstance(value, int | float):
        return {"kind": "number", "text": str(value)}
    return {"kind": "text", "text": str(value)}
