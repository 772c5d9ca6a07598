"""Many runs waiting on a slow provider at once.

    .venv/bin/python benchmarks/run_concurrency.py [--clients 200] [--seconds 30]
        [--delay 1.0] [--workers 2]

A provider on 127.0.0.1 answers every call after `--delay` seconds; `--clients`
callers post runs back to back for `--seconds` against Rightbrain under uvicorn
on PostgreSQL. Prints runs per second, errors and p50/p99 latency (target on a
2-core machine: ≥ 150 runs/s with 0 errors; the provider's delay caps it at
clients / delay). Needs PostgreSQL at BENCH_ADMIN_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from run_harness import (  # noqa: E402
    Connection,
    Provider,
    Server,
    drop_database,
    fresh_database,
    machine_busy_seconds,
    process_cpu_seconds,
    run_loop,
    run_request,
    seed,
)


async def _load(server: Server, ids: dict, clients: int, seconds: float):
    path, headers = run_request(ids)
    latencies: list[float] = []
    errors: list[str] = []

    # A few calls on separate connections first, so every worker has imported
    # litellm and warmed its caches before the clock starts.
    async def warm() -> None:
        connection = Connection(server.url, headers)
        for _ in range(3):
            await connection.post(path, {"task_input": {"review": "warm"}})
        connection.close()

    await asyncio.gather(*(warm() for _ in range(20)))
    cpu_before = process_cpu_seconds(server.process.pid), machine_busy_seconds()
    deadline = time.monotonic() + seconds

    async def caller(n: int) -> None:
        connection = Connection(server.url, headers)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status, body = await connection.post(
                    path, {"task_input": {"review": f"client {n}"}}
                )
            except (OSError, asyncio.IncompleteReadError) as error:
                errors.append(repr(error))
                continue
            if status != 200:
                errors.append(f"{status} {body[:120]!r}")
                continue
            latencies.append((time.perf_counter() - started) * 1000)
        connection.close()

    started = time.monotonic()
    await asyncio.gather(*(caller(n) for n in range(clients)))
    elapsed = time.monotonic() - started
    cpu = (
        process_cpu_seconds(server.process.pid) - cpu_before[0],
        machine_busy_seconds() - cpu_before[1],
    )
    return latencies, errors, elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    provider = Provider(delay=args.delay)
    fresh_database()
    server = None
    try:
        ids = seed(provider.base_url)
        server = Server(workers=args.workers, pool=max(10, args.clients // 4))
        latencies, errors, elapsed, (server_cpu, machine_cpu) = run_loop(
            _load(server, ids, args.clients, args.seconds)
        )
    finally:
        if server:
            server.stop()
        provider.stop()
        drop_database()
    latencies.sort()
    done = len(latencies)
    print(
        f"{args.clients} clients, provider delay {args.delay:.1f} s, "
        f"{args.workers} uvicorn worker(s), {elapsed:.0f} s"
    )
    print(f"runs/s  {done / elapsed:7.1f}   ({done} runs)")
    print(f"errors  {len(errors):7d}")
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[max(0, int(done * 0.99) - 1)]
        print(f"latency p50 {p50:7.0f} ms   p99 {p99:7.0f} ms")
    if done:
        # The runs are CPU-bound here: these say where a run's CPU goes.
        print(
            f"CPU per run {server_cpu / done * 1000:7.1f} ms in Rightbrain's "
            f"workers, {machine_cpu / done * 1000:.1f} ms on the whole machine "
            f"({machine_cpu / elapsed / (os.cpu_count() or 1):.0%} of "
            f"{os.cpu_count()} cores busy)"
        )
    for error in sorted(set(errors))[:5]:
        print("  e.g.", error)


if __name__ == "__main__":
    main()
