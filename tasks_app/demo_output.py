"""What the offline demo model answers: deterministic, schema-valid output.

Pure functions of the prompt and the JSON Schema, so the same input always gives
the same output, in tests and for someone trying the product with no API key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

DEMO_NOTE = "offline demo model"


def _seed(text: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}\0{text}".encode()).digest()[:8])


def _excerpt(text: str, words: int = 8) -> str:
    parts = text.split()
    excerpt = " ".join(parts[:words])
    return excerpt + ("…" if len(parts) > words else "")


def demo_value(schema: dict[str, Any], prompt: str, path: str = "") -> Any:
    """A value valid against `schema`, chosen by hashing the prompt and the path."""
    seed = _seed(prompt, path)
    if "enum" in schema:
        options = schema["enum"]
        return options[seed % len(options)]
    kind = schema.get("type", "object")
    if kind == "string":
        name = path.rsplit(".", 1)[-1] or "answer"
        return f"Demo {name.replace('_', ' ')} for “{_excerpt(prompt)}” ({DEMO_NOTE})"
    if kind == "boolean":
        return bool(seed % 2)
    if kind == "integer":
        return seed % 10
    if kind == "number":
        return round((seed % 1000) / 100, 2)
    if kind == "array":
        items = schema.get("items", {"type": "string"})
        return [demo_value(items, prompt, f"{path}[{i}]") for i in range(2)]
    properties = schema.get("properties")
    if not properties:
        return {"answer": f"Demo answer for “{_excerpt(prompt)}” ({DEMO_NOTE})"}
    return {
        name: demo_value(sub, prompt, f"{path}.{name}" if path else name)
        for name, sub in properties.items()
    }


def demo_reply(prompt: str, schema: dict[str, Any] | None) -> str:
    """The reply text: JSON for a schema, a short paragraph otherwise."""
    if schema is not None:
        return json.dumps(demo_value(schema, prompt))
    return (
        f"This is the {DEMO_NOTE}. It read your prompt ({len(prompt.split())} words, "
        f"beginning “{_excerpt(prompt)}”) and answers the same way every time. "
        "Choose a real model in the task's settings to get a real answer."
    )


def estimate_tokens(text: str) -> int:
    """About four characters a token, the usual rule of thumb for English."""
    return max(1, len(text) // 4)
