"""Helpers the tests import (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import socket

import pytest

from rightbrain.orgs.models import User

PASSWORD = "correct-horse-battery-staple"


def services_required() -> bool:
    """CI sets RB_REQUIRE_SERVICES=1: a missing service is then a failure."""
    return os.environ.get("RB_REQUIRE_SERVICES", "") not in {"", "0", "false"}


def need_service(available: bool, why: str) -> None:
    if available:
        return
    if services_required():
        pytest.fail(f"{why} (RB_REQUIRE_SERVICES is set, so this is a failure)")
    pytest.skip(why)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def make_user(email: str, name: str = "") -> User:
    return User.objects.create_user(email=email, password=PASSWORD, name=name)
