"""Share pages and share runs with Redis down: the page is served, runs go
ahead and the per-address limit lets them through uncounted (fail open)."""

from __future__ import annotations

from sharing.models import ShareRun
from tests.sharing.conftest import GOOD


def test_share_runs_go_ahead_uncounted_with_the_cache_down(
    shared, client, fake_llm, settings
):
    settings.RB_SHARE_RUNS_PER_MINUTE = 2
    share = shared.share(custom_short_id="calm1")
    settings.CACHES = {
        "default": {
            "BACKEND": "rightbrain.cache_safe.DegradingRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    assert client.get("/s/calm1").status_code == 200
    for _ in range(4):
        fake_llm.answer(GOOD)
    statuses = [
        client.post("/api/v1/share/calm1/run", REMOTE_ADDR="203.0.113.7").status_code
        for _ in range(4)
    ]
    assert statuses == [200] * 4
    assert ShareRun.objects.filter(share=share).count() == 4
