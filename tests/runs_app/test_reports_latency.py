"""LLM latency percentiles from the rollups' histograms (runs_app/latency.py)."""

from __future__ import annotations

import importlib
import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from hypothesis import given
from hypothesis import strategies as st

from runs_app import latency
from runs_app.models import HourlyUsage
from tests.runs_app.usage_data import add_revision, make_task, record_run

AT = datetime(2025, 3, 10, 9, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [(0, 0), (0.05, 0), (0.0501, 1), (1.0, 5), (1.01, 6), (60, 14), (61, 15)],
)
def test_a_duration_falls_in_the_bucket_whose_upper_bound_it_does_not_pass(
    seconds, bucket
):
    assert latency.bucket_of(seconds) == bucket


def test_the_model_has_one_column_per_bucket():
    names = {field.name for field in HourlyUsage._meta.get_fields()}
    assert set(latency.COLUMNS) <= names
    assert len(latency.COLUMNS) == latency.BUCKETS == 16


def test_percentiles_interpolate_inside_the_bucket():
    counts = [0] * latency.BUCKETS
    counts[5] = 10  # ten runs in (0.75, 1.0]
    assert latency.percentile(counts, 0.5) == pytest.approx(0.875)
    assert latency.percentile(counts, 1.0) == pytest.approx(1.0)


def test_no_runs_have_no_percentile():
    assert latency.percentile([0] * latency.BUCKETS, 0.95) is None


def test_a_percentile_in_the_open_last_bucket_reads_as_its_lower_bound():
    counts = [0] * latency.BUCKETS
    counts[-1] = 3
    assert latency.percentile(counts, 0.95) == latency.BOUNDS[-1]


@given(
    st.lists(st.floats(0.001, 59.9, allow_nan=False), min_size=1, max_size=300),
    st.sampled_from([0.5, 0.95]),
)
def test_estimates_stay_within_the_bucket_of_the_exact_percentile(samples, fraction):
    counts = [0] * latency.BUCKETS
    for seconds in samples:
        counts[latency.bucket_of(seconds)] += 1
    ordered = sorted(samples)
    exact = ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]
    bucket = latency.bucket_of(exact)
    lower = latency.BOUNDS[bucket - 1] if bucket else 0.0
    estimate = latency.percentile(counts, fraction)
    assert estimate is not None
    assert lower <= estimate <= latency.BOUNDS[bucket]


def _one_at_a_time(counts: list[int], fraction: float) -> float | None:
    """The percentile read the plain way: walk the buckets to the rank."""
    total = sum(counts)
    if not total:
        return None
    rank, seen = fraction * total, 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            lower = latency.BOUNDS[index - 1] if index else 0.0
            if index == len(latency.BOUNDS):
                return lower
            return lower + (latency.BOUNDS[index] - lower) * ((rank - seen) / count)
        seen += count
    raise AssertionError("the ranks end at the total")


@given(
    st.lists(st.integers(0, 40), min_size=latency.BUCKETS, max_size=latency.BUCKETS),
    st.lists(st.floats(0, 1), min_size=1, max_size=4).map(sorted),
)
def test_several_percentiles_in_one_pass_equal_each_read_alone(counts, fractions):
    together = latency.percentiles(counts, fractions)
    assert together == [_one_at_a_time(counts, fraction) for fraction in fractions]


def test_the_run_upsert_counts_each_run_in_its_latency_bucket(personas, llm):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    revision = task.revisions.get()
    record_run(task, revision, at=AT, llm_seconds=0.3)
    record_run(task, revision, at=AT + timedelta(minutes=5), llm_seconds=0.4)
    record_run(task, revision, at=AT + timedelta(minutes=9), llm_seconds=7.0)
    record_run(task, revision, at=AT, llm_seconds=None)
    row = HourlyUsage.objects.get(task=task)
    assert row.runs == 4
    assert row.llm_hist_03 == 2
    assert row.llm_hist_10 == 1
    assert sum(getattr(row, column) for column in latency.COLUMNS) == 3


def test_the_migration_fills_histograms_of_existing_rows_from_their_runs(personas, llm):
    migration = importlib.import_module("runs_app.migrations.0005_latency_histogram")
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    revision = task.revisions.get()
    for seconds in (0.2, 0.2, 2.5):
        record_run(task, revision, at=AT, llm_seconds=seconds)
    record_run(task, revision, at=AT + timedelta(hours=1), llm_seconds=100)
    HourlyUsage.objects.update(**dict.fromkeys(latency.COLUMNS, 0))
    migration.histograms_from_runs(apps, None)
    first, second = HourlyUsage.objects.order_by("hour")
    assert (first.llm_hist_02, first.llm_hist_08) == (2, 1)
    assert second.llm_hist_15 == 1
    assert migration.BOUNDS == latency.BOUNDS


@pytest.mark.parametrize(
    ("aggregation", "window"),
    [
        ("hour", ("2025-03-10T06:00:00Z", "2025-03-11T02:00:00Z")),
        ("day", ("2025-03-09T20:00:00Z", "2025-03-12T03:00:00Z")),
    ],
)
def test_timing_report_percentiles_equal_those_of_the_runs_histograms(
    api, personas, llm, aggregation, window
):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    first = task.revisions.get()
    tests = [add_revision(task, personas.owner, test=True) for _ in range(2)]
    rng = random.Random(3)
    recorded = []
    for _ in range(150):
        revision = rng.choice([first, *tests])
        at = AT + timedelta(minutes=rng.randrange(-20 * 60, 60 * 60))
        seconds = rng.choice([None, rng.lognormvariate(0, 1.2)])
        recorded.append(record_run(task, revision, at=at, llm_seconds=seconds))
    start, end = window

    body = (
        api("viewer")
        .get(
            f"/task/{task.pk}/timing_report",
            aggregation=aggregation,
            start_date=start,
            end_date=end,
        )
        .json()
    )

    answered = [
        datetime.fromisoformat(body["date_range"][edge]) for edge in ("start", "end")
    ]
    histograms: dict[tuple[str, str], list[int]] = {}
    for run in recorded:
        if not answered[0] <= run.created <= answered[1]:
            continue
        line = "test" if run.task_revision.test else str(run.task_revision_id)
        label = (
            run.created.strftime("%Y-%m-%dT%H:00:00Z")
            if aggregation == "hour"
            else run.created.strftime("%Y-%m-%d")
        )
        counts = histograms.setdefault((line, label), [0] * latency.BUCKETS)
        if run.llm_call_timing is not None:
            counts[latency.bucket_of(run.llm_call_timing)] += 1
    reported = 0
    for row in body["task_revisions"]:
        for label, bucket in row["data"].items():
            counts = histograms.get((row["task_revision_id"], label))
            if counts is None:
                assert bucket["total_task_runs"] == 0
                continue
            reported += 1
            assert bucket["p50_llm_call_timing"] == latency.percentile(counts, 0.5)
            assert bucket["p95_llm_call_timing"] == latency.percentile(counts, 0.95)
    assert reported == len(histograms) > 5
