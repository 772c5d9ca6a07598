"""What the run benchmarks share: a throw-away PostgreSQL database with a task
and an API key, an OpenAI-compatible provider on 127.0.0.1 that answers after a
set delay, and Rightbrain served by uvicorn (ASGI) against them."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
BENCH_DB = "rightbrain_run_bench"

REPLY = {
    "id": "bench",
    "object": "chat.completion",
    "created": 0,
    "model": "bench",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": '{"sentiment": "positive"}'},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Provider:
    """An asyncio HTTP/1.1 server (keep-alive) answering every POST with a
    chat completion after `delay` seconds; thousands can wait at once."""

    def __init__(self, delay: float):
        self.delay = delay
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._body = json.dumps(REPLY).encode()
        self._ready = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()
        self._ready.wait()

    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        server = await asyncio.start_server(
            self._client, "127.0.0.1", self.port, backlog=2048
        )
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _client(self, reader, writer) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: "
                    + str(len(self._body)).encode()
                    + b"\r\n\r\n"
                    + self._body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def database_url() -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + BENCH_DB


def fresh_database() -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    url = database_url()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    return url


def drop_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def seed(provider_base_url: str) -> dict:
    """A task on a model served by the provider, and a key to run it."""
    script = f"""
import json
from decimal import Decimal
from rightbrain.orgs.models import User
from rightbrain.orgs.services import api_key_create, organization_create
from tasks_app.models import LLMModel
from tasks_app.services import RevisionSpec, task_create
user = User.objects.create_user(email="bench@rightbrain.local", password="x" * 12)
organization = organization_create(name="Bench", owner=user)
project = organization.projects.get()
model = LLMModel.objects.create(
    provider="Bench", vendor="Bench", name="bench", alias="Bench",
    litellm_model="openai/bench", api_base={provider_base_url!r},
    input_price_per_mtok=Decimal("3"), output_price_per_mtok=Decimal("15"),
)
task = task_create(
    project=project, user=user, name="Sentiment",
    revision=RevisionSpec(
        system_prompt="Classify.", user_prompt="Review: {{review}}",
        llm_model_id=model.pk,
        output_format={{
            "sentiment": {{"type": "str", "options": ["positive", "negative"]}}
        }},
    ),
)
_key, secret = api_key_create(project=project, user=user, name="bench")
print(json.dumps({{"org": str(organization.pk), "project": str(project.pk),
                  "task": str(task.pk), "key": secret}}))
"""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url()},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


class Server:
    """Rightbrain under uvicorn with DEBUG off, as deployed."""

    def __init__(self, *, workers: int = 1, pool: int = 20):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DB_POOL_MAX_SIZE": str(pool),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "rightbrain.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
                "--backlog",
                "4096",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("uvicorn did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
