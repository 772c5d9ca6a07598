"""Blocking database work called from async views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection


def blocking(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` run off the event loop (in the request's sync thread); it
    hands its database connection back to the pool when done, so a request
    that then waits on a slow provider holds no connection meanwhile.

    Inside a transaction (tests wrap each test in one) the connection stays.
    """

    @functools.wraps(function)
    def released(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        finally:
            if not connection.in_atomic_block:
                connection.close()

    return sync_to_async(released)
