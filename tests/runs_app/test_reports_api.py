"""The report endpoints (api.md §5, checklist items 56–66)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from runs_app.reports import hour_start
from tests.runs_app.usage_data import (
    add_revision,
    group,
    make_task,
    record_run,
    split_traffic,
)

DAY = datetime(2025, 3, 10, tzinfo=UTC)


@pytest.fixture
def ab_task(personas, llm):
    """A task split 50/50 between revisions A and B, with an idle third
    revision C, a test revision T, and runs on 10 March 2025."""
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    a = task.revisions.get()
    b = add_revision(task, personas.owner, prompt="B {text}")
    c = add_revision(task, personas.owner, prompt="C {text}")
    t = add_revision(task, personas.owner, test=True, prompt="T {text}")
    split_traffic(task, a, b)
    acme = group(personas.project, "acme")
    runs = [
        record_run(task, a, at=DAY + timedelta(hours=9), input_tokens=100),
        record_run(task, a, at=DAY + timedelta(hours=9, minutes=30), error=True),
        record_run(task, a, at=DAY + timedelta(hours=14), reporting_group=acme),
        record_run(task, b, at=DAY + timedelta(hours=10), credits="1.10"),
        record_run(task, t, at=DAY + timedelta(hours=11), output_tokens=7),
    ]
    return task, {"a": a, "b": b, "c": c, "t": t}, runs


def _rows(body):
    return {row["task_revision_id"]: row for row in body["task_revisions"]}


# Item 56 ------------------------------------------------------------------------------


def test_token_report_totals_are_the_sums_over_the_runs_of_the_window(api, ab_task):
    task, revisions, runs = ab_task
    body = (
        api("editor")
        .get(
            f"/task/{task.pk}/token_report",
            start_date="2025-03-10",
            end_date="2025-03-10",
        )
        .json()
    )
    assert body["task_id"] == str(task.pk)
    assert body["date_range"] == {
        "start": "2025-03-10T00:00:00Z",
        "end": "2025-03-10T23:59:59.999999Z",
    }
    assert body["total_input_tokens"] == sum(run.input_tokens for run in runs)
    assert body["total_output_tokens"] == sum(run.output_tokens for run in runs)
    assert body["total_tokens"] == sum(run.total_tokens for run in runs)
    assert body["total_task_runs"] == len(runs)


def test_token_report_has_a_row_per_revision_run_and_zero_rows_for_idle_active_ones(
    api, ab_task, personas
):
    task, revisions, _runs = ab_task
    a, b, c = revisions["a"], revisions["b"], revisions["c"]
    # B still carries traffic but ran nothing on the 12th; C is not active.
    record_run(task, a, at=DAY + timedelta(days=2, hours=1))
    rows = _rows(
        api("editor")
        .get(f"/task/{task.pk}/token_report", start_date="2025-03-12")
        .json()
    )
    assert set(rows) == {str(a.pk), str(b.pk)}
    assert rows[str(b.pk)] == {
        "task_revision_id": str(b.pk),
        "total_input_tokens": 0,
        "total_output_tokens": 0,
        "total_tokens": 0,
        "total_task_runs": 0,
    }
    assert str(c.pk) not in rows


def test_runs_of_test_revisions_are_pooled_as_test(api, ab_task):
    task, revisions, _runs = ab_task
    rows = _rows(
        api("editor")
        .get(f"/task/{task.pk}/token_report", start_date="2025-03-10")
        .json()
    )
    assert rows["test"]["total_task_runs"] == 1
    assert rows["test"]["total_output_tokens"] == 7
    assert str(revisions["t"].pk) not in rows


# Item 57 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        "2024-01-15",
        "now",
        "today",
        "yesterday",
        "24 hours ago",
        "7 days ago",
        "2 weeks ago",
        "last week",
        "last month",
    ],
)
def test_start_date_accepts_the_date_grammar(api, ab_task, start):
    task, _revisions, _runs = ab_task
    response = api("editor").get(f"/task/{task.pk}/token_report", start_date=start)
    assert response.status_code == 200, response.json()


def test_a_start_date_that_is_not_a_date_is_a_400_naming_it(api, ab_task):
    task, _revisions, _runs = ab_task
    response = api("editor").get(f"/task/{task.pk}/token_report", start_date="soon")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["detail"][0]["loc"] == ["query", "start_date"]


def test_a_start_after_the_end_is_a_400(api, ab_task):
    task, _revisions, _runs = ab_task
    for report in ("token_report", "timing_report"):
        response = api("editor").get(
            f"/task/{task.pk}/{report}",
            start_date="2025-03-11",
            end_date="2025-03-10",
        )
        assert response.status_code == 400, report
        assert "after" in response.json()["detail"][0]["msg"]


# Item 58 ------------------------------------------------------------------------------


def test_an_absolute_end_date_includes_runs_up_to_23_59_59_of_that_day(
    api, personas, llm
):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    revision = task.revisions.get()
    last_second = datetime(2025, 3, 10, 23, 59, 59, 999000, tzinfo=UTC)
    record_run(task, revision, at=last_second)
    record_run(task, revision, at=last_second + timedelta(milliseconds=1))  # the 11th
    record_run(task, revision, at=datetime(2025, 3, 10, tzinfo=UTC))
    record_run(task, revision, at=datetime(2025, 3, 9, 23, 59, 59, tzinfo=UTC))
    client = api("viewer")
    for report in ("token_report", "credit_report"):
        body = client.get(
            f"/task/{task.pk}/{report}",
            start_date="2025-03-10",
            end_date="2025-03-10",
        ).json()
        assert body["total_task_runs"] == 2, report
    timing = client.get(
        f"/task/{task.pk}/timing_report",
        start_date="2025-03-10",
        end_date="2025-03-10",
        aggregation="day",
    ).json()
    assert timing["total_task_runs"] == {"2025-03-10": 2}


# Item 59 ------------------------------------------------------------------------------


def test_show_reporting_group_splits_rows_by_group(api, ab_task):
    task, revisions, _runs = ab_task
    a = str(revisions["a"].pk)
    client = api("editor")
    token = client.get(
        f"/task/{task.pk}/token_report",
        start_date="2025-03-10",
        show_reporting_group="true",
    ).json()
    token_rows = {
        (row["task_revision_id"], row["reporting_group"]): row["total_task_runs"]
        for row in token["task_revisions"]
    }
    assert token_rows[a, "acme"] == 1
    assert token_rows[a, None] == 2
    credit = client.get(
        f"/task/{task.pk}/credit_report",
        start_date="2025-03-10",
        show_reporting_group="true",
    ).json()
    credit_rows = {
        (row["task_revision_id"], row["reporting_group"]): row["total_credits"]
        for row in credit["task_revisions"]
    }
    assert credit_rows[a, "acme"] == "0.25"
    assert credit_rows[a, "ungrouped"] == "0.50"


def test_without_show_reporting_group_rows_have_no_group_key(api, ab_task):
    task, _revisions, _runs = ab_task
    client = api("editor")
    for report in ("token_report", "credit_report"):
        body = client.get(f"/task/{task.pk}/{report}", start_date="2025-03-10").json()
        assert all("reporting_group" not in row for row in body["task_revisions"])


# Items 60, 61 -------------------------------------------------------------------------


@pytest.fixture
def recent_task(personas, llm):
    """Runs in the last hours and days, relative to now."""
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    revision = task.revisions.get()
    now = timezone.now()
    for hours_ago, error in ((0, False), (0, True), (3, False), (30, False)):
        record_run(task, revision, at=now - timedelta(hours=hours_ago), error=error)
    record_run(task, revision, at=now - timedelta(days=9))
    return task, revision, now


def test_usage_report_day_is_24_zero_filled_hourly_buckets(api, recent_task):
    task, revision, now = recent_task
    body = api("viewer").get(f"/task/{task.pk}/usage_report").json()
    assert body["aggregation"] == "day"
    expected = [
        (hour_start(now) - timedelta(hours=23 - n)).strftime("%Y-%m-%dT%H:00:00Z")
        for n in range(24)
    ]
    assert list(body["total_counts"]) == expected
    data = _rows(body)[str(revision.pk)]["data"]
    assert list(data) == expected
    assert data[expected[-1]] == 2
    assert data[expected[-4]] == 1
    assert sum(data.values()) == 3
    assert body["date_range"]["start"] == expected[0]


def test_usage_report_week_is_7_zero_filled_daily_buckets(api, recent_task):
    task, revision, now = recent_task
    body = api("viewer").get(f"/task/{task.pk}/usage_report", aggregation="week").json()
    days = [(now - timedelta(days=6 - n)).strftime("%Y-%m-%d") for n in range(7)]
    assert list(body["total_counts"]) == days
    assert sum(body["total_counts"].values()) == 4


def test_usage_report_total_counts_are_the_bucket_sums_of_the_rows(api, ab_task):
    task, revisions, _runs = ab_task
    now = timezone.now()
    for revision in revisions.values():
        record_run(task, revision, at=now)
    body = api("viewer").get(f"/task/{task.pk}/usage_report").json()
    assert len(body["task_revisions"]) == 4  # A, B, C (ran) and the test runs
    for bucket, count in body["total_counts"].items():
        assert count == sum(row["data"][bucket] for row in body["task_revisions"])
    assert sum(body["total_counts"].values()) == 4


def test_usage_report_errors_only_counts_failed_runs(api, recent_task):
    task, revision, _now = recent_task
    body = api("viewer").get(f"/task/{task.pk}/usage_report", errors_only="true").json()
    assert sum(body["total_counts"].values()) == 1


# Item 62 ------------------------------------------------------------------------------


@pytest.mark.parametrize("report", ["usage_report", "timing_report"])
def test_aggregation_month_is_a_400(api, ab_task, report):
    task, _revisions, _runs = ab_task
    response = api("viewer").get(f"/task/{task.pk}/{report}", aggregation="month")
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["query", "aggregation"]


def test_hourly_buckets_over_more_than_a_year_are_refused(api, ab_task):
    task, _revisions, _runs = ab_task
    client = api("viewer")
    url = f"/task/{task.pk}/timing_report"
    response = client.get(url, start_date="2023-01-01", end_date="2024-12-31")
    assert response.status_code == 400
    assert "aggregation=day" in response.json()["detail"][0]["msg"]
    daily = client.get(
        url, start_date="2023-01-01", end_date="2024-12-31", aggregation="day"
    )
    assert daily.status_code == 200
    assert len(daily.json()["total_task_runs"]) == 731


# Item 63 ------------------------------------------------------------------------------


def test_timing_report_buckets_hold_the_averages_of_their_runs(api, personas, llm):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    revision = task.revisions.get()
    nine = DAY + timedelta(hours=9)
    record_run(task, revision, at=nine, llm_seconds=1.0, processor_seconds=0.1)
    record_run(task, revision, at=nine, llm_seconds=2.0, processor_seconds=0.3)
    record_run(task, revision, at=nine + timedelta(hours=2), llm_seconds=4.0)
    body = (
        api("viewer")
        .get(
            f"/task/{task.pk}/timing_report",
            start_date="2025-03-10T09:00:00Z",
            end_date="2025-03-10T11:30:00Z",
        )
        .json()
    )
    keys = [
        "2025-03-10T09:00:00Z",
        "2025-03-10T10:00:00Z",
        "2025-03-10T11:00:00Z",
    ]
    assert body["aggregation"] == "hour"
    assert body["total_task_runs"] == dict(zip(keys, [2, 0, 1], strict=True))
    data = _rows(body)[str(revision.pk)]["data"]
    assert list(data) == keys
    assert data[keys[0]]["avg_llm_call_timing"] == pytest.approx(1.5)
    assert data[keys[0]]["avg_input_processor_timing"] == pytest.approx(0.2)
    assert data[keys[0]]["total_task_runs"] == 2
    assert data[keys[1]] == {
        "avg_llm_call_timing": None,
        "avg_input_processor_timing": None,
        "total_task_runs": 0,
        "p50_llm_call_timing": None,
        "p95_llm_call_timing": None,
    }
    assert data[keys[2]]["avg_llm_call_timing"] == pytest.approx(4.0)
    # Percentiles from the histogram: 4 s lies in the (3, 5] bucket.
    assert 3.0 < data[keys[2]]["p95_llm_call_timing"] <= 5.0


def test_timing_report_without_dates_is_the_last_24_hours_or_7_days(api, recent_task):
    task, _revision, _now = recent_task
    client = api("viewer")
    hourly = client.get(f"/task/{task.pk}/timing_report").json()
    daily = client.get(f"/task/{task.pk}/timing_report", aggregation="day").json()
    assert len(hourly["total_task_runs"]) == 24
    assert sum(hourly["total_task_runs"].values()) == 3
    assert len(daily["total_task_runs"]) == 7
    assert sum(daily["total_task_runs"].values()) == 4


# Item 64 ------------------------------------------------------------------------------


def test_credit_report_total_is_the_decimal_string_sum_of_run_credits(api, ab_task):
    task, _revisions, runs = ab_task
    body = api("viewer").get(f"/task/{task.pk}/credit_report").json()
    assert body["total_credits"] == str(sum(run.charged_credits for run in runs))
    assert body["total_credits"] == "2.10"
    assert body["total_task_runs"] == 5


def test_credit_report_without_a_token_is_403_missing_authentication(api, ab_task):
    task, _revisions, _runs = ab_task
    response = api(None).get(f"/task/{task.pk}/credit_report")
    assert response.status_code == 403
    assert response.json() == {
        "message": "Authentication is required.",
        "reason": "MISSING_AUTHENTICATION",
        "missingAuthenticationError": {},
    }


def test_credit_report_with_a_malformed_task_id_is_400_malformed_identifier(
    api, ab_task
):
    response = api("viewer").get("/task/not-a-uuid/credit_report")
    assert response.status_code == 400
    body = response.json()
    assert body["reason"] == "MALFORMED_RESOURCE_IDENTIFIER"
    assert body["malformedResourceIdentifierError"]["field"] == "task_id"


def test_credit_report_with_a_bad_date_is_400_malformed_naming_the_parameter(
    api, ab_task
):
    task, _revisions, _runs = ab_task
    response = api("viewer").get(f"/task/{task.pk}/credit_report", end_date="soon")
    assert response.status_code == 400
    details = response.json()["malformedResourceIdentifierError"]
    assert details["field"] == "end_date"
    assert details["value"] == "soon"


def test_credit_report_of_a_task_the_caller_cannot_see_is_403_permission_check(
    api, ab_task, personas, llm
):
    other = make_task(
        project=personas.other_project, user=personas.outsider, model=llm.plain
    )
    response = api("viewer").get(f"/task/{other.pk}/credit_report")
    assert response.status_code == 403
    assert response.json()["reason"] == "PERMISSION_CHECK_FAILED"


# Item 65 ------------------------------------------------------------------------------


def test_project_reports_have_one_row_per_visible_task(api, personas, llm, recent_task):
    task, _revision, _now = recent_task
    idle = make_task(
        project=personas.project, user=personas.owner, model=llm.plain, name="Idle"
    )
    client = api("viewer")
    usage = client.get("/usage_report").json()
    assert [row["task_id"] for row in usage["tasks"]] == [str(task.pk), str(idle.pk)]
    assert usage["project_id"] == str(personas.project.pk)
    assert sum(usage["total_counts"].values()) == 3
    assert sum(usage["tasks"][1]["data"].values()) == 0
    timing = client.get("/timing_report").json()
    assert [row["task_name"] for row in timing["tasks"]] == ["Reviews", "Idle"]
    assert sum(timing["total_task_runs"].values()) == 3


def test_project_reports_leave_out_tasks_the_caller_cannot_see(
    personas, llm, project_base, settings
):
    from tests.helpers import ApiClient, make_user
    from tests.orgs.oauth_helpers import (
        code_client,
        consent,
        exchange_code,
        redirect_params,
    )

    shown = make_task(
        project=personas.project, user=personas.owner, model=llm.plain, public=True
    )
    make_task(project=personas.project, user=personas.owner, model=llm.plain, name="X")
    # Someone outside the organisation who consented to one of its OAuth
    # clients: they see its public tasks only.
    settings.ACCOUNT_RATE_LIMITS = False
    guest = make_user("guest@elsewhere.test")
    client, secret = code_client(personas.project, personas.owner)
    code = redirect_params(consent(client, guest.email))["code"]
    token = exchange_code(client, secret, code).json()["access_token"]
    body = ApiClient(token, project_base).get("/usage_report").json()
    assert [row["task_id"] for row in body["tasks"]] == [str(shown.pk)]


# Item 66 and the personas -------------------------------------------------------------


@pytest.mark.parametrize(
    "report", ["token_report", "usage_report", "timing_report", "credit_report"]
)
def test_a_viewer_can_read_every_task_report(api, ab_task, report):
    task, _revisions, _runs = ab_task
    assert api("viewer").get(f"/task/{task.pk}/{report}").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/task/{task}/token_report",
        "/task/{task}/usage_report",
        "/task/{task}/timing_report",
        "/usage_report",
        "/timing_report",
    ],
)
def test_outsiders_get_404_and_anonymous_callers_401(api, ab_task, path):
    task, _revisions, _runs = ab_task
    url = path.format(task=task.pk)
    assert api("outsider").get(url).status_code == 404
    anonymous = api(None).get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["type"] == "authorization_error"


def test_a_task_of_another_project_is_404(api, personas, llm):
    other = make_task(
        project=personas.other_project, user=personas.outsider, model=llm.plain
    )
    for report in ("token_report", "usage_report", "timing_report"):
        assert api("owner").get(f"/task/{other.pk}/{report}").status_code == 404


def test_a_task_token_cannot_read_reports(api, ab_task):
    from tests.helpers import ApiClient

    task, _revisions, _runs = ab_task
    client = api("editor")
    token = client.get(f"/task/{task.pk}").json()["access_token"]
    with_token = ApiClient(token, client.base)
    assert with_token.get(f"/task/{task.pk}/token_report").status_code == 403
    assert with_token.get("/usage_report").status_code == 403


# Query counts -------------------------------------------------------------------------


def test_task_reports_read_a_fixed_number_of_queries(
    api, ab_task, django_assert_num_queries
):
    task, revisions, _runs = ab_task
    client = api("owner")
    client.get("/usage_report")  # the key's first use is written down once
    for hour in range(30):
        record_run(task, revisions["b"], at=DAY + timedelta(hours=hour))
    for report, params, queries in (
        # key + project, task, active revisions, rollup sums
        ("token_report", {"start_date": "2025-03-01"}, 4),
        # ... and the reporting groups' names
        ("credit_report", {"show_reporting_group": "true"}, 5),
        ("timing_report", {"start_date": "2025-03-09", "end_date": "2025-03-12"}, 4),
        ("usage_report", {"aggregation": "week"}, 4),
    ):
        with django_assert_num_queries(queries):
            response = client.get(f"/task/{task.pk}/{report}", **params)
        assert response.status_code == 200, report


def test_project_reports_read_a_fixed_number_of_queries(
    api, ab_task, django_assert_num_queries
):
    client = api("owner")
    client.get("/usage_report")  # the key's first use is written down once
    # key + project, tasks, the caller's grants on them, rollup sums
    for report in ("usage_report", "timing_report"):
        with django_assert_num_queries(4):
            assert client.get(f"/{report}").status_code == 200


def test_credit_totals_stay_exact_decimals(api, personas, llm):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    revision = task.revisions.get()
    for _ in range(30):
        record_run(task, revision, at=DAY, credits="0.01")
    record_run(task, revision, at=DAY, credits=None)
    body = api("viewer").get(f"/task/{task.pk}/credit_report").json()
    assert Decimal(body["total_credits"]) == Decimal("0.30")
    assert body["total_task_runs"] == 31
