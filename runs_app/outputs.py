"""From a model to what a run returns, per output modality (domain.md §6.4).

`produce` is one attempt: the gateway call a modality needs, then the check or
rendering that turns the reply into the run's content and generated files. An
unusable reply (CSV that is not a table, bytes that are not an image) raises
`LLMError("invalid_output")`, so the engine retries it like any failed call.

| modality   | call                 | `response`                 | generated file   |
| ---------- | -------------------- | -------------------------- | ---------------- |
| json, text | chat                 | the object / the text      | –                |
| csv        | chat, asked for CSV  | the CSV text               | text/csv         |
| pdf        | chat                 | {"files": [stored name]}   | application/pdf  |
| image      | image generation     | {"files": [stored name]}   | image/png (jpeg) |
| audio      | speech (the prompt)  | {"files": [stored name]}   | audio/*          |
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from asgiref.sync import sync_to_async
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from rightbrain.errors import Invalid
from rightbrain.spreadsheet import safe_csv_text
from runs_app import file_types, files
from runs_app.pdf import render_pdf
from tasks_app import llm
from tasks_app.models import LLMModel, Task

Modality = Task.OutputModality
FILE_MODALITIES = {Modality.PDF, Modality.IMAGE, Modality.AUDIO}
_INSTRUCTIONS: dict[str, str] = {
    Modality.CSV: llm.CSV_INSTRUCTION,
    Modality.PDF: (
        "Your answer becomes a PDF document: write it in Markdown (headings, "
        "lists, tables, emphasis), with no preamble about the format."
    ),
}
_FENCE = re.compile(r"^```[A-Za-z]*\s*\n(.*?)\n?```$", re.DOTALL)


def check_models(*, modality: str, models: Iterable[LLMModel]) -> None:
    """422 when a model the run may call cannot produce this modality."""
    for model in models:
        if modality == Modality.IMAGE and not model.supports_image_output:
            raise Invalid(
                f"{model.alias} cannot produce images; this task needs an image model.",
                field="output_modality",
            )
        if modality == Modality.AUDIO and not model.supports_audio_output:
            raise Invalid(
                f"{model.alias} cannot produce audio; this task needs a "
                "text-to-speech model.",
                field="output_modality",
            )


def produce(
    modality: str,
    *,
    model: LLMModel,
    messages: list[dict[str, Any]],
    config: dict[str, Any],
    schema: dict[str, Any] | None,
    timeout: float,
) -> llm.LLMReply:
    """One attempt at the modality's output; the reply carries its files."""
    if modality == Modality.IMAGE:
        reply = llm.generate_image(
            model=model, prompt=_prompt_of(messages), config=config, timeout=timeout
        )
        return _typed(
            dataclasses.replace(reply, files=tuple(map(_png_or_jpeg, reply.files)))
        )
    if modality == Modality.AUDIO:
        reply = llm.generate_speech(
            model=model,
            text=_text_of(messages, "user"),
            instructions=_text_of(messages, "system"),
            config=config,
            timeout=timeout,
        )
        return _typed(reply)
    instruction = _INSTRUCTIONS.get(modality)
    reply = llm.complete(
        model=model,
        messages=_with_instruction(messages, instruction) if instruction else messages,
        config=config,
        schema=schema,
        timeout=timeout,
    )
    return _typed(_from_text(modality, reply))


async def produce_async(
    modality: str,
    *,
    model: LLMModel,
    messages: list[dict[str, Any]],
    config: dict[str, Any],
    schema: dict[str, Any] | None,
    timeout: float,
) -> llm.LLMReply:
    """`produce` on the event loop. Chat answers are awaited; image and speech
    calls, rare and slow anyway, run in a worker thread."""
    if modality in (Modality.IMAGE, Modality.AUDIO):
        return await sync_to_async(produce, thread_sensitive=False)(
            modality,
            model=model,
            messages=messages,
            config=config,
            schema=schema,
            timeout=timeout,
        )
    instruction = _INSTRUCTIONS.get(modality)
    reply = await llm.acomplete(
        model=model,
        messages=_with_instruction(messages, instruction) if instruction else messages,
        config=config,
        schema=schema,
        timeout=timeout,
    )
    return _typed(_from_text(modality, reply))


def _from_text(modality: str, reply: llm.LLMReply) -> llm.LLMReply:
    """A chat answer made into the modality's output (a checked table, a PDF)."""
    if modality == Modality.CSV:
        table = _checked_csv(reply.text)
        return dataclasses.replace(
            reply,
            content=table,
            # The file is what people open in a spreadsheet: its cells must not
            # run as formulas there (the model may repeat hostile input).
            files=(
                llm.GeneratedFile(
                    "output.csv", "text/csv", safe_csv_text(table).encode()
                ),
            ),
        )
    if modality == Modality.PDF:
        document = render_pdf(reply.text)
        return dataclasses.replace(
            reply,
            files=(llm.GeneratedFile("output.pdf", "application/pdf", document),),
        )
    return reply


def uploads_of(reply: llm.LLMReply | None) -> list[files.Upload]:
    """The reply's generated files, ready for `files.store`: typed by their
    bytes like sent files (`produce` has refused any other kind already)."""
    if reply is None:
        return []
    return [files.generated_upload(file.filename, file.data) for file in reply.files]


def response_of(
    modality: str, reply: llm.LLMReply, stored_filenames: Sequence[str]
) -> Any:
    """The run's `response` (api.md §4.1): file modalities name their files."""
    if modality in FILE_MODALITIES:
        return {"files": list(stored_filenames)}
    return reply.content


# Prompts -------------------------------------------------------------------------


def _text_of(messages: list[dict[str, Any]], role: str) -> str:
    texts = []
    for message in messages:
        if message["role"] != role:
            continue
        content = message["content"]
        if isinstance(content, str):
            texts.append(content)
        else:
            texts += [part["text"] for part in content if part.get("type") == "text"]
    return "\n\n".join(text for text in texts if text.strip())


def _prompt_of(messages: list[dict[str, Any]]) -> str:
    """Image models take one prompt: the system prompt, then the user's."""
    return "\n\n".join(
        text
        for text in (_text_of(messages, "system"), _text_of(messages, "user"))
        if text
    )


def _with_instruction(
    messages: list[dict[str, Any]], instruction: str
) -> list[dict[str, Any]]:
    """The instruction joins the system prompt (some providers take only one)."""
    if messages and messages[0]["role"] == "system":
        first = messages[0]
        joined = f"{first['content']}\n\n{instruction}"
        return [{**first, "content": joined}, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


# Checking and converting what came back ----------------------------------------------


def _checked_csv(text: str) -> str:
    """The reply as CSV text, or `invalid_output`.

    A table means a header of two or more columns, at least one data row, and
    every row as wide as the header: prose, even prose with commas, fails that.
    """
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    table = (fenced.group(1) if fenced else stripped).strip() + "\n"
    try:
        rows = [row for row in csv.reader(io.StringIO(table), strict=True) if row]
    except csv.Error as error:
        raise _not_a_table(f"it does not parse ({error})") from None
    if len(rows) < 2 or len(rows[0]) < 2:
        raise _not_a_table(
            "it needs a header of two or more columns and at least one row"
        )
    widths = sorted({len(row) for row in rows})
    if len(widths) > 1:
        raise _not_a_table(f"its rows are {widths} fields wide, not one width")
    return table


def _not_a_table(why: str) -> llm.LLMError:
    return llm.LLMError(
        "invalid_output", f"The model's reply is not a CSV table: {why}."
    )


def _typed(reply: llm.LLMReply) -> llm.LLMReply:
    """The reply with each file typed by its bytes; a file of a type a run may
    not produce (raw PCM speech, markup posing as CSV) is `invalid_output`,
    retried like any unusable answer, and never stored."""
    typed = []
    for file in reply.files:
        try:
            upload = files.generated_upload(file.filename, file.data)
        except file_types.NotAccepted:
            raise llm.LLMError(
                "invalid_output",
                f"The provider's {file.filename} is not a file type a run may produce.",
            ) from None
        typed.append(llm.GeneratedFile(file.filename, upload.content_type, file.data))
    return dataclasses.replace(reply, files=tuple(typed))


def _png_or_jpeg(file: llm.GeneratedFile) -> llm.GeneratedFile:
    """PNG and JPEG as they came; other formats (WebP) re-encoded as PNG."""
    try:
        with PILImage.open(io.BytesIO(file.data)) as image:
            image_format = image.format or ""
            if image_format in files.IMAGE_TYPES:
                content_type = files.IMAGE_TYPES[image_format]
                extension = "png" if image_format == "PNG" else "jpeg"
                return llm.GeneratedFile(f"image.{extension}", content_type, file.data)
            out = io.BytesIO()
            image.save(out, "PNG")
    except (UnidentifiedImageError, PILImage.DecompressionBombError, OSError):
        raise llm.LLMError(
            "invalid_output", "The provider's image could not be read."
        ) from None
    return llm.GeneratedFile("image.png", "image/png", out.getvalue())
