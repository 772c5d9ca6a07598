from __future__ import annotations

import os

import pytest
from django.db import connection

from tests.helpers import need_service

pytestmark = pytest.mark.integration


@pytest.mark.django_db
def test_the_suite_runs_on_postgresql_when_services_are_required():
    """CI points DATABASE_URL at PostgreSQL; on SQLite this says why it skips."""
    need_service(
        connection.vendor == "postgresql",
        "DATABASE_URL does not point at PostgreSQL; the suite is running on SQLite",
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        assert cursor.fetchone()[0]
    assert connection.settings_dict["OPTIONS"].get("pool"), "pooling is on"


def test_redis_is_configured_when_services_are_required():
    need_service(
        bool(os.environ.get("REDIS_URL")),
        "REDIS_URL is not set; the cache is per-process and Celery runs eagerly",
    )
