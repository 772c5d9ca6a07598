"""What Rightbrain adds to a model call.

    .venv/bin/python benchmarks/run_overhead.py [--rounds 300]

Against a local OpenAI-compatible provider that answers at once, prints the
median and p95 of (a) a direct `litellm.acompletion` call and (b) the run
endpoint served by uvicorn on PostgreSQL (auth, task and revision lookup,
prompt rendering, the call, schema validation, the run row and its hourly
rollup). The difference of the medians is the overhead (target ≤ 5 ms).
Needs PostgreSQL at BENCH_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
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
    process_cpu_seconds,
    run_loop,
    run_request,
    seed,
)

SCHEMA = {
    "type": "object",
    "properties": {"sentiment": {"type": "string", "enum": ["positive", "negative"]}},
    "required": ["sentiment"],
    "additionalProperties": False,
}


def _summary(name: str, samples: list[float]) -> float:
    samples.sort()
    median = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(
        f"{name:<34} median {median:7.2f} ms   p95 {p95:7.2f} ms   "
        f"({len(samples)} calls)"
    )
    return median


async def _direct(provider: Provider, rounds: int) -> tuple[list[float], float]:
    """Each call's time, and the CPU time the calls took in this process."""
    import litellm

    samples = []
    for n in range(rounds + 20):
        if n == 20:
            cpu_started = time.process_time()
        started = time.perf_counter()
        await litellm.acompletion(
            model="openai/bench",
            api_base=provider.base_url,
            api_key="not-needed",
            messages=[
                {"role": "system", "content": "Classify."},
                {"role": "user", "content": f"Review: great {n}"},
            ],
            max_retries=0,
            timeout=60,
            drop_params=True,
            # The structured-output request the engine makes for the task.
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "task_output",
                    "schema": SCHEMA,
                    "strict": True,
                },
            },
        )
        if n >= 20:
            samples.append((time.perf_counter() - started) * 1000)
    return samples, time.process_time() - cpu_started


async def _through_rightbrain(
    server: Server, ids: dict, rounds: int
) -> tuple[list[float], float]:
    """Each run's time, and the CPU time the server took for them."""
    path, headers = run_request(ids)
    connection = Connection(server.url, headers)
    samples = []
    for n in range(rounds + 20):
        if n == 20:
            cpu_started = process_cpu_seconds(server.process.pid)
        started = time.perf_counter()
        status, body = await connection.post(
            path, {"task_input": {"review": f"great {n}"}}
        )
        elapsed = (time.perf_counter() - started) * 1000
        assert status == 200, body[:300]
        if n >= 20:
            samples.append(elapsed)
    connection.close()
    return samples, process_cpu_seconds(server.process.pid) - cpu_started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    provider = Provider(delay=0)
    fresh_database()
    server = None
    try:
        ids = seed(provider.base_url)
        server = Server(workers=1)
        direct_samples, direct_cpu = run_loop(_direct(provider, args.rounds))
        direct = _summary("litellm.acompletion, direct", direct_samples)
        run_samples, run_cpu = run_loop(_through_rightbrain(server, ids, args.rounds))
        ours = _summary("POST …/run (uvicorn, PostgreSQL)", run_samples)
        print(f"{'overhead (difference of medians)':<34} {ours - direct:7.2f} ms")
        # What each costs in CPU: the direct call's in this process (the
        # provider runs in its own), the run's in the server.
        print(
            f"{'CPU per call':<34} direct {direct_cpu / args.rounds * 1000:7.2f} ms"
            f"   run {run_cpu / args.rounds * 1000:7.2f} ms (server)"
        )
    finally:
        if server:
            server.stop()
        provider.stop()
        drop_database()


if __name__ == "__main__":
    main()
