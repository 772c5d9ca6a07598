"""What every API router shares (api.md §1): the project path prefix, the error
envelope, the pagination details and the page-size rule.

It sits at the bottom of the dependency chain so that every app's router can
use it; rightbrain/api.py, which mounts those routers, sits at the top.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pydantic
from django.http import HttpResponse
from ninja import Schema
from ninja.errors import HttpError, ValidationError
from ninja.responses import NinjaJSONEncoder

# Every project-scoped route spells this prefix: ninja reads path parameters
# from a route's own path, not from the prefix a router is mounted under.
PROJECT = "/v1/org/{org_id}/project/{project_id}"
MAX_PAGE_LIMIT = 1000


class ErrorDetailItem(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(Schema):
    detail: str | list[ErrorDetailItem]
    type: (
        Literal[
            "validation_error", "authorization_error", "resource_error", "server_error"
        ]
        | None
    ) = None
    msg: str | None = None


class PaginationDetails(Schema):
    next_cursor: str | None = None
    has_next: bool | None = False
    page_limit: int | None = None


ERRORS: dict[int, Any] = {
    400: ErrorResponse,
    401: ErrorResponse,
    403: ErrorResponse,
    404: ErrorResponse,
    422: ErrorResponse,
    # Every credential and project is rate-limited (rightbrain/orgs/limits.py).
    429: ErrorResponse,
    500: ErrorResponse,
}
# What an endpoint that takes files may also answer: too large or too many
# (413), a type runs do not accept (415).
FILE_ERRORS: dict[int, Any] = {413: ErrorResponse, 415: ErrorResponse}


def page_limit_of(value: int) -> int:
    """Below 1 is a 400; above the maximum is clamped to it (api.md §1.3)."""
    if value < 1:
        raise HttpError(400, "page_limit must be at least 1.")
    return min(value, MAX_PAGE_LIMIT)


def json_null() -> HttpResponse:
    """The body of a successful delete: JSON `null` (api.md §3.5, §12.1)."""
    return HttpResponse(b"null", content_type="application/json")


def json_ready(data: Any) -> Any:
    """`data` as plain JSON types (UUIDs, dates and decimals as the API writes
    them), for values cached and sent many times: encoding them is then cheap."""
    return json.loads(json.dumps(data, cls=NinjaJSONEncoder))


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """Answer with `data` as JSON without re-validating it against the schema.

    For the hottest endpoints, whose bodies are built field by field to match
    their documented schema: validating large nested bodies again costs more
    than the rest of the request. The contract test (schemathesis) holds every
    answer to the OpenAPI document.
    """
    return HttpResponse(
        json.dumps(data, cls=NinjaJSONEncoder),
        content_type="application/json",
        status=status,
    )


ERROR_TYPES = {
    400: "validation_error",
    401: "authorization_error",
    # Not the caller's fault, nor ours: a budget or a rate limit says not now.
    402: "authorization_error",
    403: "authorization_error",
    404: "resource_error",
    413: "validation_error",
    415: "validation_error",
    422: "validation_error",
    429: "authorization_error",
}


def iam_style(path: str) -> bool:
    """Whether `path` answers errors in the IAM shapes: the IAM endpoints and
    the credit report answer a missing token with 403 MISSING_AUTHENTICATION
    and malformed input with 422 HTTPValidationError (api.md §1.2)."""
    return "/iam/" in path or path.endswith("/credit_report")


def error_body(status: int, detail: Any, msg: str | None = None) -> dict[str, Any]:
    """An ErrorResponse body (api.md §1.4) for `status`."""
    body = {"detail": detail, "type": ERROR_TYPES.get(status, "server_error")}
    if msg:
        body["msg"] = msg
    return body


def validated_body[M: pydantic.BaseModel](schema: type[M], data: Any) -> M:
    """`data` as `schema`, or the 400 ninja gives for envelope errors — for
    bodies a view reads itself (JSON or multipart) rather than through ninja."""
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as error:
        raise ValidationError(
            [
                {
                    "loc": ("body", *item["loc"]),
                    "msg": item["msg"],
                    "type": item["type"],
                }
                for item in error.errors(include_url=False)
            ]
        ) from None
