"""The per-revision circuit breaker between a primary model and its fallback.

Consecutive failed primary attempts are counted across runs in the shared
cache; at RB_CIRCUIT_FAILURES the circuit opens and runs go straight to the
fallback for RB_FALLBACK_COOLDOWN_SECONDS. After that one run probes the primary
again; a success closes the circuit and resets the count.
"""

from __future__ import annotations

import time
from uuid import UUID

from django.conf import settings
from django.core.cache import cache


def _keys(revision_id: UUID) -> tuple[str, str]:
    return f"rb:circuit:{revision_id}:failures", f"rb:circuit:{revision_id}:open_until"


def is_open(revision_id: UUID) -> bool:
    _failures, open_until = _keys(revision_id)
    return (cache.get(open_until) or 0) > time.time()


def record_failure(revision_id: UUID) -> None:
    failures, open_until = _keys(revision_id)
    cache.add(failures, 0, timeout=None)
    count = cache.incr(failures)
    if count >= settings.RB_CIRCUIT_FAILURES:
        cooldown = settings.RB_FALLBACK_COOLDOWN_SECONDS
        cache.set(open_until, time.time() + cooldown, timeout=cooldown)
        cache.set(failures, 0, timeout=None)


def record_success(revision_id: UUID) -> None:
    cache.delete_many(list(_keys(revision_id)))
