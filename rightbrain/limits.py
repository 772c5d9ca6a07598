"""Fixed-window counters in the cache: the one rate limiter every limit uses.

A window is a minute (or `window_seconds`) of wall-clock time; its counter lives
in the cache under a key naming the window, so it expires on its own and no
process keeps state. `incr` adds atomically (in Redis across every web
process; in the local memory cache within one), so concurrent requests cannot
both take the last slot. Refused attempts count too: a caller hammering a
closed window does not get a fresh one sooner.

The cache is an optimisation (ARCHITECTURE.md): when it cannot be reached the
request is let through and the failure logged, rather than the API going down
with it.
"""

from __future__ import annotations

import logging
import math
import time

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

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
    try:
        count = _incremented(key, timeout=window_seconds * 2)
    except (RedisError, OSError):
        logger.warning("Rate limit %s not counted: the cache is unreachable", name)
        return None
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * window_seconds - now))


def _incremented(key: str, *, timeout: int) -> int:
    """The counter at `key` after adding one, created when missing."""
    try:
        return cache.incr(key)
    except ValueError:
        # The first attempt in this window, unless another process has just
        # created the counter too: then `add` fails and incr finds it.
        if cache.add(key, 1, timeout=timeout):
            return 1
        return cache.incr(key)
