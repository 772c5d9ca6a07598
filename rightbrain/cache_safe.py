"""Cache calls that degrade: the cache is an optimisation, never a dependency.

Every cache call of ours goes through here. When the cache cannot be reached
(Redis refuses, times out or is out of memory) a read is a miss, a write is
skipped and a warning is logged — at most once a minute per process, so an
outage does not flood the log. After a failure the cache is left alone for
RB_CACHE_RETRY_SECONDS, so a Redis that hangs rather than refuses costs one
timeout, not one per call.

Missed writes and stale entries: a write that could not be made may have been
an invalidation (a version bump), and the entries it should have retired are
still in Redis when it comes back. So a process that missed a write moves the
cache generation (`GENERATION_KEY`) before it uses the cache again, and every
entry whose freshness depends on invalidation has the generation in its key:
once any process that missed a write reaches Redis again, everything cached
before the outage is unreachable. Until then (that process's next request or
/healthz probe) the other processes may still read such entries; they age out
on their own timeout whatever happens.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

GENERATION_KEY = "rb:cache-generation"
WARNING_INTERVAL_SECONDS = 60


@dataclass
class _Health:
    skip_until: float = 0.0
    missed_write: bool = False
    warned_at: float = float("-inf")
    failures_since_warning: int = 0


# Keyed by the configured location, so a process (or a test) that moves to
# another cache server starts with a clean slate.
_health: dict[str, _Health] = {}
_lock = threading.Lock()


def _state() -> _Health:
    location = str(settings.CACHES["default"].get("LOCATION", ""))
    with _lock:
        return _health.setdefault(location, _Health())


@receiver(setting_changed)
def _forget_health(*, setting: str, **kwargs: Any) -> None:
    # A new cache configuration (or retry pause) is a new cache to judge.
    if setting in {"CACHES", "RB_CACHE_RETRY_SECONDS"}:
        with _lock:
            _health.clear()


def _failed(state: _Health, operation: str, error: Exception, *, write: bool) -> None:
    now = time.monotonic()
    state.skip_until = now + settings.RB_CACHE_RETRY_SECONDS
    state.missed_write = state.missed_write or write
    state.failures_since_warning += 1
    if now - state.warned_at >= WARNING_INTERVAL_SECONDS:
        logger.warning(
            "Going without the cache: the cache is unreachable (%s failed: %s). "
            "%d cache call(s) failed since the last warning.",
            operation,
            error,
            state.failures_since_warning,
        )
        state.warned_at = now
        state.failures_since_warning = 0


def _attempt[T](operation: str, call: Callable[[], T], default: T, *, write: bool) -> T:
    state = _state()
    if time.monotonic() < state.skip_until:
        state.missed_write = state.missed_write or write
        state.failures_since_warning += 1
        return default
    try:
        if state.missed_write:
            # Retire everything cached before the writes this process missed,
            # before anything is read from or written to the cache again.
            cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
            state.missed_write = False
        return call()
    except (RedisError, OSError) as error:
        _failed(state, operation, error, write=write)
        return default


def get(key: str, default: Any = None) -> Any:
    return _attempt("get", lambda: cache.get(key, default), default, write=False)


def get_many(keys: Iterable[str]) -> dict[str, Any]:
    keys = list(keys)
    return _attempt("get_many", lambda: cache.get_many(keys), {}, write=False)


def set(key: str, value: Any, timeout: float | None) -> None:
    _attempt("set", lambda: cache.set(key, value, timeout), None, write=True)


def set_many(values: dict[str, Any], timeout: float | None) -> None:
    _attempt("set_many", lambda: cache.set_many(values, timeout), None, write=True)


def add(key: str, value: Any, timeout: float | None) -> bool:
    """True when `key` was missing and now holds `value`; False when it was
    there already or the cache is unreachable."""
    return _attempt("add", lambda: cache.add(key, value, timeout), False, write=True)


def delete_many(keys: Iterable[str]) -> None:
    keys = list(keys)
    _attempt("delete_many", lambda: cache.delete_many(keys), None, write=True)


def incremented(key: str, *, timeout: float | None) -> int | None:
    """The counter at `key` after adding one, created when missing; None when
    the cache is unreachable (the caller decides what an uncounted attempt
    means)."""

    def increment() -> int:
        try:
            return cache.incr(key)
        except ValueError:
            # The first attempt, unless another process has just created the
            # counter too: then `add` fails and incr finds it.
            if cache.add(key, 1, timeout=timeout):
                return 1
            return cache.incr(key)

    return _attempt("incr", increment, None, write=True)


def reachable() -> bool:
    """Whether the cache answers now, asked even while calls are being skipped
    (health checks use it, and it ends the pause early when the cache is back)."""
    state = _state()
    try:
        if state.missed_write:
            cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
            state.missed_write = False
        cache.get(GENERATION_KEY)
    except (RedisError, OSError) as error:
        _failed(state, "health check", error, write=False)
        return False
    state.skip_until = 0.0
    return True
