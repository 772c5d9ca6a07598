"""Helpers the tests import (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from django.test import Client

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


class ApiClient:
    """A JSON client for one project's API with one bearer token."""

    def __init__(self, token: str | None, base: str):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = Client(headers=headers)
        self.base = base

    def url(self, path: str) -> str:
        return path if path.startswith("/api/") else self.base + path

    def get(self, path: str, **params):
        return self.client.get(self.url(path), params)

    def post(self, path: str, body=None):
        return self.client.post(
            self.url(path), json.dumps(body or {}), content_type="application/json"
        )

    def delete(self, path: str):
        return self.client.delete(self.url(path))


def run_curl(command: str, tmp_path) -> tuple[int, str]:
    """Run a shell command that calls curl, as pasted, and return the HTTP
    status and body of its (last) response. curl's options for that come from
    a .curlrc, so the command itself is not changed."""
    import subprocess

    (tmp_path / ".curlrc").write_text(
        'silent\nshow-error\nwrite-out = "\\n%{http_code}"\n'
    )
    done = subprocess.run(
        ["sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "CURL_HOME": str(tmp_path)},
    )
    body, _, status = done.stdout.rpartition("\n")
    assert status.isdigit(), done.stdout + done.stderr
    return int(status), body


def artifacts_dir(name: str = "") -> Path:
    """tests/artifacts[/name], created: where browser tests save screenshots."""
    folder = Path(__file__).resolve().parent / "artifacts" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def room_in_this_minute(seconds: float = 5) -> None:
    """Rate limits count per clock minute: when less than `seconds` of the
    current one is left, wait for the next, so a test's requests share one."""
    import time

    left = 60 - time.time() % 60
    if left < seconds:
        time.sleep(left + 0.05)
