"""A local web server standing in for the outside web: pages the url_fetcher
fetches and the search API perplexity_search calls.

Tests publish pages with `fake.serve(path, body, ...)` (which returns the page's
URL) and script search answers with `fake.answer_search(results)`. Every request
is recorded; unknown paths answer 404.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Page:
    body: bytes
    content_type: str
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeWeb:
    host: str = "127.0.0.1"
    port: int = 0
    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    search_status: int = 200
    search_results: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        with self._lock:
            self.pages.clear()
            self.requests.clear()
            self.search_status = 200
            self.search_results = []

    def serve(
        self,
        path: str,
        body: str | bytes,
        *,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        delay: float = 0.0,
    ) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.pages[path] = Page(data, content_type, status, delay)
        return self.base_url + path

    def redirect(self, path: str, to: str) -> str:
        self.pages[path] = Page(b"", "text/plain", 302, headers={"Location": to})
        return self.base_url + path

    def answer_search(self, results: list[dict[str, Any]], status: int = 200) -> None:
        self.search_results = results
        self.search_status = status

    def record(self, request: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(request)


def _handler(fake: FakeWeb) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            fake.record(
                {"method": "GET", "path": self.path, "host": self.headers.get("Host")}
            )
            page = fake.pages.get(self.path)
            if page is None:
                self._send(404, b"not found", "text/plain")
                return
            if page.delay:
                time.sleep(page.delay)
            self._send(page.status, page.body, page.content_type, page.headers)

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.record(
                {
                    "method": "POST",
                    "path": self.path,
                    "json": body,
                    "authorization": self.headers.get("Authorization"),
                }
            )
            if self.path != "/search":
                self._send(404, b"not found", "text/plain")
                return
            answer = json.dumps({"id": "search-1", "results": fake.search_results})
            self._send(fake.search_status, answer.encode(), "application/json")

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: dict[str, str] | None = None,
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a size or time limit)

    return Handler


def start_fake_web() -> tuple[FakeWeb, ThreadingHTTPServer]:
    fake = FakeWeb()
    server = ThreadingHTTPServer((fake.host, 0), _handler(fake))
    server.daemon_threads = True
    fake.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
