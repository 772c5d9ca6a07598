"""The files origin (RB_FILES_ORIGIN): a second host name pointed at this app
that serves run files by signed URL and nothing else.

The app's pages and the files never share an origin then: a file that a
browser did render could read no session and call no endpoint as the user.
Requests for the files host reach only `signed_file`; `signed_file` answers
only there.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.http import require_GET

from runs_app import file_serving, files
from runs_app.models import RunFile

FILES_PREFIX = "/files/"


def _on_files_host(request: HttpRequest) -> bool:
    host = file_serving.files_host()
    return bool(host) and request.get_host() == host


def _refused(message: str, status: int) -> HttpResponse:
    return file_serving.refusal(message, status)


def refusal_on_files_host(request: HttpRequest) -> HttpResponse | None:
    """A 404 for anything but a file link asked of the files host (the API's
    own handler asks this too, as it skips the middleware)."""
    if _on_files_host(request) and not request.path.startswith(FILES_PREFIX):
        return _refused("Not found.", 404)
    return None


def files_origin_only(
    get_response: Callable[[HttpRequest], HttpResponseBase],
) -> Callable[[HttpRequest], HttpResponseBase]:
    """Middleware: the files host serves signed files, not the app."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        return refusal_on_files_host(request) or get_response(request)

    return middleware


@require_GET
def signed_file(request: HttpRequest, token: str, name: str) -> HttpResponseBase:
    """One run file, for whoever holds an unexpired link to it."""
    if not _on_files_host(request):
        return _refused("Not found.", 404)
    file_id = file_serving.signed_file_id(token)
    if file_id is None:
        return _refused(
            "This file link has expired or is not valid; open the file again "
            "from where you found it.",
            403,
        )
    file = RunFile.objects.filter(pk=file_id).first()
    if file is None:
        return _refused("This file no longer exists.", 404)
    try:
        return file_serving.file_response(file)
    except (files.StoredFileMissing, files.StoreUnavailable) as error:
        return file_serving.refusal_for(error)
