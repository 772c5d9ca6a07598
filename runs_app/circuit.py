"""The per-revision circuit breaker between a primary model and its fallback.

Consecutive failed primary attempts are counted across runs in the shared
cache; at RB_CIRCUIT_FAILURES the circuit opens and runs go straight to the
fallback for RB_FALLBACK_COOLDOWN_SECONDS. After that one run probes the primary
again; a success closes the circuit and resets the count.

When the cache is unreachable nothing is counted and the circuit stays closed:
every run tries its primary first and still falls back when it fails
(rightbrain/cache_safe.py logs the outage).
"""

from __future__ import annotations

import time
from uuid import UUID

from django.conf import settings

from rightbrain import cache_safe


def _keys(revision_id: UUID) -> tuple[str, str]:
    return f"rb:circuit:{revision_id}:failures", f"rb:circuit:{revision_id}:open_until"


def is_open(revision_id: UUID) -> bool:
    _failures, open_until = _keys(revision_id)
    return (cache_safe.get(open_until) or 0) > time.time()


def record_failure(revision_id: UUID) -> None:
    failures, open_until = _keys(revision_id)
    count = cache_safe.incremented(failures, timeout=None)
    if count is not None and count >= settings.RB_CIRCUIT_FAILURES:
        cooldown = settings.RB_FALLBACK_COOLDOWN_SECONDS
        cache_safe.set(open_until, time.time() + cooldown, cooldown)
        cache_safe.set(failures, 0, None)


def record_success(revision_id: UUID) -> None:
    cache_safe.delete_many(_keys(revision_id))
