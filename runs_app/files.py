"""Files sent with or made by a run: decoding, the accepted types, the limits,
optimisation, storage.

Every file a run stores passes `upload_from_bytes` (sent) or
`generated_upload` (made): its type is read from its bytes
(runs_app/file_types.py) and only the types a run can use are kept. Images
must be JPEG or PNG; with `optimise_images` they are shrunk to at most
RB_IMAGE_MAX_SIDE pixels on the long side and re-encoded before they go to the
model. A request may carry at most RB_MAX_FILES_PER_RUN files of at most
RB_MAX_FILE_BYTES each and RB_MAX_RUN_UPLOAD_BYTES together; all of that is
checked before anything is stored (multipart parts before they are read).

The bytes go through Django's default storage: local disk by default, a
private S3-compatible bucket with RB_S3_BUCKET (rightbrain/settings.py). A
store that fails is a 503 with nothing kept, a file gone from it a 404.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from rightbrain.errors import (
    BadRequest,
    Invalid,
    NotFound,
    TooLarge,
    Unavailable,
    UnsupportedFile,
)
from rightbrain.ids import uuid7
from runs_app import file_types

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
FIELD = "task_files"
# What the storage backends raise when the store fails: local disk, or an
# S3-compatible bucket through boto3.
STORE_ERRORS = (OSError, BotoCoreError, ClientError, Boto3Error)

logger = logging.getLogger(__name__)


class StoreUnavailable(Unavailable):
    """The file store did not take or give back a file."""


class StoredFileMissing(NotFound):
    """A file's row exists but its bytes are gone from the store."""


@dataclass
class Upload:
    filename: str
    data: bytes
    content_type: str
    is_image: bool


def _safe_name(filename: str) -> str:
    name = PurePath(filename or "file").name[:255]
    return name or "file"


def _image_format(data: bytes) -> str | None:
    """The format Pillow reads `data` as, or None when it is no image."""
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
    except (UnidentifiedImageError, PILImage.DecompressionBombError, OSError):
        return None
    # Phones save photos as MPO: a JPEG with more frames after the first,
    # which every JPEG reader shows as that first frame.
    return "JPEG" if image_format == "MPO" else image_format


def _kind_of(data: bytes, filename: str) -> file_types.FileType:
    """The accepted type of a sent file; 422 for images other than JPEG and
    PNG (a rule the API has always stated), 415 for anything else."""
    try:
        kind = file_types.sniffed(data, filename, allowed=file_types.INPUT_TYPES)
    except file_types.NotAccepted as refused:
        image_format = _image_format(data)
        if image_format:
            raise Invalid(
                f"{filename}: {image_format} images are not supported; send "
                "JPEG or PNG.",
                field=FIELD,
            ) from None
        raise UnsupportedFile(str(refused), field=FIELD) from None
    if kind in file_types.IMAGES and _image_format(data) != kind.label:
        # The right first bytes are not enough: the model must be able to read it.
        raise UnsupportedFile(
            f"{filename} is not a readable {kind.label} image; it may be damaged.",
            field=FIELD,
        )
    return kind


def _refuse_too_many(count: int) -> None:
    limit = settings.RB_MAX_FILES_PER_RUN
    if count > limit:
        raise TooLarge(
            f"{count} files were sent; a run takes at most {limit}.", field=FIELD
        )


def _refuse_oversized(filename: str, size: int) -> None:
    limit = settings.RB_MAX_FILE_BYTES
    if size > limit:
        raise TooLarge(
            f"{filename} is {_megabytes(size)}; files may be at most "
            f"{_megabytes(limit)}.",
            field=FIELD,
        )


def _refuse_over_total(sizes: Sequence[int]) -> None:
    limit = settings.RB_MAX_RUN_UPLOAD_BYTES
    total = sum(sizes)
    if total > limit:
        raise TooLarge(
            f"The files sent add up to {_megabytes(total)}; a run's files may "
            f"add up to at most {_megabytes(limit)}.",
            field=FIELD,
        )


def _megabytes(size: int) -> str:
    if size % 1_000_000 == 0 or size >= 10_000_000:
        return f"{size // 1_000_000} MB"
    return f"{size:,} bytes"


def refuse_oversized_body(request: HttpRequest) -> None:
    """413 for a multipart body larger than a run's files and other fields
    together may be, before it is parsed: Django would otherwise write every
    part to disk first, only for the limits to refuse them."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    limit = settings.RB_MAX_RUN_UPLOAD_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length > limit:
        raise TooLarge(
            f"The request body is {_megabytes(length)}; a run's files may add up "
            f"to at most {_megabytes(settings.RB_MAX_RUN_UPLOAD_BYTES)}.",
            field=FIELD,
        )


def decode_task_files(items: list[dict[str, str]] | None) -> list[Upload]:
    """`task_files` of a JSON body: [{filename, content (base64)}]."""
    items = items or []
    _refuse_too_many(len(items))
    decoded: list[tuple[str, bytes]] = []
    for index, item in enumerate(items):
        filename = _safe_name(str(item.get("filename") or f"file-{index}"))
        try:
            data = base64.b64decode(item.get("content") or "", validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(
                f"{filename}: content is not valid base64.",
                field=f"task_files.{index}.content",
            ) from None
        _refuse_oversized(filename, len(data))
        decoded.append((filename, data))
    _refuse_over_total([len(data) for _name, data in decoded])
    return [upload_from_bytes(filename, data) for filename, data in decoded]


def uploads_from_parts(parts: list[UploadedFile]) -> list[Upload]:
    """`task_files` parts of a multipart body, checked like the JSON ones."""
    _refuse_too_many(len(parts))
    names = [_safe_name(part.name or f"file-{i}") for i, part in enumerate(parts)]
    # Refused before the bytes are read into memory.
    for filename, part in zip(names, parts, strict=True):
        _refuse_oversized(filename, part.size or 0)
    _refuse_over_total([part.size or 0 for part in parts])
    return [
        upload_from_bytes(filename, part.read())
        for filename, part in zip(names, parts, strict=True)
    ]


def check_run_uploads(uploads: Sequence[Upload]) -> None:
    """The per-run limits over files gathered from several form fields."""
    _refuse_too_many(len(uploads))
    _refuse_over_total([len(upload.data) for upload in uploads])


def upload_from_bytes(filename: str, data: bytes) -> Upload:
    _refuse_oversized(filename, len(data))
    if not data:
        raise BadRequest(f"{filename} is empty.", field=FIELD)
    kind = _kind_of(data, filename)
    return Upload(filename, data, kind.content_type, kind in file_types.IMAGES)


def generated_upload(filename: str, data: bytes) -> Upload:
    """A file a run produced, typed by its bytes like a sent one; raises
    NotAccepted when it is none of the types a run may produce."""
    kind = file_types.sniffed(data, filename, allowed=file_types.OUTPUT_TYPES)
    return Upload(filename, data, kind.content_type, kind in file_types.IMAGES)


def optimised(upload: Upload) -> bytes:
    """The image shrunk to the longest-side limit and re-encoded."""
    max_side = settings.RB_IMAGE_MAX_SIDE
    with PILImage.open(io.BytesIO(upload.data)) as image:
        image.load()
        if max(image.size) > max_side:
            image.thumbnail((max_side, max_side))
        out = io.BytesIO()
        if upload.content_type == "image/jpeg":
            image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        else:
            image.save(out, "PNG", optimize=True)
    return out.getvalue()


def storage_key_for(task_id: object, stored_filename: str) -> str:
    return f"runs/{task_id}/{stored_filename}"


def store(upload: Upload, *, task_id: object) -> tuple[str, str]:
    """Save the bytes; returns (stored filename, storage key). Only accepted
    types reach here, and the stored name carries their extension, never the
    sender's (a storage or proxy that types files by name serves them right)."""
    kind = file_types.BY_CONTENT_TYPE.get(upload.content_type)
    if kind is None:
        raise UnsupportedFile(
            f"{upload.filename} ({upload.content_type}) is not a type runs store.",
            field=FIELD,
        )
    extension = kind.extension
    stored_filename = f"{uuid7()}.{extension}"
    try:
        key = default_storage.save(
            storage_key_for(task_id, stored_filename), ContentFile(upload.data)
        )
    except STORE_ERRORS as error:
        logger.warning("Storing %s failed: %s", upload.filename, error)
        raise StoreUnavailable(
            "File storage is not answering, so the run's files could not be "
            "kept; nothing was saved. Try again shortly.",
            field=FIELD,
        ) from error
    return stored_filename, key


def store_all(
    uploads: Iterable[Upload], *, task_id: object
) -> list[tuple[Upload, str, str]]:
    """Store every upload, or none: when one fails, those already stored are
    deleted again before StoreUnavailable is raised."""
    stored: list[tuple[Upload, str, str]] = []
    try:
        for upload in uploads:
            stored.append((upload, *store(upload, task_id=task_id)))
    except StoreUnavailable:
        delete_stored([key for _upload, _name, key in stored])
        raise
    return stored


def open_stored(key: str) -> File:
    """The stored file, open for reading. Its bytes are fetched here, so a
    missing file or a failing store is known before an answer starts."""
    try:
        handle = default_storage.open(key, "rb")
        handle.read(0)
    except FileNotFoundError:
        raise StoredFileMissing("This file no longer exists.") from None
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey"}:
            raise StoredFileMissing("This file no longer exists.") from None
        raise _unreadable(key, error) from error
    except STORE_ERRORS as error:
        raise _unreadable(key, error) from error
    return handle


def _unreadable(key: str, error: Exception) -> StoreUnavailable:
    logger.warning("Reading %s from file storage failed: %s", key, error)
    return StoreUnavailable(
        "File storage is not answering, so this file cannot be read right now. "
        "Try again shortly."
    )


def read_stored(key: str) -> bytes:
    with open_stored(key) as stored:
        return stored.read()


def delete_stored(keys: list[str]) -> None:
    """Delete what can be deleted. Called once the rows are gone (or were
    never written), so a store that fails now leaves an orphaned object,
    logged, rather than failing what the user asked for."""
    for key in keys:
        try:
            default_storage.delete(key)
        except STORE_ERRORS as error:
            logger.warning("Deleting %s from file storage failed: %s", key, error)
