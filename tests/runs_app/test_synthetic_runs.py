"""The benchmarks' synthetic history: bulk runs whose rollups equal what the
run path's upsert would have written."""

from __future__ import annotations

from collections import Counter
from io import StringIO

from django.core.management import call_command
from django.db.models import Sum

from runs_app import latency
from runs_app.models import HourlyUsage, TaskRun
from runs_app.synthetic import synthetic_runs_create


def test_synthetic_rollups_equal_the_sums_of_their_runs(personas, llm):
    tasks = synthetic_runs_create(
        project=personas.project, user=personas.owner, runs=700, tasks=3, days=2
    )
    runs = TaskRun.objects.filter(task__in=tasks)
    rows = HourlyUsage.objects.filter(task__in=tasks)
    assert runs.count() == 700
    fields = ["input_tokens", "output_tokens", "charged_credits"]
    run_sums = runs.aggregate(*(Sum(name) for name in fields))
    row_sums = rows.aggregate(
        Sum("runs"), Sum("input_tokens"), Sum("output_tokens"), Sum("credits")
    )
    assert row_sums["runs__sum"] == 700
    assert row_sums["input_tokens__sum"] == run_sums["input_tokens__sum"]
    assert row_sums["output_tokens__sum"] == run_sums["output_tokens__sum"]
    assert row_sums["credits__sum"] == run_sums["charged_credits__sum"]
    assert rows.aggregate(Sum("errors"))["errors__sum"] == (
        runs.filter(is_error=True).count()
    )
    buckets = Counter(
        latency.bucket_of(seconds)
        for seconds in runs.values_list("llm_call_timing", flat=True)
    )
    histogram = rows.aggregate(*(Sum(column) for column in latency.COLUMNS))
    assert [histogram[f"{column}__sum"] or 0 for column in latency.COLUMNS] == [
        buckets[index] for index in range(latency.BUCKETS)
    ]


def test_the_command_fills_a_new_project_by_default(db, llm):
    out = StringIO()
    call_command("synthetic_runs", "--runs", "50", "--tasks", "2", stdout=out)
    assert "50 runs over 2 tasks" in out.getvalue()
    assert TaskRun.objects.count() == 50
