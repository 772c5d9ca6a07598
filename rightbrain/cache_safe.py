"""Cache calls that degrade: the cache is an optimisation, never a dependency.

Every cache call of ours goes through the functions here, and the Redis cache
configured in settings (`DegradingRedisCache`) degrades the same way for the
libraries that use the cache themselves. When the cache cannot be reached
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
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
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
    failures: int = 0


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
    state.failures += 1
    state.missed_write = state.missed_write or write
    state.failures_since_warning += 1
    if now - state.warned_at >= WARNING_INTERVAL_SECONDS:
        logger.warning(
            "Going without the cache: the cache is unreachable (%s failed: %s). "
            "%d cache call(s) failed or skipped since the last warning.",
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
        _retire_missed_writes(state)
        return call()
    except (RedisError, OSError) as error:
        _failed(state, operation, error, write=write)
        return default


def _retire_missed_writes(state: _Health) -> None:
    """Move the generation if this process missed a write, before anything is
    read from or written to the cache again: whatever that write should have
    retired is then out of reach."""
    if not state.missed_write:
        return
    # Cleared first: through DegradingRedisCache this set comes back here.
    state.missed_write = False
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    except (RedisError, OSError):
        state.missed_write = True
        raise


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
    """False when `key` already holds a value; True when it now holds `value`,
    or when the cache is unreachable: with nobody to contend with, a caller
    that takes a lock with `add` goes ahead (as limits fail open)."""
    return _attempt("add", lambda: cache.add(key, value, timeout), True, write=True)


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
    state.skip_until = 0.0
    failures = state.failures
    _attempt("health check", lambda: cache.get(GENERATION_KEY), None, write=False)
    return state.failures == failures


class DegradingRedisCache(RedisCache):
    """Django's Redis cache, degrading like the functions above, for the
    callers we do not own (allauth's rate limits): reads miss and writes are
    skipped while Redis cannot be reached. `incr` and `decr` still raise, as a
    counter has no honest stand-in value; ours count with `incremented`."""

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        call = partial(super().get, key, default, version)
        return _attempt("get", call, default, write=False)

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        return _attempt(
            "get_many", partial(super().get_many, keys, version), {}, write=False
        )

    def has_key(self, key: Any, version: Any = None) -> bool:
        return _attempt(
            "has_key", partial(super().has_key, key, version), False, write=False
        )

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        call = partial(super().set, key, value, timeout, version)
        _attempt("set", call, None, write=True)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        call = partial(super().add, key, value, timeout, version)
        # True, as `add` above: allauth's rate limits lock with it.
        return _attempt("add", call, True, write=True)

    def touch(
        self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        call = partial(super().touch, key, timeout, version)
        return _attempt("touch", call, False, write=True)

    def delete(self, key: Any, version: Any = None) -> bool:
        return _attempt(
            "delete", partial(super().delete, key, version), False, write=True
        )

    def set_many(
        self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[Any]:
        call = partial(super().set_many, data, timeout, version)
        # Django's answer lists the keys that were not stored: all of them.
        return _attempt("set_many", call, list(data), write=True)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        call = partial(super().delete_many, keys, version)
        _attempt("delete_many", call, None, write=True)
