from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "rightbrain:heartbeat"


@shared_task(name="rightbrain.heartbeat")
def heartbeat(token: str = "beat") -> str:
    """Prove a worker is consuming: record when it last ran, and under what token.

    celery beat sends it every few minutes; health checks and tests send their own
    token and wait for it to appear in the shared cache.
    """
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, stamp, timeout=None)
    cache.set(f"{HEARTBEAT_CACHE_KEY}:{token}", stamp, timeout=3600)
    return stamp
