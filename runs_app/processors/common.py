"""What the input processors share."""

from __future__ import annotations

from typing import Any


class ProcessorFailed(Exception):
    """The processor could not turn the value into text; the message says why,
    for the caller."""


def text_of(value: Any, *, what: str) -> str:
    """The value as a non-empty string, or `ProcessorFailed` naming `what`."""
    if not isinstance(value, str):
        raise ProcessorFailed(f"expects {what} as a string.")
    text = value.strip()
    if not text:
        raise ProcessorFailed(f"expects {what}; the value is empty.")
    return text


def clipped(text: str, max_length: int | None) -> str:
    return text[:max_length] if max_length else text
