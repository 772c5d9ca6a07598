"""A local OpenAI-compatible server that answers as each test scripts it.

Tests drive the real litellm HTTP path against it: nothing in litellm or in our
code is patched. Script answers with `fake.answer(...)`, `fake.fail(...)`,
`fake.slow(...)`, and for the file endpoints `fake.image(...)` and
`fake.speech(...)`; one queue serves every endpoint, in order. Unscripted calls
answer `{}` (chat), a small PNG (images) or a few bytes of "audio" (speech).
Every request body is recorded, with its path as `_path`.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image


def tiny_png(colour: tuple[int, int, int] = (200, 30, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(out, "PNG")
    return out.getvalue()


FAKE_AUDIO = b"ID3\x04\x00fake mp3 frames"


@dataclass
class Scripted:
    status: int = 200
    content: str | None = None
    body: dict[str, Any] | None = None
    delay: float = 0.0
    prompt_tokens: int = 11
    completion_tokens: int = 7
    data: bytes | None = None  # the image or audio bytes of a file endpoint


@dataclass
class FakeLLM:
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    _script: deque[Scripted] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()

    def answer(self, content: Any, **usage: int) -> FakeLLM:
        text = content if isinstance(content, str) else json.dumps(content)
        self._script.append(Scripted(content=text, **usage))
        return self

    def fail(self, status: int, message: str = "failure") -> FakeLLM:
        self._script.append(
            Scripted(status=status, body={"error": {"message": message, "type": "x"}})
        )
        return self

    def slow(self, seconds: float, content: Any = "late") -> FakeLLM:
        text = content if isinstance(content, str) else json.dumps(content)
        self._script.append(Scripted(content=text, delay=seconds))
        return self

    def image(self, data: bytes | None = None, **usage: int) -> FakeLLM:
        self._script.append(Scripted(data=data or tiny_png(), **usage))
        return self

    def speech(self, data: bytes = FAKE_AUDIO) -> FakeLLM:
        self._script.append(Scripted(data=data))
        return self

    def next_scripted(self, request: dict[str, Any]) -> Scripted:
        with self._lock:
            self.requests.append(request)
            return self._script.popleft() if self._script else Scripted(content="{}")


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Without these, keep-alive requests stall ~40 ms (Nagle + delayed ACK).
        disable_nagle_algorithm = True
        wbufsize = -1
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            request["_path"] = self.path
            scripted = fake.next_scripted(request)
            if scripted.delay:
                time.sleep(scripted.delay)
            if scripted.status != 200:
                self._send(scripted.status, scripted.body or {})
                return
            if self.path.endswith("/images/generations"):
                self._send(200, _image_body(scripted))
                return
            if self.path.endswith("/audio/speech"):
                self._send_bytes(200, scripted.data or FAKE_AUDIO, "audio/mpeg")
                return
            self._send(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": request.get("model", "fake"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": scripted.content,
                            },
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": scripted.prompt_tokens,
                        "completion_tokens": scripted.completion_tokens,
                        "total_tokens": scripted.prompt_tokens
                        + scripted.completion_tokens,
                    },
                },
            )

        def _send(self, status: int, body: dict[str, Any]) -> None:
            self._send_bytes(status, json.dumps(body).encode(), "application/json")

        def _send_bytes(self, status: int, payload: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

    return Handler


def _image_body(scripted: Scripted) -> dict[str, Any]:
    return {
        "created": int(time.time()),
        "data": [{"b64_json": base64.b64encode(scripted.data or tiny_png()).decode()}],
        "usage": {
            "input_tokens": scripted.prompt_tokens,
            "output_tokens": scripted.completion_tokens,
            "total_tokens": scripted.prompt_tokens + scripted.completion_tokens,
        },
    }


def start_fake_llm() -> tuple[FakeLLM, ThreadingHTTPServer]:
    fake = FakeLLM()
    server = ThreadingHTTPServer((fake.host, 0), _handler(fake))
    server.daemon_threads = True
    fake.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
