"""Server time of the task API with 1,000 tasks in a project.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rightbrain \
        .venv/bin/python benchmarks/api_bench.py [--tasks 1000] [--rounds 200]

Builds a throw-away test database (Django's test-database machinery, so the real
one is never touched), fills one project, then times list, get and create through
Django's full request stack in-process (no network) and prints median and p95.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rightbrain.settings")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def _fill(tasks: int):
    from rightbrain.orgs.models import User
    from rightbrain.orgs.services import api_key_create, organization_create
    from tasks_app.models import ActiveRevision, LLMModel, Task, TaskRevision

    user = User.objects.create_user(email="bench@rightbrain.local", password="x" * 12)
    organization = organization_create(name="Bench", owner=user)
    project = organization.projects.get()
    model = LLMModel.objects.get(name="rightbrain-demo")
    made = Task.objects.bulk_create(
        Task(
            project=project,
            name=f"Task {n}",
            access_token_encrypted="x",
            access_token_hash=f"bench-{n}",
            created_by=user,
        )
        for n in range(tasks)
    )
    revisions = TaskRevision.objects.bulk_create(
        TaskRevision(
            task=task,
            user_prompt="Summarise {text} for {audience}",
            input_params=["text", "audience"],
            llm_model=model,
            output_format={"summary": "str", "score": "int"},
        )
        for task in made
    )
    ActiveRevision.objects.bulk_create(
        ActiveRevision(task=r.task, task_revision=r, weight=Decimal(1))
        for r in revisions
    )
    _key, secret = api_key_create(project=project, user=user, name="bench")
    if connection.vendor == "postgresql":
        # Fresh bulk-loaded tables have no statistics yet; autovacuum gives a
        # live database them within a minute.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return organization, project, model, made, secret


def _time(call, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content[:300]
    return samples


def _report(name: str, samples: list[float]) -> None:
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(
        f"{name:<28} median {statistics.median(samples):7.2f} ms   "
        f"p95 {p95:7.2f} ms   ({len(samples)} requests)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    setup_test_environment()
    settings.DEBUG = False
    # Count every request as in production, but never refuse one: the rounds
    # would otherwise spend a key's minute in a second.
    for name in ("RB_API_REQUESTS_PER_MINUTE", "RB_PROJECT_REQUESTS_PER_MINUTE"):
        setattr(settings, name, 10**9)
    # Its own database, so a test run on the same server cannot collide with it.
    connection.settings_dict["TEST"]["NAME"] = "rightbrain_api_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        organization, project, model, tasks, secret = _fill(args.tasks)
        client = Client(headers={"Authorization": f"Bearer {secret}"})
        base = f"/api/v1/org/{organization.pk}/project/{project.pk}"
        body = json.dumps(
            {
                "name": "Bench create",
                "enabled": True,
                "system_prompt": "",
                "user_prompt": "Classify {text}",
                "llm_model_id": str(model.pk),
            }
        )
        print(
            f"{connection.vendor}, {args.tasks} tasks in the project, "
            f"{args.rounds} requests each"
        )
        # The floor, to read the figures against: this machine's speed varies
        # by half from run to run (a shared VM), and so does everything below.
        _report(
            "GET /healthz (SELECT 1)",
            _time(lambda: client.get("/healthz"), args.rounds),
        )
        for _ in range(20):  # warm caches and connections
            client.get(base + "/task?page_limit=20")
        _report(
            "GET task list (20 per page)",
            _time(lambda: client.get(base + "/task?page_limit=20"), args.rounds),
        )
        _report(
            "GET task list (100 per page)",
            _time(lambda: client.get(base + "/task"), args.rounds // 4),
        )
        target = tasks[len(tasks) // 2].pk
        _report(
            "GET task",
            _time(lambda: client.get(f"{base}/task/{target}"), args.rounds),
        )
        _report(
            "POST task (create)",
            _time(
                lambda: client.post(
                    base + "/task", body, content_type="application/json"
                ),
                args.rounds,
            ),
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
