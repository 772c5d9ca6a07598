from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from rightbrain.orgs import oauth_codes

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


@shared_task(name="rightbrain.oauth_tokens_clear")
def oauth_tokens_clear() -> int:
    """Delete expired OAuth tokens and codes (django-oauth-toolkit's
    `cleartokens`), then forget the used codes with no token left to revoke.
    Returns how many were forgotten. celery beat sends it hourly."""
    call_command("cleartokens")
    return oauth_codes.code_redemptions_forget()
