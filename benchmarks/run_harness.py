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
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

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
    """An OpenAI-compatible provider in its own process (so its work does not
    share a GIL with the load generator): every POST is answered with a chat
    completion after `delay` seconds; thousands can wait at once."""

    def __init__(self, delay: float):
        self.delay = delay
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "provider", str(self.port), str(delay)]
        )
        _wait_for_port(self.port)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


async def _provider_main(port: int, delay: float) -> None:
    body = json.dumps(REPLY).encode()
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )

    async def client(reader, writer) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = _content_length(head)
                if length:
                    await reader.readexactly(length)
                if delay:
                    await asyncio.sleep(delay)
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            return int(line[15:])
    return 0


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class Connection:
    """One keep-alive HTTP/1.1 connection posting JSON: the load generator's
    client. It does the least a client can (write the request, read the
    status, headers and body), so the machine's CPU goes to the server being
    measured rather than to the benchmark; httpx spent ~9 ms per request here."""

    def __init__(self, url: str, headers: dict[str, str]):
        host_port = url.removeprefix("http://")
        self.host, port = host_port.split(":")
        self.port = int(port)
        self.head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: dict) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port
            )
        assert self.reader is not None
        body = json.dumps(payload).encode()
        self.writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}"
                f"Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
        )
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            if b"chunked" in head.lower():
                content = await self._chunks()
            else:
                content = await self.reader.readexactly(_content_length(head))
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        if b"connection: close" in head.lower():
            self.close()
        return status, content

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            parts.append(await self.reader.readexactly(size + 2))
            if size == 0:
                return b"".join(part[:-2] for part in parts)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


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


def run_request(ids: dict) -> tuple[str, dict[str, str]]:
    """The seeded task's run path and the headers that authenticate with its key."""
    path = f"/api/v1/org/{ids['org']}/project/{ids['project']}/task/{ids['task']}/run"
    return path, {"Authorization": f"Bearer {ids['key']}"}


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
            # Counted as in production, never refused: one key makes every run.
            **{
                f"RB_{scope}_{what}_PER_MINUTE": str(10**9)
                for scope in ("API", "PROJECT")
                for what in ("REQUESTS", "RUNS")
            },
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
        _wait_for_port(self.port)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its children,
    such as uvicorn and its workers (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        # After the command: state, ppid, ... utime (12th) and stime (13th).
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def machine_busy_seconds() -> float:
    """CPU time all cores have spent busy (not idle, not waiting on I/O)."""
    with open("/proc/stat") as stat:
        counters = [int(value) for value in stat.readline().split()[1:]]
    idle, iowait = counters[3], counters[4]
    return (sum(counters[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def run_loop[T](main: Coroutine[Any, Any, T]) -> T:
    """`main` on uvloop when it is installed (uvicorn's event loop too)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


if __name__ == "__main__" and sys.argv[1:2] == ["provider"]:
    run_loop(_provider_main(int(sys.argv[2]), float(sys.argv[3])))
