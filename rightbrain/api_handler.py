"""The JSON API's own ASGI handler: `/api/v1/` without the browser's middleware.

Every `/api/v1/` endpoint authenticates by bearer token (or by nothing, for
public share links); none reads a session, a CSRF cookie, messages or the
logged-in user. Django's middleware stack still costs such a request a thread
hop per synchronous middleware on the way in and out (sessions, CSRF, auth,
messages, WhiteNoise), which is most of what an API call spends outside its
view. This handler serves the same URLconf and views with only what an API
response needs: the Host check, the security headers and the refusal of
malformed input (`rightbrain.malformed_input`).

A request it serves is marked `served_lean`; `rightbrain.blocking` then runs
database sections on a pool of threads instead of the one shared thread, so
concurrent runs do not queue behind each other's queries.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, cast

from asgiref.sync import markcoroutinefunction
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponseBase
from django.middleware.security import SecurityMiddleware

from rightbrain.malformed_input import malformed_input_middleware
from runs_app.files_origin import refusal_on_files_host

API_PREFIX = "/api/v1/"
RUN_PATH = re.compile(
    r"/api/v1/org/[^/]+/project/[^/]+/task/[^/]+/run/?", flags=re.ASCII
)

# True while this handler serves the current request (see module docstring).
served_lean: ContextVar[bool] = ContextVar("served_lean", default=False)

GetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


class _HostAndSecurityHeaders:
    """SecurityMiddleware's redirect and headers, and the ALLOWED_HOSTS check
    CommonMiddleware would make, run inline: they touch no database and no
    file, so they need no thread."""

    def __init__(self, get_response: GetResponse):
        self.get_response = get_response
        self.security = SecurityMiddleware(get_response)
        markcoroutinefunction(self)  # so Django awaits it (and its errors)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.get_host()  # DisallowedHost → 400, as on every other page
        redirect = self.security.process_request(request)  # SECURE_SSL_REDIRECT
        refused = refusal_on_files_host(request)  # RB_FILES_ORIGIN serves files only
        response = redirect or refused or await self.get_response(request)
        return self.security.process_response(request, response)  # type: ignore[arg-type]


class ApiASGIHandler(ASGIHandler):
    """An ASGIHandler whose middleware chain is `_HostAndSecurityHeaders`, then
    `malformed_input_middleware`."""

    def load_middleware(self, is_async: bool = False) -> None:
        # What BaseHandler.load_middleware sets up, with no middleware listed.
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        view = convert_exception_to_response(
            self._get_response_async  # type: ignore[attr-defined]
        )
        checked = convert_exception_to_response(malformed_input_middleware(view))
        self._middleware_chain = convert_exception_to_response(
            _HostAndSecurityHeaders(cast(GetResponse, checked))
        )

    async def __call__(self, scope, receive, send):  # noqa: ANN001
        token = served_lean.set(True)
        try:
            if settings.RB_DB_THREADS > 0 and _is_run(scope):
                # Django gives each request its own thread for thread-sensitive
                # work (ThreadSensitiveContext): a new thread per request. A run
                # does its database work on the database threads instead, so
                # it skips that; the little thread-sensitive work left (the
                # request signals) uses asgiref's one shared thread.
                await self.handle(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)
        finally:
            served_lean.reset(token)


def _is_run(scope: dict) -> bool:
    return scope["method"] == "POST" and RUN_PATH.fullmatch(scope["path"]) is not None


def is_api_request(scope: dict) -> bool:
    return scope["type"] == "http" and scope["path"].startswith(API_PREFIX)
