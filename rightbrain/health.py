"""Whether each service Rightbrain depends on answers, for GET /healthz.

Only the database is essential: without the cache requests read the database
(rightbrain/cache_safe.py), and without the broker asynchronous runs are
refused with 503 while synchronous ones go on.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from kombu.exceptions import OperationalError

from rightbrain import cache_safe
from rightbrain.celery import app as celery_app

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 1


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.error("Health check: the database does not answer: %s", error)
        return False
    return True


def cache_answers() -> bool:
    return cache_safe.reachable()


def broker_answers() -> bool:
    """Whether a run could be queued now. With no broker configured tasks run
    in the calling process, so there is nothing to be down."""
    if celery_app.conf.task_always_eager:
        return True
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(
                max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS
            )
    except (OperationalError, OSError) as error:
        logger.warning("Health check: the broker does not answer: %s", error)
        return False
    return True


def service_states() -> dict[str, bool]:
    return {
        "database": database_answers(),
        "cache": cache_answers(),
        "broker": broker_answers(),
    }
