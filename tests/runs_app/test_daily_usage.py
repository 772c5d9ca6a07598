"""The daily rollups (DailyUsage) stay in step with the runs and with the
hourly rollups, and the reports read them for whole days without changing a
total."""

from __future__ import annotations

import importlib
import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.apps import apps
from django.db.models import Sum
from django.db.models.functions import TruncDay

from runs_app import latency
from runs_app.models import DailyUsage, HourlyUsage, TaskRun
from runs_app.synthetic import synthetic_runs_create
from tasks_app.services import task_delete
from tests.runs_app.usage_data import add_revision, group, make_task, record_run

DAY = datetime(2025, 3, 10, tzinfo=UTC)
KEY = ("task_id", "task_revision_id", "reporting_group_key", "llm_model_id")
SUMS = (
    "runs",
    "errors",
    "input_tokens",
    "output_tokens",
    "credits",
    "llm_seconds",
    "processor_seconds",
    *latency.COLUMNS,
)


def _days(rows) -> dict[tuple, dict]:
    return {
        (*(row.pop(name) for name in KEY), row.pop("day")): row
        for row in rows.values(*KEY, "day", *SUMS)
    }


def _hours_by_day() -> dict[tuple, dict]:
    """The hourly rows summed per UTC day, as DailyUsage keys them."""
    summed = (
        HourlyUsage.objects.annotate(day=TruncDay("hour", tzinfo=UTC))
        .values(*KEY, "day")
        .annotate(**{name: Sum(name) for name in SUMS})
        .order_by()
    )
    return _days(summed)


def _close(left: dict[tuple, dict], right: dict[tuple, dict]) -> None:
    assert left.keys() == right.keys()
    for key, sums in left.items():
        for name, value in sums.items():
            if isinstance(value, float):
                assert value == pytest.approx(right[key][name]), name
            else:
                assert value == right[key][name], name


@pytest.fixture
def task(personas, llm):
    return make_task(project=personas.project, user=personas.owner, model=llm.plain)


def test_a_run_in_the_last_microsecond_of_a_day_counts_for_that_day(task):
    revision = task.revisions.get()
    record_run(task, revision, at=DAY - timedelta(microseconds=1), credits="0.40")
    record_run(task, revision, at=DAY, credits="0.10")
    record_run(task, revision, at=DAY.replace(hour=23, minute=59, second=59))

    days = {row.day: row for row in DailyUsage.objects.filter(task=task)}
    assert sorted(days) == [DAY - timedelta(days=1), DAY]
    assert (days[DAY - timedelta(days=1)].runs, days[DAY].runs) == (1, 2)
    assert days[DAY - timedelta(days=1)].credits == Decimal("0.40")
    assert days[DAY].credits == Decimal("0.35")


def test_days_are_cut_in_utc_whatever_the_run_time_zone(task):
    revision = task.revisions.get()
    # 01:30 in Paris summer time is 23:30 UTC the day before.
    paris = timezone(timedelta(hours=2))
    record_run(task, revision, at=datetime(2025, 6, 2, 1, 30, tzinfo=paris))

    row = DailyUsage.objects.get(task=task)
    assert row.day == datetime(2025, 6, 1, tzinfo=UTC)
    assert HourlyUsage.objects.get(task=task).hour == datetime(
        2025, 6, 1, 23, tzinfo=UTC
    )


def test_daily_rows_are_the_hourly_rows_summed_by_day(personas, task):
    revisions = [task.revisions.get(), add_revision(task, personas.owner)]
    groups = [None, group(personas.project, "acme")]
    rng = random.Random(7)
    for _ in range(120):
        record_run(
            task,
            rng.choice(revisions),
            at=DAY + timedelta(seconds=rng.uniform(-86_400, 3 * 86_400)),
            error=rng.random() < 0.2,
            input_tokens=rng.randrange(500),
            output_tokens=rng.randrange(500),
            credits=rng.choice([None, "0.01", "1.37"]),
            llm_seconds=rng.choice([None, 0.04, 0.3, 2.2, 75.0]),
            processor_seconds=rng.choice([None, 0.002]),
            reporting_group=rng.choice(groups),
        )

    _close(_days(DailyUsage.objects.all()), _hours_by_day())
    assert DailyUsage.objects.aggregate(Sum("runs"))["runs__sum"] == 120


def test_deleting_a_task_deletes_its_daily_rows_with_its_runs(personas, llm, task):
    other = make_task(
        project=personas.project, user=personas.owner, model=llm.plain, name="Other"
    )
    record_run(task, task.revisions.get(), at=DAY)
    record_run(other, other.revisions.get(), at=DAY)

    task_delete(task=task)

    assert list(DailyUsage.objects.values_list("task_id", flat=True)) == [other.pk]
    assert list(HourlyUsage.objects.values_list("task_id", flat=True)) == [other.pk]
    assert list(TaskRun.objects.values_list("task_id", flat=True)) == [other.pk]


def test_the_migration_sums_existing_hours_into_days(task):
    migration = importlib.import_module("runs_app.migrations.0006_daily_usage")
    revision = task.revisions.get()
    for hours in (0, 5, 23, 24, 50):
        record_run(task, revision, at=DAY + timedelta(hours=hours), llm_seconds=hours)
    kept = _days(DailyUsage.objects.all())
    DailyUsage.objects.all().delete()

    migration.days_from_hours(apps, None)

    _close(_days(DailyUsage.objects.all()), kept)
    assert migration.SUMS == SUMS


def test_synthetic_runs_fill_the_daily_rows_too(personas, llm):
    synthetic_runs_create(
        project=personas.project, user=personas.owner, runs=400, tasks=2, days=3
    )
    assert DailyUsage.objects.aggregate(Sum("runs"))["runs__sum"] == 400
    _close(_days(DailyUsage.objects.all()), _hours_by_day())


# Reports read the days --------------------------------------------------------------


def test_whole_days_of_a_window_are_read_from_the_daily_rows(api, task):
    revision = task.revisions.get()
    record_run(task, revision, at=DAY + timedelta(hours=1))
    record_run(task, revision, at=DAY + timedelta(days=1, hours=22))
    client = api("viewer")
    params = {"start_date": "2025-03-10", "end_date": "2025-03-11"}
    assert (
        client.get(f"/task/{task.pk}/token_report", **params).json()["total_task_runs"]
        == 2
    )
    # Without the hourly rows, whole days still add up: they come from the
    # daily ones.
    HourlyUsage.objects.all().delete()
    assert (
        client.get(f"/task/{task.pk}/token_report", **params).json()["total_task_runs"]
        == 2
    )


def test_hours_around_the_whole_days_come_from_the_hourly_rows(api, task):
    revision = task.revisions.get()
    inside = [
        DAY - timedelta(hours=2),  # 22:00 the day before: an edge hour
        DAY + timedelta(hours=12),  # a whole day
        DAY + timedelta(days=1, hours=3, minutes=59),  # an edge hour after
    ]
    outside = [
        DAY - timedelta(hours=2, microseconds=1),
        DAY + timedelta(days=1, hours=4),
    ]
    for moment in inside + outside:
        record_run(task, revision, at=moment, credits="1.00")
    params = {
        "start_date": "2025-03-09T22:00:00Z",
        "end_date": "2025-03-11T03:30:00Z",
    }
    client = api("viewer")
    token = client.get(f"/task/{task.pk}/token_report", **params).json()
    credit = client.get(f"/task/{task.pk}/credit_report", **params).json()
    timing = client.get(
        f"/task/{task.pk}/timing_report", aggregation="day", **params
    ).json()

    assert token["date_range"] == {
        "start": "2025-03-09T22:00:00Z",
        "end": "2025-03-11T03:59:59.999999Z",
    }
    assert token["total_task_runs"] == 3
    assert credit["total_credits"] == "3.00"
    assert timing["total_task_runs"] == {
        "2025-03-09": 1,
        "2025-03-10": 1,
        "2025-03-11": 1,
    }
