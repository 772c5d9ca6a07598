"""How a run's files leave the server: every download, from the API, a share
link or the files origin, is answered by `file_response`.

A file is hostile until proven otherwise, even one of the types a run accepts:
it is always a download (`Content-Disposition: attachment`), except JPEG and
PNG images whose stored bytes start as such, which may be shown inline; the
browser may not guess another type (`nosniff`), and were it to render the
file anyway, a sandboxing CSP gives it no scripts, no origin and nothing to
load.

With RB_FILES_ORIGIN set, download links are signed URLs on that origin that
expire after RB_FILES_URL_MAX_AGE seconds and name one file; the app's own
download addresses check access as before, then redirect there instead of
serving the bytes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.http import (
    FileResponse,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.urls import reverse

from runs_app import file_types, files
from runs_app.models import RunFile

FILE_CSP = "sandbox; default-src 'none'"
_SALT = "runs_app.file_serving.signed_file"
_SIGNATURES = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}


def file_response(file: RunFile) -> FileResponse:
    """The file's bytes with the headers that keep a browser from running them.

    Raises files.StoredFileMissing (404) when the bytes are gone and
    files.StoreUnavailable (503) when the store does not answer; the API turns
    both into its error envelope, pages into `refusal`."""
    handle = files.open_stored(file.storage_key)
    inline = _is_image(handle, file.content_type)
    known = file.content_type in file_types.BY_CONTENT_TYPE
    response = FileResponse(
        handle,
        content_type=file.content_type if known else "application/octet-stream",
        as_attachment=not inline,
        filename=file_types.download_name(file.original_filename, file.content_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private"
    return response


def refusal(message: str, status: int) -> HttpResponse:
    """A plain-text refusal where a file was asked for, as safe as a file."""
    response = HttpResponse(message, status=status, content_type="text/plain")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    return response


def refusal_for(
    error: files.StoredFileMissing | files.StoreUnavailable,
) -> HttpResponse:
    response = refusal(error.message, error.status)
    if error.status == 503:
        response["Retry-After"] = "30"
    return response


def _is_image(handle: Any, content_type: str) -> bool:
    """Whether the stored bytes start as the image type they are stored as
    (rows written before types were read from bytes may say otherwise)."""
    signature = _SIGNATURES.get(content_type)
    if signature is None:
        return False
    head = handle.read(len(signature))
    handle.seek(0)
    return head == signature


def files_origin() -> str:
    return settings.RB_FILES_ORIGIN


def files_host() -> str:
    return urlsplit(settings.RB_FILES_ORIGIN).netloc


def signed_url(file: RunFile) -> str:
    """An address on the files origin that serves this one file until it
    expires; it needs no other credential."""
    token = signing.dumps(str(file.pk), salt=_SALT)
    name = file_types.download_name(file.original_filename, file.content_type)
    path = reverse("signed_file", args=[token, quote(name, safe="")])
    return files_origin() + path


def signed_file_id(token: str) -> UUID | None:
    """The file a token names, or None when it is forged, altered or expired."""
    try:
        value = signing.loads(token, salt=_SALT, max_age=settings.RB_FILES_URL_MAX_AGE)
        return UUID(str(value))
    except (signing.BadSignature, ValueError):
        return None


def download_url(file: RunFile, app_path: str) -> str:
    """Where a client downloads the file: a signed URL on the files origin
    when there is one, else the app's own access-checked `app_path`."""
    return signed_url(file) if files_origin() else app_path


def file_download(file: RunFile) -> HttpResponseBase:
    """The answer of an app download address once access is checked: the
    bytes, or, with a files origin, a redirect to a fresh signed URL."""
    if files_origin():
        return HttpResponseRedirect(signed_url(file))
    return file_response(file)
