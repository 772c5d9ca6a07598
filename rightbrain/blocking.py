"""Blocking database work called from async views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from rightbrain.api_handler import served_lean


@functools.cache
def _database_threads() -> ThreadPoolExecutor | None:
    if settings.RB_DB_THREADS <= 0:
        return None
    return ThreadPoolExecutor(
        max_workers=settings.RB_DB_THREADS, thread_name_prefix="database"
    )


def blocking(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` run off the event loop; it hands its database connection
    back to the pool when done, so a request that then waits on a slow
    provider holds no connection meanwhile.

    Requests served by the API's own handler run it on a pool of
    `RB_DB_THREADS` threads, so many runs' queries proceed at once. Everywhere
    else (Django's handler, the test client) it runs in the request's one sync
    thread, which is where a test's transaction lives; inside a transaction the
    connection stays.
    """

    @functools.wraps(function)
    def released(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        finally:
            if not connection.in_atomic_block:
                connection.close()

    in_request_thread = sync_to_async(released)

    @functools.cache
    def in_database_threads(threads: ThreadPoolExecutor) -> Callable[..., Any]:
        return sync_to_async(released, thread_sensitive=False, executor=threads)

    @functools.wraps(function)
    async def run(*args: Any, **kwargs: Any) -> Any:
        threads = _database_threads() if served_lean.get() else None
        if threads is None:
            return await in_request_thread(*args, **kwargs)
        return await in_database_threads(threads)(*args, **kwargs)

    return run
