"""Errors the services raise, which every interface maps to its own answer.

The JSON API turns them into its error envelope (status and `detail` items with
`loc`); the dashboard into form messages. `field` names the offending input.
"""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    status = 422

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(DomainError):
    """Well-formed input that breaks a rule (API: 422)."""

    status = 422


class NotFound(DomainError):
    """A referenced object does not exist or is not visible (API: 404)."""

    status = 404


class Forbidden(DomainError):
    """The caller may not do this (API: 403)."""

    status = 403


class BadRequest(DomainError):
    """Malformed input the schema could not catch (API: 400)."""

    status = 400


class TooLarge(DomainError):
    """More bytes or files than a limit allows (API: 413)."""

    status = 413


class UnsupportedFile(DomainError):
    """A file of a type that is not accepted (API: 415)."""

    status = 415


class Unavailable(DomainError):
    """A service the request needs is not answering; nothing was kept (API: 503)."""

    status = 503


class TooManyRequests(DomainError):
    """Over a rate limit (API: 429 with Retry-After)."""

    status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class BudgetExhausted(DomainError):
    """A monthly credit budget is spent (API: 402) until `resets` (UTC)."""

    status = 402

    def __init__(self, message: str, *, resets: datetime):
        super().__init__(message)
        self.resets = resets
