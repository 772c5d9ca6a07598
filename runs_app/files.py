"""Files sent with a run: decoding, the image rules, optimisation, storage.

Images must be JPEG or PNG (checked by reading them, not by trusting the name);
with `optimise_images` they are shrunk to at most RB_IMAGE_MAX_SIDE pixels on
the long side and re-encoded before they go to the model.
"""

from __future__ import annotations

import base64
import binascii
import io
import mimetypes
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from rightbrain.errors import BadRequest, Invalid
from rightbrain.ids import uuid7

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
_EXTENSIONS = {"image/jpeg": "jpeg", "image/png": "png"}


@dataclass
class Upload:
    filename: str
    data: bytes
    content_type: str
    is_image: bool


def _safe_name(filename: str) -> str:
    name = PurePath(filename or "file").name[:255]
    return name or "file"


def _kind_of(data: bytes, filename: str) -> tuple[str, bool]:
    """(content type, is an image we accept); other images are refused."""
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
    except (UnidentifiedImageError, OSError):
        guessed = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return guessed, False
    if image_format not in IMAGE_TYPES:
        raise Invalid(
            f"{filename}: {image_format or 'this'} images are not supported; send "
            "JPEG or PNG.",
            field="task_files",
        )
    return IMAGE_TYPES[image_format], True


def decode_task_files(items: list[dict[str, str]] | None) -> list[Upload]:
    """`task_files` of a JSON body: [{filename, content (base64)}]."""
    uploads: list[Upload] = []
    for index, item in enumerate(items or []):
        filename = _safe_name(str(item.get("filename") or f"file-{index}"))
        try:
            data = base64.b64decode(item.get("content") or "", validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(
                f"{filename}: content is not valid base64.",
                field=f"task_files.{index}.content",
            ) from None
        uploads.append(upload_from_bytes(filename, data))
    return uploads


def uploads_from_parts(parts: list[UploadedFile]) -> list[Upload]:
    """`task_files` parts of a multipart body, checked like the JSON ones."""
    uploads: list[Upload] = []
    for index, part in enumerate(parts):
        filename = _safe_name(part.name or f"file-{index}")
        # Refused before the bytes are read into memory.
        _refuse_oversized(filename, part.size or 0)
        uploads.append(upload_from_bytes(filename, part.read()))
    return uploads


def _refuse_oversized(filename: str, size: int) -> None:
    limit = settings.RB_MAX_FILE_BYTES
    if size > limit:
        raise Invalid(
            f"{filename} is {size // 1_000_000} MB; files may be at most "
            f"{limit // 1_000_000} MB.",
            field="task_files",
        )


def upload_from_bytes(filename: str, data: bytes) -> Upload:
    _refuse_oversized(filename, len(data))
    if not data:
        raise BadRequest(f"{filename} is empty.", field="task_files")
    content_type, is_image = _kind_of(data, filename)
    return Upload(filename, data, content_type, is_image)


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
    """Save the bytes; returns (stored filename, storage key)."""
    extension = _EXTENSIONS.get(upload.content_type) or (
        PurePath(upload.filename).suffix.lstrip(".").lower()[:10] or "bin"
    )
    stored_filename = f"{uuid7()}.{extension}"
    key = default_storage.save(
        storage_key_for(task_id, stored_filename), ContentFile(upload.data)
    )
    return stored_filename, key


def read_stored(key: str) -> bytes:
    with default_storage.open(key, "rb") as stored:
        return stored.read()


def delete_stored(keys: list[str]) -> None:
    for key in keys:
        default_storage.delete(key)
