"""The per-address rate limit on share runs (api.md §13.2).

A fixed one-minute window counted in the cache: `add` creates the window's
counter, `incr` adds atomically (in Redis across every process; in the local
memory cache within one), so concurrent requests cannot both take the last
slot. The page and the JSON endpoint share the counter.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

WINDOW_SECONDS = 60


def visitor_address(request: HttpRequest) -> str:
    """The client's address as the server saw it. Behind a proxy, the ASGI
    server's --proxy-headers (see the Makefile) has already put the real
    client there; headers are never trusted here."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def share_run_refused(address: str) -> int | None:
    """Count one run attempt from `address`; None when it may go ahead,
    otherwise the seconds until it may try again (for Retry-After)."""
    limit = settings.RB_SHARE_RUNS_PER_MINUTE
    if limit <= 0:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"rb:share-runs:{address}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS + 1)
    try:
        count = cache.incr(key)
    except ValueError:
        # The counter expired between add and incr: this is the first again.
        cache.add(key, 1, timeout=WINDOW_SECONDS + 1)
        count = 1
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
