"""What the offline demo model answers: deterministic, schema-valid output.

Pure functions of the prompt and the JSON Schema, so the same input always gives
the same output, in tests and for someone trying the product with no API key.
Image and audio tasks get a small picture and a short tune derived from the
prompt: enough to see the files flow through a run, nothing more.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import struct
import wave
from typing import Any

from PIL import Image

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


def demo_reply(
    prompt: str, schema: dict[str, Any] | None, *, as_csv: bool = False
) -> str:
    """The reply text: JSON for a schema, a table when asked for CSV, a short
    paragraph otherwise."""
    if schema is not None:
        return json.dumps(demo_value(schema, prompt))
    if as_csv:
        return demo_csv(prompt)
    return (
        f"This is the {DEMO_NOTE}. It read your prompt ({len(prompt.split())} words, "
        f"beginning “{_excerpt(prompt)}”) and answers the same way every time. "
        "Choose a real model in the task's settings to get a real answer."
    )


def estimate_tokens(text: str) -> int:
    """About four characters a token, the usual rule of thumb for English."""
    return max(1, len(text) // 4)


def demo_csv(prompt: str) -> str:
    """A small table about the prompt's first words."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["word", "letters", "note"])
    for word in prompt.split()[:5]:
        writer.writerow([word, len(word), DEMO_NOTE])
    return out.getvalue()


def demo_png(prompt: str, *, cells: int = 8, cell_pixels: int = 16) -> bytes:
    """A symmetric 8×8 pattern in two colours, like an identicon of the prompt."""
    digest = hashlib.sha256(prompt.encode()).digest()
    ink = (digest[0], digest[1], digest[2])
    image = Image.new("RGB", (cells, cells), (250, 250, 250))
    for row in range(cells):
        for column in range(cells // 2):
            if digest[(row * cells // 2 + column) % len(digest)] % 2:
                image.putpixel((column, row), ink)
                image.putpixel((cells - 1 - column, row), ink)
    size = cells * cell_pixels
    out = io.BytesIO()
    image.resize((size, size), Image.Resampling.NEAREST).save(out, "PNG")
    return out.getvalue()


def demo_wav(text: str, *, rate: int = 8000, note_seconds: float = 0.15) -> bytes:
    """A short mono tune: one note per word (at most eight), pitch from the word."""
    frames = bytearray()
    for word in text.split()[:8] or ["demo"]:
        frequency = 220 * 2 ** ((_seed(word, "note") % 24) / 12)
        for i in range(int(rate * note_seconds)):
            sample = 0.3 * math.sin(2 * math.pi * frequency * i / rate)
            frames += struct.pack("<h", int(sample * 32767))
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(bytes(frames))
    return out.getvalue()
