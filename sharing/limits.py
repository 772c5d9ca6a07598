"""The per-address rate limit on share runs (api.md §13.2).

Counted by the shared window limiter (rightbrain/limits.py); the page and the
JSON endpoint share the counter.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from rightbrain.limits import window_refusal


def visitor_address(request: HttpRequest) -> str:
    """The client's address as the server saw it. Behind a proxy, the ASGI
    server's --proxy-headers (see the Makefile) has already put the real
    client there; headers are never trusted here."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def share_run_refused(address: str) -> int | None:
    """Count one run attempt from `address`; None when it may go ahead,
    otherwise the seconds until it may try again (for Retry-After)."""
    return window_refusal(
        f"share-runs:{address}", limit=settings.RB_SHARE_RUNS_PER_MINUTE
    )
