"""The JSON API: one NinjaAPI instance, its error envelope, and the app routers.

Errors follow api.md §1.4: envelope problems (malformed JSON, wrong types,
missing fields, bad enums, malformed UUIDs) answer 400; rules broken by
well-formed input answer 422; both as an `ErrorResponse` whose `detail` items
name the offending field in `loc`.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from rightbrain.api_common import error_body, iam_style
from rightbrain.errors import DomainError, TooManyRequests
from rightbrain.orgs.api import router as credentials_router
from rightbrain.orgs.audit_api import router as audit_router
from rightbrain.orgs.auth import BearerAuth
from runs_app.api import router as runs_router
from runs_app.budgets_api import router as budgets_router
from runs_app.reports_api import router as reports_router
from sharing.api import router as sharing_router
from tasks_app.api import router as tasks_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Rightbrain API",
    version="1.0.0",
    description=(
        "Build, version, run and monitor LLM tasks. Authenticate with "
        "`Authorization: Bearer <token>`: an API key, an OAuth 2.0 access token, or "
        "a task's own access token (runs of that task only)."
    ),
    auth=BearerAuth(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def error_response(
    request: HttpRequest, status: int, detail, msg: str | None = None
) -> HttpResponse:
    return api.create_response(request, error_body(status, detail, msg), status=status)


def _is_iam_style(request: HttpRequest) -> bool:
    return iam_style(request.path)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    if _is_iam_style(request):
        return api.create_response(
            request,
            {
                "message": "Authentication is required.",
                "reason": "MISSING_AUTHENTICATION",
                "missingAuthenticationError": {},
            },
            status=403,
        )
    return error_response(
        request,
        401,
        "Missing, invalid or expired credentials. Send Authorization: Bearer <token>.",
        "Not authenticated",
    )


@api.exception_handler(ValidationError)
def _invalid_envelope(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = [
        {
            "loc": [str(part) for part in error.get("loc", [])],
            "msg": error.get("msg", "Invalid value"),
            "type": error.get("type", "value_error"),
        }
        for error in exc.errors
    ]
    if _is_iam_style(request):
        # The IAM endpoints and the credit report answer HTTPValidationError.
        return api.create_response(request, {"detail": detail}, status=422)
    return error_response(request, 400, detail, "The request is malformed.")


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    if exc.field is None:
        return error_response(request, exc.status, exc.message)
    loc = ["body", *exc.field.split(".")]
    detail = [{"loc": loc, "msg": exc.message, "type": "value_error"}]
    return error_response(request, exc.status, detail, exc.message)


@api.exception_handler(TooManyRequests)
def _rate_limited(request: HttpRequest, exc: TooManyRequests) -> HttpResponse:
    response = error_response(request, 429, exc.message, "Rate limited")
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, str(exc) or "Not found.")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, str(exc) or "You do not have permission.")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, 413, "The request body is too large.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, str(exc))


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled API error on %s %s", request.method, request.path)
    return error_response(request, 500, "Something went wrong on our side.")


api.add_router("", tasks_router)
api.add_router("", runs_router)
api.add_router("", reports_router)
api.add_router("", budgets_router)
api.add_router("", credentials_router)
api.add_router("", audit_router)
api.add_router("", sharing_router)
