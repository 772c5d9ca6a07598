"""document_content_extractor: the text of an uploaded file the variable names.

The variable holds a filename sent in `task_files`; its PDF, DOCX, PPTX, XLSX,
CSV or TXT content replaces it. The kind is the one the file was accepted as,
read from its bytes when it was sent. Text stops at RB_DOCUMENT_MAX_CHARS (and at
the revision's `max_length`), and Office files that would unpack to more than
RB_DOCUMENT_MAX_UNPACKED_BYTES are refused before they are opened.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import PurePath
from typing import Any

from django.conf import settings

from runs_app import file_types
from runs_app.files import Upload
from runs_app.processors.common import ProcessorFailed, clipped, text_of

logger = logging.getLogger(__name__)

SUPPORTED = "PDF, DOCX, PPTX, XLSX, CSV or TXT"
_BY_CONTENT_TYPE = {kind.content_type: kind.label for kind in file_types.DOCUMENTS}


def processed(
    *, param: str, value: Any, config: dict[str, Any], uploads: Sequence[Upload]
) -> str:
    filename = text_of(value, what="the filename of a file sent in task_files")
    upload = _upload_named(filename, uploads)
    limit = settings.RB_DOCUMENT_MAX_CHARS
    max_length = config.get("max_length")
    if max_length:
        limit = min(limit, max_length)
    text = document_text(upload, limit=limit).strip()
    if not text:
        raise ProcessorFailed(f"{upload.filename} has no text to extract.")
    return clipped(text, limit)


def _upload_named(filename: str, uploads: Sequence[Upload]) -> Upload:
    name = PurePath(filename).name
    for upload in uploads:
        if upload.filename == name:
            return upload
    sent = ", ".join(upload.filename for upload in uploads) or "no files"
    raise ProcessorFailed(
        f"no file named {name!r} was sent in task_files (sent: {sent})."
    )


def document_text(upload: Upload, *, limit: int) -> str:
    """The text of `upload`, read until about `limit` characters."""
    kind = _kind_of(upload)
    if kind in {"CSV", "TXT"}:
        return _decoded(upload)
    if kind != "PDF":
        _refuse_zip_bomb(upload, kind)
    reader = _READERS[kind]
    try:
        return _joined(reader(upload.data), limit)
    except ProcessorFailed:
        raise
    except Exception:
        # The parsers raise anything from ValueError to zlib.error on a damaged
        # file; whatever the cause, the caller's answer is the same.
        logger.info("Could not read %s as %s", upload.filename, kind, exc_info=True)
        raise _damaged(upload, kind) from None


def _kind_of(upload: Upload) -> str:
    """The document type the upload was accepted as (read from its bytes when
    it was sent, runs_app/file_types.py), never what its name claims."""
    if upload.is_image:
        raise ProcessorFailed(
            f"{upload.filename} is an image; images go to the model as they are, "
            f"documents must be {SUPPORTED}."
        )
    kind = _BY_CONTENT_TYPE.get(upload.content_type)
    if kind is None:
        raise ProcessorFailed(
            f"{upload.filename} is not a document; documents must be {SUPPORTED}."
        )
    return kind


def _decoded(upload: Upload) -> str:
    try:
        return upload.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProcessorFailed(
            f"{upload.filename} is not UTF-8 text; documents must be {SUPPORTED}."
        ) from None


def _refuse_zip_bomb(upload: Upload, kind: str) -> None:
    limit = settings.RB_DOCUMENT_MAX_UNPACKED_BYTES
    try:
        with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise _damaged(upload, kind) from None
    if unpacked > limit:
        raise ProcessorFailed(
            f"{upload.filename} unpacks to {unpacked:,} bytes; documents may "
            f"unpack to at most {limit:,}."
        )


def _damaged(upload: Upload, kind: str) -> ProcessorFailed:
    return ProcessorFailed(
        f"{upload.filename} could not be read as {kind}; it may be damaged."
    )


def _joined(pieces: Iterable[str], limit: int) -> str:
    """Pieces joined by newlines, reading no further than `limit` characters."""
    kept: list[str] = []
    length = 0
    for piece in pieces:
        if not piece:
            continue
        kept.append(piece)
        length += len(piece) + 1
        if length >= limit:
            break
    return "\n".join(kept)


# The readers import their library on first use: together they take most of a
# second to import, which processes that never read a document should not pay.


def _pdf(data: bytes) -> Iterator[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ProcessorFailed("the PDF is protected by a password.")
    for page in reader.pages:
        yield page.extract_text() or ""


def _docx(data: bytes) -> Iterator[str]:
    from docx import Document
    from docx.table import Table

    for block in Document(io.BytesIO(data)).iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                yield " | ".join(cell.text.strip() for cell in row.cells)
        else:
            yield block.text


def _pptx(data: bytes) -> Iterator[str]:
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for number, slide in enumerate(Presentation(io.BytesIO(data)).slides, start=1):
        yield f"Slide {number}"
        yield from _shape_texts(slide.shapes, MSO_SHAPE_TYPE.GROUP)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                yield f"Notes: {notes.text}"


def _shape_texts(shapes: Iterable[Any], group: Any) -> Iterator[str]:
    for shape in shapes:
        if shape.shape_type == group:
            yield from _shape_texts(shape.shapes, group)
        elif shape.has_text_frame:
            yield shape.text_frame.text
        elif getattr(shape, "has_table", False):
            for row in shape.table.rows:
                yield " | ".join(cell.text.strip() for cell in row.cells)


def _xlsx(data: bytes) -> Iterator[str]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            yield f"Sheet: {sheet.title}"
            for row in sheet.iter_rows(values_only=True):
                if any(cell is not None for cell in row):
                    yield _csv_line(row)
    finally:
        workbook.close()


def _csv_line(row: Sequence[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(
        "" if cell is None else cell for cell in row
    )
    return out.getvalue()


_READERS: dict[str, Callable[[bytes], Iterator[str]]] = {
    "PDF": _pdf,
    "DOCX": _docx,
    "PPTX": _pptx,
    "XLSX": _xlsx,
}
