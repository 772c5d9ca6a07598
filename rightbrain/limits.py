"""Fixed-window counters in the cache: the one rate limiter every limit uses.

A window is a minute (or `window_seconds`) of wall-clock time; its counter lives
in the cache under a key naming the window, so it expires on its own and no
process keeps state. `incr` adds atomically (in Redis across every web
process; in the local memory cache within one), so concurrent requests cannot
both take the last slot. Refused attempts count too: a caller hammering a
closed window does not get a fresh one sooner.

The cache is an optimisation (ARCHITECTURE.md): when it cannot be reached the
request is let through and the failure logged (rightbrain/cache_safe.py),
rather than the API going down with it.
"""

from __future__ import annotations

import math
import time

from rightbrain import cache_safe

MINUTE = 60


def window_refusal(
    name: str, *, limit: int, window_seconds: int = MINUTE
) -> int | None:
    """Count one attempt against `name`'s current window.

    None when it may go ahead (or `limit` is 0: no limit); otherwise the whole
    seconds until the window resets, for `Retry-After`."""
    if limit <= 0:
        return None
    now = time.time()
    window = int(now // window_seconds)
    key = f"rb:limit:{name}:{window}"
    count = cache_safe.incremented(key, timeout=window_seconds * 2)
    if count is None or count <= limit:
        return None
    return max(1, math.ceil((window + 1) * window_seconds - now))
