"""What a file is, read from its bytes: the only types a run stores.

A run can use JPEG and PNG images (vision models) and the documents the
document extractor reads (PDF, DOCX, PPTX, XLSX, CSV, plain text); a run can
produce CSV, PDF, PNG/JPEG images and speech. Anything else (HTML, SVG,
scripts, archives, executables) is refused before it is stored, so no file a
visitor sends can be served back as something a browser would run.

The kind comes from the content; a filename never makes a file acceptable. It
may only narrow: a text file must be named as text (or have no extension),
so `evil.js` is refused even though its bytes are valid text.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    label: str
    # Extensions a name of this type may carry; others get ours appended when
    # the file is downloaded, so the saved file opens as what it is.
    extensions: frozenset[str]


JPEG = FileType("image/jpeg", "jpeg", "JPEG", frozenset({".jpeg", ".jpg"}))
PNG = FileType("image/png", "png", "PNG", frozenset({".png"}))
PDF = FileType("application/pdf", "pdf", "PDF", frozenset({".pdf"}))
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docx",
    "DOCX",
    frozenset({".docx"}),
)
PPTX = FileType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pptx",
    "PPTX",
    frozenset({".pptx"}),
)
XLSX = FileType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsx",
    "XLSX",
    frozenset({".xlsx", ".xlsm"}),
)
CSV = FileType("text/csv", "csv", "CSV", frozenset({".csv"}))
TEXT = FileType("text/plain", "txt", "TXT", frozenset({".txt", ".md", ".text"}))
MP3 = FileType("audio/mpeg", "mp3", "MP3", frozenset({".mp3"}))
WAV = FileType("audio/wav", "wav", "WAV", frozenset({".wav"}))
OGG = FileType("audio/ogg", "ogg", "Ogg", frozenset({".ogg", ".opus", ".oga"}))
AAC = FileType("audio/aac", "aac", "AAC", frozenset({".aac"}))
FLAC = FileType("audio/flac", "flac", "FLAC", frozenset({".flac"}))

IMAGES = (JPEG, PNG)
DOCUMENTS = (PDF, DOCX, PPTX, XLSX, CSV, TEXT)
AUDIO = (MP3, WAV, OGG, AAC, FLAC)
# What a run may be sent: no processor takes audio, so no audio goes in.
INPUT_TYPES = (*IMAGES, *DOCUMENTS)
# What a run may produce (runs_app/outputs.py).
OUTPUT_TYPES = (*IMAGES, PDF, CSV, *AUDIO)
# The only types a browser is ever asked to show rather than save.
INLINE_TYPES = frozenset(t.content_type for t in IMAGES)
BY_CONTENT_TYPE = {t.content_type: t for t in (*INPUT_TYPES, *OUTPUT_TYPES)}
ACCEPTED_LABEL = "JPEG, PNG, PDF, DOCX, PPTX, XLSX, CSV or TXT"

# The formats the Office ones replaced: no reader here opens them.
LEGACY_OFFICE = {".doc": "DOCX", ".ppt": "PPTX", ".xls": "XLSX"}
_OFFICE_PARTS = {
    "word/document.xml": DOCX,
    "ppt/presentation.xml": PPTX,
    "xl/workbook.xml": XLSX,
}
# Control characters that never occur in text (tab, newlines and form feed do).
_BINARY_BYTES = frozenset({*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)})
# How a browser recognises HTML and XML (WHATWG MIME Sniffing §7.1): these
# starts, after leading whitespace, followed by a space or `>`.
_MARKUP_TAGS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<body",
    b"<br",
    b"<p",
    b"<!--",
    b"<svg",
)
_TAG_ENDS = b" \t\n\x0c\r>"
_SNIFF_BYTES = 4096


class NotAccepted(ValueError):
    """The bytes are none of the wanted types; the message says what they are."""


def _extension(filename: str) -> str:
    return PurePath(filename).suffix.lower()


def _zip_type(data: bytes) -> FileType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    for part, kind in _OFFICE_PARTS.items():
        if part in names:
            return kind
    return None


def _audio_type(head: bytes) -> FileType | None:
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"ID3"):
        return MP3
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS frame: layer bits 00
            return AAC
        if head[1] & 0xE0 == 0xE0:  # MPEG audio frame sync
            return MP3
    return None


def _binary_type(data: bytes) -> FileType | None:
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    return _audio_type(head)


def looks_like_markup(data: bytes) -> bool:
    """Whether a browser that sniffed these bytes would take them for HTML or
    XML (and so run their scripts)."""
    head = data[:_SNIFF_BYTES].lstrip(b" \t\n\x0c\r").lower()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip(b" \t\n\x0c\r")
    if head.startswith(b"<?xml"):
        return True
    for tag in _MARKUP_TAGS:
        if head.startswith(tag):
            rest = head[len(tag) : len(tag) + 1]
            if tag == b"<!--" or not rest or rest in _TAG_ENDS:
                return True
    return False


def _text_type(data: bytes, filename: str) -> FileType:
    name = PurePath(filename).name
    extension = _extension(filename)
    if extension and extension not in CSV.extensions | TEXT.extensions:
        raise NotAccepted(
            f"{name} is not a file type runs accept; send {ACCEPTED_LABEL}."
        )
    if any(byte in _BINARY_BYTES for byte in data[:_SNIFF_BYTES]):
        raise NotAccepted(
            f"{name} is not a file type runs accept; send {ACCEPTED_LABEL}."
        )
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotAccepted(
            f"{name} is not UTF-8 text; save it as UTF-8, or send {ACCEPTED_LABEL}."
        ) from None
    if looks_like_markup(data):
        raise NotAccepted(
            f"{name} looks like HTML or XML, which runs do not accept; send plain "
            f"text, or {ACCEPTED_LABEL}."
        )
    return CSV if extension in CSV.extensions else TEXT


def sniffed(data: bytes, filename: str, *, allowed: tuple[FileType, ...]) -> FileType:
    """The type of `data` among `allowed`, or NotAccepted saying why not."""
    name = PurePath(filename).name
    extension = _extension(filename)
    if extension in LEGACY_OFFICE:
        raise NotAccepted(
            f"{name} is in an old binary format; save it as "
            f"{LEGACY_OFFICE[extension]} and send it again."
        )
    kind = _binary_type(data)
    claimed = BY_CONTENT_TYPE.get(_claimed_type(extension))
    named_as_text = claimed is None or claimed in (TEXT, CSV)
    if kind is None and named_as_text and (TEXT in allowed or CSV in allowed):
        kind = _text_type(data, filename)
    if kind is None or kind not in allowed:
        if claimed is not None and claimed in allowed:
            raise NotAccepted(
                f"{name} is not a readable {claimed.label} file; it may be damaged."
            )
        raise NotAccepted(
            f"{name} is not a file type runs accept; send {ACCEPTED_LABEL}."
        )
    return kind


def _claimed_type(extension: str) -> str:
    for kind in (*INPUT_TYPES, *OUTPUT_TYPES):
        if extension in kind.extensions:
            return kind.content_type
    return ""


def download_name(original: str, content_type: str) -> str:
    """The name a download is saved under: the sender's, with the extension of
    what the file really is when the sender's name says otherwise."""
    kind = BY_CONTENT_TYPE.get(content_type)
    if kind is None or _extension(original) in kind.extensions:
        return original
    return f"{original}.{kind.extension}"
