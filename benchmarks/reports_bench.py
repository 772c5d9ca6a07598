"""Server time of the report endpoints and the Usage page with a million runs
in one project.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rightbrain \
        .venv/bin/python benchmarks/reports_bench.py [--runs 1000000] [--rounds 50]
        [--database rightbrain_reports_bench] [--keep]

Builds a throw-away test database (its own name, `--database`, so the real one
and a test run on the same server are never touched), fills one project with
synthetic runs and their rollups (runs_app/synthetic.py: 20 tasks, two
revisions each, four reporting groups, 30 days), then times each report and
page through Django's full request stack in-process (no network) and prints
the median, the p95 and the number of queries of each.

With `--keep` the filled database stays, and the next `--keep` run migrates
and reuses it instead of filling it again (minutes for a million runs). Its
runs end when it was filled, so "the last 24 hours" of a reused database hold
fewer runs as it ages.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
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

TARGETS_MS = {"report": 50.0, "page": 150.0}


BENCH_EMAIL = "bench@rightbrain.local"


def _filled():
    """What a kept database was filled with, or None."""
    from rightbrain.orgs.models import User
    from rightbrain.orgs.services import api_key_create
    from tasks_app.models import Task

    user = User.objects.filter(email=BENCH_EMAIL).first()
    if user is None:
        return None
    organization = user.memberships.get().organization
    project = organization.projects.get()
    tasks = list(Task.objects.filter(project=project).order_by("name"))
    _key, secret = api_key_create(project=project, user=user, name="bench")
    print(f"reusing the kept database ({len(tasks)} tasks)")
    return user, organization, project, tasks, secret


def _fill(runs: int, tasks: int):
    from rightbrain.orgs.models import User
    from rightbrain.orgs.services import api_key_create, organization_create
    from runs_app.models import DailyUsage, HourlyUsage
    from runs_app.synthetic import synthetic_runs_create

    user = User.objects.create_user(email=BENCH_EMAIL, password="x" * 12)
    organization = organization_create(name="Bench", owner=user)
    project = organization.projects.get()
    started = time.perf_counter()
    made = synthetic_runs_create(project=project, user=user, runs=runs, tasks=tasks)
    print(
        f"filled {runs:,} runs ({HourlyUsage.objects.count():,} hourly and "
        f"{DailyUsage.objects.count():,} daily rollup rows) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    if connection.vendor == "postgresql":
        # Fresh bulk-loaded tables have no statistics, visibility map or hint
        # bits yet; autovacuum gives a live database them within a minute.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    _key, secret = api_key_create(project=project, user=user, name="bench")
    return user, organization, project, made, secret


def _time(client: Client, url: str, rounds: int) -> tuple[list[float], int]:
    for _ in range(3):  # warm caches and connections
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
    queries: list[str] = []

    def counted(execute, sql, *args):
        queries.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(counted):
        client.get(url)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.content[:300])
    return samples, len(queries)


def _report(name: str, kind: str, samples: list[float], queries: int) -> bool:
    samples.sort()
    median = statistics.median(samples)
    p95 = samples[max(int(len(samples) * 0.95) - 1, 0)]
    target = TARGETS_MS.get(kind)
    verdict = "" if target is None else ("ok" if median <= target else "SLOW")
    limit = f"≤ {target:.0f}" if target else ""
    print(
        f"{name:<44} median {median:7.2f} ms   p95 {p95:7.2f} ms   "
        f"{queries:2d} queries   {limit:>5} {verdict}"
    )
    return verdict != "SLOW"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--database", default="rightbrain_reports_bench")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    setup_test_environment()
    settings.DEBUG = False
    connection.settings_dict["TEST"]["NAME"] = args.database
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=args.keep
    )
    try:
        user, organization, project, tasks, secret = (args.keep and _filled()) or _fill(
            args.runs, args.tasks
        )
        api = Client(headers={"Authorization": f"Bearer {secret}"})
        browser = Client()
        browser.force_login(user)
        base = f"/api/v1/org/{organization.pk}/project/{project.pk}"
        task = f"{base}/task/{tasks[len(tasks) // 2].pk}"
        pages = f"/projects/{project.pk}"
        print(
            f"{connection.vendor}, {args.runs:,} runs in {len(tasks)} tasks, "
            f"{args.rounds} requests each"
        )
        # The floor, to read the figures against: this machine's speed varies
        # from run to run (a shared VM), and so does everything below.
        _report("GET /healthz (SELECT 1)", "", *_time(api, "/healthz", args.rounds))
        checks = [
            ("token report (30 days)", "report", f"{task}/token_report"),
            (
                "token report by reporting group",
                "report",
                f"{task}/token_report?show_reporting_group=true",
            ),
            ("credit report (30 days)", "report", f"{task}/credit_report"),
            ("usage report, day (24 hourly)", "report", f"{task}/usage_report"),
            (
                "usage report, week (7 daily)",
                "report",
                f"{task}/usage_report?aggregation=week",
            ),
            ("timing report, hour (24 hourly)", "report", f"{task}/timing_report"),
            (
                "timing report, 30 days daily",
                "report",
                f"{task}/timing_report?aggregation=day&start_date=30+days+ago",
            ),
            (
                "timing report, 30 days hourly (720)",
                "report",
                f"{task}/timing_report?start_date=30+days+ago",
            ),
            ("project usage report, day", "report", f"{base}/usage_report"),
            (
                "project usage report, week",
                "report",
                f"{base}/usage_report?aggregation=week",
            ),
            ("project timing report, hour", "report", f"{base}/timing_report"),
            (
                "project timing report, day",
                "report",
                f"{base}/timing_report?aggregation=day",
            ),
        ]
        page_checks = [
            ("Usage page (7 days)", "page", f"{pages}/usage"),
            ("Usage page (24 hours)", "page", f"{pages}/usage?range=24h"),
            ("Usage page (30 days)", "page", f"{pages}/usage?range=30d"),
            (
                "task usage page (30 days)",
                "page",
                f"{pages}/tasks/{tasks[0].pk}/usage?range=30d",
            ),
            ("Runs page (first 50)", "", f"{pages}/runs"),
            ("Runs page, one task", "", f"{pages}/runs?task={tasks[0].pk}"),
        ]
        ok = True
        for name, kind, url in checks:
            ok &= _report(name, kind, *_time(api, url, args.rounds))
        for name, kind, url in page_checks:
            ok &= _report(name, kind, *_time(browser, url, args.rounds))
        print("all within target" if ok else "some above target")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=args.keep)


if __name__ == "__main__":
    main()
