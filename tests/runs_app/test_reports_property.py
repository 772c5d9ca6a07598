"""Every report total equals the sum over the runs inside the window it
answers for, whatever the runs and the window (hypothesis draws both, with
runs on and next to the window's edges)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runs_app.credits import credits_shown
from tests.runs_app.usage_data import (
    add_revision,
    group,
    make_task,
    record_run,
    split_traffic,
)

ORIGIN = datetime(2025, 6, 1, tzinfo=UTC)
SPAN_MINUTES = 3 * 24 * 60


def _moment(minutes: int, edge: str) -> datetime:
    moment = ORIGIN + timedelta(minutes=minutes)
    if edge == "hour_start":
        return moment.replace(minute=0)
    if edge == "hour_end":
        return moment.replace(minute=59, second=59, microsecond=999999)
    return moment


runs_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "minutes": st.integers(0, SPAN_MINUTES),
            "edge": st.sampled_from(["hour_start", "hour_end", "inside"]),
            "revision": st.sampled_from(["a", "b", "t"]),
            "group": st.sampled_from([None, "acme", "globex"]),
            "error": st.booleans(),
            "input_tokens": st.integers(0, 5000),
            "output_tokens": st.integers(0, 5000),
            "credits": st.one_of(
                st.none(),
                # Runs keep a millionth of a credit (runs_app/credits.py).
                st.decimals(min_value=0, max_value=100, places=6).map(str),
            ),
            "llm_seconds": st.floats(0.01, 90, allow_nan=False),
        }
    ),
    max_size=25,
)


def _bound(minutes: int, kind: str) -> str:
    moment = ORIGIN + timedelta(minutes=minutes)
    if kind == "date":
        return moment.strftime("%Y-%m-%d")
    return moment.isoformat().replace("+00:00", "Z")


window_strategy = st.tuples(
    st.integers(-60, SPAN_MINUTES + 60),
    st.integers(0, SPAN_MINUTES),
    st.sampled_from(["date", "instant"]),
    st.sampled_from(["date", "instant"]),
)


@pytest.fixture
def task_and_revisions(personas, llm):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    a = task.revisions.get()
    b = add_revision(task, personas.owner)
    t = add_revision(task, personas.owner, test=True)
    split_traffic(task, a, b)
    groups = {name: group(personas.project, name) for name in ("acme", "globex")}
    return task, {"a": a, "b": b, "t": t}, groups


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(runs=runs_strategy, window=window_strategy)
def test_report_totals_equal_the_sums_over_the_runs_in_the_window(
    api, task_and_revisions, runs, window
):
    task, revisions, groups = task_and_revisions
    client = api("viewer")
    start_minutes, length, start_kind, end_kind = window
    params = {
        "start_date": _bound(start_minutes, start_kind),
        "end_date": _bound(start_minutes + length, end_kind),
    }
    with transaction.atomic():
        recorded = [
            record_run(
                task,
                revisions[run["revision"]],
                at=_moment(run["minutes"], run["edge"]),
                error=run["error"],
                input_tokens=run["input_tokens"],
                output_tokens=run["output_tokens"],
                credits=run["credits"],
                llm_seconds=run["llm_seconds"],
                reporting_group=groups.get(run["group"]),
            )
            for run in runs
        ]
        token = client.get(
            f"/task/{task.pk}/token_report", show_reporting_group="true", **params
        ).json()
        credit = client.get(f"/task/{task.pk}/credit_report", **params).json()
        timing = client.get(
            f"/task/{task.pk}/timing_report", aggregation="day", **params
        ).json()
        transaction.set_rollback(True)

    start = datetime.fromisoformat(token["date_range"]["start"])
    end = datetime.fromisoformat(token["date_range"]["end"])
    assert start.minute == start.second == start.microsecond == 0
    assert (end.minute, end.second, end.microsecond) == (59, 59, 999999)
    inside = [run for run in recorded if start <= run.created <= end]

    assert token["total_task_runs"] == len(inside)
    assert token["total_input_tokens"] == sum(run.input_tokens for run in inside)
    assert token["total_output_tokens"] == sum(run.output_tokens for run in inside)
    assert sum(row["total_tokens"] for row in token["task_revisions"]) == sum(
        run.total_tokens for run in inside
    )
    by_row: dict[tuple[str, str | None], int] = {}
    for run in inside:
        revision = "test" if run.task_revision.test else str(run.task_revision_id)
        name = run.reporting_group.name if run.reporting_group else None
        by_row[revision, name] = by_row.get((revision, name), 0) + 1
    reported = {
        (row["task_revision_id"], row["reporting_group"]): row["total_task_runs"]
        for row in token["task_revisions"]
        if row["total_task_runs"]
    }
    assert reported == by_row

    assert credit["date_range"] == token["date_range"]
    # The exact sum, rounded half up to two places only as it is answered.
    assert credit["total_credits"] == credits_shown(
        sum((run.charged_credits or Decimal(0) for run in inside), Decimal(0))
    )
    assert credit["total_task_runs"] == len(inside)

    assert sum(timing["total_task_runs"].values()) == len(inside)
    for day, count in timing["total_task_runs"].items():
        assert count == sum(
            1 for run in inside if run.created.date().isoformat() == day
        )
