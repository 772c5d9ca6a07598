"""Input no view should ever see, refused once at the edge for every request.

Some input is malformed in a way no schema catches and every layer below
trips over differently:

* NUL characters: PostgreSQL refuses them in text (a server error), SQLite
  stores them; either way they are never meant.
* Unpaired UTF-16 surrogates (`"\\ud800"` in JSON): not characters, so they
  cannot be encoded as UTF-8 for the database or a provider.
* JSON nested deeper than any document of ours: Python's `json` recurses and
  raises `RecursionError` on ~1,000 levels, and everything that walks the
  parsed value after it (validation, storage) recurses again.
* `NaN` and `Infinity`, which Python's `json` accepts and JSON does not: the
  database refuses to store them.

`malformed_input_middleware` looks at the path, the query string, cookies, form
fields and multipart parts (names and file names; a file's contents are its
own business) and JSON bodies, and answers before any view runs — 422 for a
NUL or a surrogate, 400 for what cannot be read — with the API's error
envelope under `/api/`, a short plain page elsewhere. It sits in
`MIDDLEWARE` for the site and in the JSON API's own handler
(`rightbrain.api_handler`), so both databases and both stacks behave the same.
A body over `DATA_UPLOAD_MAX_MEMORY_SIZE` answers 413.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousMultipartForm,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.decorators import sync_and_async_middleware

from rightbrain.api_common import error_body, iam_style

MAX_JSON_DEPTH = 64
# Bodies larger than this are checked on a worker thread when served
# asynchronously, so a large upload does not hold up the event loop.
_CHECK_INLINE_BYTES = 64 * 1024

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")
# Outside JSON strings, what may decode to a non-finite number: NaN, Infinity
# and numbers too long or too large for a float.
_SUSPECT_NUMBER = re.compile(rb"NaN|Infinity|[0-9]{300}|[eE][+-]?[0-9]{3}")
# A NUL (escaped by json.dumps, after an even run of backslashes) or a
# surrogate in dumped JSON text.
_DUMPED_PROBLEM = re.compile(r"(?<!\\)(?:\\\\)*\\u0000|[\ud800-\udfff]")
# Bodies larger than this are not walked to locate a problem.
_WALK_BYTES = 1_000_000
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
# Opening brackets count +1, closing ones -1 (0xff as a signed byte).
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


@dataclass(frozen=True)
class Problem:
    """What is wrong and where. As everywhere in the API (api.md §1.4), input
    that cannot be read is a 400, a readable value that breaks a rule (a NUL
    in a well-formed string) a 422."""

    loc: tuple[str | int, ...]
    msg: str
    status: int = 422


class _Refused(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


def json_depth(data: bytes) -> int:
    """How deeply `data`'s arrays and objects nest, read without parsing it
    (brackets inside strings do not count)."""
    return _depth(_without_strings(data))


def _without_strings(data: bytes) -> bytes:
    return _JSON_STRING.sub(b"", data) if b'"' in data else data


def _depth(structure: bytes) -> int:
    steps = structure.translate(None, _NOT_BRACKETS).translate(_BRACKET_STEPS)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def _text_problem(text: str, loc: tuple[str | int, ...]) -> Problem | None:
    found = _NUL_OR_SURROGATE.search(text)
    if found is not None:
        if found.group() == "\x00":
            return Problem(loc, "NUL characters are not allowed.")
        return Problem(
            loc, "Unpaired UTF-16 surrogates (\\ud800–\\udfff) are not characters."
        )
    # Text that is itself JSON (a multipart task_input part, a JSON query
    # value) is parsed by the view behind us: bound its nesting too.
    if text.lstrip()[:1] in ("[", "{") and _too_deep(text.encode("utf-8")):
        return Problem(loc, _too_deep_message(), status=400)
    return None


def _too_deep(data: bytes) -> bool:
    return json_depth(data) > MAX_JSON_DEPTH


def _suspect(body: bytes, structure: bytes) -> bool:
    """Whether `body` may decode to a NUL, a surrogate or a non-finite number:
    only escapes (inside strings), bytes that are not UTF-8, and NaN, Infinity
    or huge numbers (outside strings) can."""
    return (
        b"\\u" in body
        or not _is_utf8(body)
        or _SUSPECT_NUMBER.search(structure) is not None
    )


def _too_deep_message() -> str:
    return f"JSON may nest arrays and objects at most {MAX_JSON_DEPTH} deep."


def _json_value_problem(value: Any, loc: tuple[str | int, ...]) -> Problem | None:
    # Bounded recursion: the body nests at most MAX_JSON_DEPTH deep.
    if isinstance(value, str):
        return _text_problem(value, loc)
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _text_problem(key, loc) or _json_value_problem(item, (*loc, key))
            if problem:
                return problem
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problem = _json_value_problem(item, (*loc, index))
            if problem:
                return problem
    return None


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _Refused(Problem(("body",), "Numbers must be finite.", status=400))
    return number


def _non_json_constant(name: str) -> Any:
    raise _Refused(Problem(("body",), f"{name} is not a JSON number.", status=400))


def _json_body_problem(body: bytes) -> Problem | None:
    structure = _without_strings(body)
    if _depth(structure) > MAX_JSON_DEPTH:
        return Problem(("body",), _too_deep_message(), status=400)
    if not _suspect(body, structure):
        return None  # nothing to find: no need to parse it here
    try:
        value = json.loads(body, parse_float=_finite, parse_constant=_non_json_constant)
    except _Refused as refused:
        return refused.problem
    except ValueError:
        return None  # not JSON: the view answers that in its own words
    # One pass in C finds out whether anything is wrong; only then is the
    # value walked (in Python) to say where, unless it is too big to walk.
    found = _DUMPED_PROBLEM.search(json.dumps(value, ensure_ascii=False))
    if found is None:
        return None
    if len(body) > _WALK_BYTES:
        nul = found.group().endswith("u0000")
        return _text_problem("\x00" if nul else found.group(), ("body",))
    return _json_value_problem(value, ("body",))


def _is_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _form_fields(request: HttpRequest) -> Iterator[tuple[tuple[str, ...], str]]:
    for name, values in request.POST.lists():
        yield ("body",), name
        for value in values:
            yield ("body", name), value
    for name, files in request.FILES.lists():
        yield ("body",), name
        for file in files:
            yield ("body", name), file.name or ""


def _query_fields(request: HttpRequest) -> Iterator[tuple[tuple[str, ...], str]]:
    for name, values in request.GET.lists():
        yield ("query",), name
        for value in values:
            yield ("query", name), value


def _cookie_fields(request: HttpRequest) -> Iterator[tuple[tuple[str, ...], str]]:
    for name, value in request.COOKIES.items():
        yield ("cookie",), name
        yield ("cookie", name), value


def problem_of(request: HttpRequest) -> Problem | None:
    """What makes `request` unfit for any view, or None."""
    try:
        return _problem_of(request)
    except RequestDataTooBig:
        return Problem(("body",), "The request body is too large.", status=413)
    except (
        TooManyFieldsSent,
        TooManyFilesSent,
        MultiPartParserError,
        SuspiciousMultipartForm,
    ) as error:
        return Problem(("body",), f"The request could not be read: {error}", status=400)


def _problem_of(request: HttpRequest) -> Problem | None:
    problem = _text_problem(request.path_info, ("path",))
    if problem:
        return problem
    for loc, text in (*_query_fields(request), *_cookie_fields(request)):
        problem = _text_problem(text, loc)
        if problem:
            return problem
    if request.content_type in _FORM_TYPES:
        if request.method != "POST":
            return None  # Django parses form bodies of POSTs only
        for loc, text in _form_fields(request):
            problem = _text_problem(text, loc)
            if problem:
                return problem
        return None
    body = request.body
    return _json_body_problem(body) if body else None


def refusal(request: HttpRequest, problem: Problem) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        detail = [
            {
                "loc": [str(part) for part in problem.loc],
                "msg": problem.msg,
                "type": "value_error",
            }
        ]
        if iam_style(request.path_info) and problem.status != 413:
            return JsonResponse({"detail": detail}, status=422)
        return JsonResponse(
            error_body(problem.status, detail, "The request is malformed."),
            status=problem.status,
        )
    where = ".".join(str(part) for part in problem.loc)
    return HttpResponse(
        f"Bad request ({where}): {problem.msg}\n",
        status=problem.status,
        content_type="text/plain; charset=utf-8",
    )


def _large(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > _CHECK_INLINE_BYTES
    except ValueError:
        return False


@sync_and_async_middleware
def malformed_input_middleware(get_response):
    if iscoroutinefunction(get_response):

        async def check_async(request: HttpRequest):
            if _large(request):
                problem = await sync_to_async(problem_of, thread_sensitive=False)(
                    request
                )
            else:
                problem = problem_of(request)
            if problem is not None:
                return refusal(request, problem)
            return await get_response(request)

        return check_async

    def check(request: HttpRequest):
        problem = problem_of(request)
        if problem is not None:
            return refusal(request, problem)
        return get_response(request)

    return check
