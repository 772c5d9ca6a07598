"""`make serve` with DEBUG off can be tried on plain http://127.0.0.1.

With DEBUG off the settings default to production: plain HTTP is redirected to
HTTPS and cookies are marked Secure, so a browser on http://localhost loops or
never gets signed in. README documents the variables that turn this off for a
local try-out; this starts the same uvicorn command as `make serve` with them and
signs in over plain HTTP the way a browser does (a cookie jar that, like a
browser, does not send Secure cookies over HTTP, and no following of redirects).
"""

from __future__ import annotations

import http.cookiejar
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests.helpers import PASSWORD, make_user

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
LOCAL_HTTP = {
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # hand the 3xx back to the test


class Browser:
    def __init__(self, root: str) -> None:
        self.root = root
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects()
        )

    def request(self, path: str, data: dict[str, str] | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        headers = {"Origin": self.root, "Referer": self.root + path} if data else {}
        request = urllib.request.Request(self.root + path, data=body, headers=headers)
        try:
            response = self._opener.open(request, timeout=10)
        except urllib.error.HTTPError as error:  # 3xx and 4xx land here
            response = error
        with response:
            return response.status, response.headers, response.read().decode()

    def cookie(self, name: str) -> http.cookiejar.Cookie:
        [cookie] = [cookie for cookie in self.cookies if cookie.name == name]
        return cookie


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    if connection.vendor != "postgresql":
        pytest.skip("a second process needs the PostgreSQL test database")
    db = connection.settings_dict
    user = urllib.parse.quote(db["USER"] or "")
    password = urllib.parse.quote(db["PASSWORD"] or "")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{credentials}{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _production_env() -> dict[str, str]:
    return {**os.environ, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50)}


@pytest.fixture(scope="module")
def collected_static() -> None:
    # `make serve` runs collectstatic first: with DEBUG off pages link the hashed
    # files of its manifest. Compressing every file is slow, so an up-to-date
    # manifest is reused.
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    sources = [path for path in (ROOT / "static").rglob("*") if path.is_file()]
    if manifest.is_file() and all(
        path.stat().st_mtime <= manifest.stat().st_mtime for path in sources
    ):
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=_production_env(),
        check=True,
        timeout=60,
    )


def _serve(extra: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    root = f"http://127.0.0.1:{port}"
    env = {
        **_production_env(),
        "DATABASE_URL": _database_url(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": root,
        "SITE_ROOT": root,
        **extra,
    }
    # `make serve`'s uvicorn line, with one worker.
    server = subprocess.Popen(
        [
            str(VENV_BIN / "uvicorn"),
            "rightbrain.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--proxy-headers",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    pytest.fail("uvicorn did not start:\n" + server.communicate()[0])
                time.sleep(0.2)
        yield root
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def local_http_server(collected_static, transactional_db) -> Iterator[str]:
    yield from _serve(LOCAL_HTTP)


@pytest.fixture
def production_defaults_server(collected_static, transactional_db) -> Iterator[str]:
    yield from _serve({})


def test_sign_in_over_plain_http_with_debug_off_and_the_documented_variables(
    local_http_server,
):
    user = make_user("local@example.com")
    # The suite hashes passwords with MD5 for speed; the server uses the
    # project's hashers, which do not read MD5.
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "plainhttpsalt")
    user.save(update_fields=["password"])
    browser = Browser(local_http_server)

    status, headers, _body = browser.request("/")
    assert status == 302
    location = headers["Location"]
    assert not location.startswith("https:"), location
    assert urllib.parse.urlsplit(location).path == "/accounts/login/"

    status, _headers, page = browser.request("/accounts/login/")
    assert status == 200
    assert 'name="login"' in page and 'name="password"' in page
    csrf = browser.cookie("csrftoken")
    assert not csrf.secure

    status, headers, _body = browser.request(
        "/accounts/login/",
        {
            "csrfmiddlewaretoken": csrf.value,
            "login": "local@example.com",
            "password": PASSWORD,
        },
    )
    assert status == 302, _body[:500]
    assert "/accounts/login/" not in headers["Location"]
    assert not browser.cookie("sessionid").secure

    # The browser sends the session cookie back over HTTP: the user is signed in.
    status, _headers, page = browser.request("/")
    assert status == 200
    assert "local@example.com" in page


def test_without_them_debug_off_sends_plain_http_to_https(production_defaults_server):
    status, headers, _body = Browser(production_defaults_server).request(
        "/accounts/login/"
    )
    assert status == 301
    assert headers["Location"].startswith("https://127.0.0.1:")
