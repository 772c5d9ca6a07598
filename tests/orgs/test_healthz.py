"""GET /healthz reports each service Rightbrain depends on, and fails (503)
only when the database does not answer: without the cache or the broker
Rightbrain still serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings as django_settings
from django.urls import reverse

NOTHING_LISTENS = "redis://127.0.0.1:1/0"


def test_healthz_answers_ok_when_every_service_does(
    db, client, django_assert_num_queries
):
    # 1 SELECT 1.
    with django_assert_num_queries(1):
        response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
    }


def test_healthz_reports_a_missing_cache_and_broker_but_stays_up(
    db, client, settings, broker
):
    settings.CACHES = {
        "default": {
            "BACKEND": "rightbrain.cache_safe.DegradingRedisCache",
            "LOCATION": NOTHING_LISTENS,
        }
    }
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "error",
        "broker": "ok",
    }

    broker(NOTHING_LISTENS)
    assert client.get(reverse("healthz")).json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "error",
        "broker": "error",
    }


HEALTHZ_IN_A_FRESH_PROCESS = """
import django
django.setup()
from django.test import Client
response = Client().get("/healthz", secure=True)
print(response.status_code)
print(response.content.decode())
"""


def test_healthz_is_a_503_when_the_database_does_not_answer():
    # A process of its own, whose database is a port nothing listens on: the
    # test database of this one stays untouched.
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rightbrain.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/rightbrain?pool=false",
    }
    finished = subprocess.run(
        [sys.executable, "-c", HEALTHZ_IN_A_FRESH_PROCESS],
        env=environment,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    status, body = finished.stdout.strip().split("\n", 1)
    assert status == "503"
    assert json.loads(body) == {
        "status": "error",
        "database": "error",
        "cache": "ok",
        "broker": "ok",
    }
