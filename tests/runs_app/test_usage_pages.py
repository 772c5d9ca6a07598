"""The project Usage page and a task's usage page (dashboard.md §3, item 137)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.runs_app.usage_data import (
    add_revision,
    group,
    make_task,
    record_run,
    split_traffic,
)

# The 24 hours of "24h": this hour and the 23 before it.
DAY_SPAN = timedelta(hours=23, minutes=59)
CHART_IDS = (
    "usage-runs-chart",
    "usage-tokens-chart",
    "usage-credits-chart",
    "usage-latency-chart",
)


def _figure(response, chart_id: str) -> dict:
    match = re.search(
        rf'<script id="{chart_id}" type="application/json">(.*?)</script>',
        response.text,
        re.S,
    )
    assert match, f"no {chart_id} in the page"
    return json.loads(match.group(1))


def _legend(figure: dict) -> list[str]:
    return [
        f"{trace['legendgrouptitle']['text']} · {trace['name']}"
        for trace in figure["data"]
    ]


def _runs_in(figure: dict) -> int:
    return sum(sum(trace["y"]) for trace in figure["data"])


@pytest.fixture
def usage(personas, llm):
    """Two tasks with runs in the last day: Reviews (A/B split, some failed
    runs, a reporting group) and Summaries (the costlier one)."""
    owner = personas.owner
    reviews = make_task(project=personas.project, user=owner, model=llm.plain)
    first = reviews.revisions.get()
    second = add_revision(reviews, owner)
    split_traffic(reviews, first, second)
    summaries = make_task(
        project=personas.project, user=owner, model=llm.plain, name="Summaries"
    )
    acme = group(personas.project, "acme")
    now = timezone.now()
    for minutes in range(0, 300, 30):
        at = now - timedelta(minutes=minutes)
        record_run(reviews, first, at=at, reporting_group=acme)
        record_run(reviews, second, at=at, error=minutes % 60 == 0)
        record_run(summaries, summaries.revisions.get(), at=at, credits="3.00")
    record_run(reviews, first, at=now - timedelta(days=20))
    return {"reviews": reviews, "summaries": summaries, "acme": acme, "now": now}


def _project_url(personas, **params) -> str:
    url = reverse("project_usage", args=[personas.project.pk])
    return url + (
        "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    )


def _task_url(personas, task, **params) -> str:
    url = reverse("task_usage", args=[personas.project.pk, task.pk])
    return url + (
        "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    )


# The project Usage page ---------------------------------------------------------------


def test_the_usage_page_draws_every_chart_from_json_data(as_user, personas, usage):
    response = as_user("viewer").get(_project_url(personas))
    assert response.status_code == 200
    assert "<html" in response.text
    assert "vendor/plotly.min.js" in response.text
    assert "js/charts.js" in response.text
    for chart_id in CHART_IDS:
        assert f'data-chart="{chart_id}"' in response.text
        _figure(response, chart_id)
    # Seven daily buckets by default; 30 runs in the last 5 hours.
    runs = _figure(response, "usage-runs-chart")
    assert len(runs["data"][0]["x"]) == 7
    assert _runs_in(runs) == 30
    assert "Summaries" in response.text


def test_switching_the_range_redraws_with_other_buckets(as_user, personas, usage):
    client = as_user("viewer")
    day = client.get(
        _project_url(personas, range="24h"), headers={"HX-Request": "true"}
    )
    assert day.status_code == 200
    assert "<html" not in day.text
    assert 'id="usage-panel"' in day.text
    runs = _figure(day, "usage-runs-chart")
    assert len(runs["data"][0]["x"]) == 24
    assert _runs_in(runs) == 30
    month = client.get(_project_url(personas, range="30d"))
    runs = _figure(month, "usage-runs-chart")
    assert len(runs["data"][0]["x"]) == 30
    assert _runs_in(runs) == 31


def test_a_custom_range_takes_relative_phrases(as_user, personas, usage):
    response = as_user("viewer").get(
        _project_url(personas, range="custom", start="2 weeks ago", end="now")
    )
    runs = _figure(response, "usage-runs-chart")
    assert len(runs["data"][0]["x"]) == 15
    assert _runs_in(runs) == 30
    hours = as_user("viewer").get(
        _project_url(personas, range="custom", start="yesterday", end="today")
    )
    assert len(_figure(hours, "usage-runs-chart")["data"][0]["x"]) == 48


def test_a_date_that_is_not_one_is_shown_next_to_the_form(as_user, personas, usage):
    response = as_user("viewer").get(
        _project_url(personas, range="custom", start="soon"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "is not a date" in response.text
    assert "usage-runs-chart" not in response.text


def test_the_reporting_group_filter_narrows_every_chart(as_user, personas, usage):
    client = as_user("viewer")
    grouped = client.get(_project_url(personas, group=usage["acme"].pk))
    assert _runs_in(_figure(grouped, "usage-runs-chart")) == 10
    ungrouped = client.get(_project_url(personas, group="none"))
    assert _runs_in(_figure(ungrouped, "usage-runs-chart")) == 20


def test_top_tasks_by_credits_and_by_errors(as_user, personas, usage):
    response = as_user("viewer").get(_project_url(personas))
    text = response.text
    credits = text[text.index("Most credits") : text.index("Most errors")]
    assert credits.index("Summaries") < credits.index("Reviews")
    assert "30.00" in credits
    errors = text[text.index("Most errors") :]
    assert "Reviews" in errors
    assert "Summaries" not in errors


@pytest.mark.parametrize("runs_per_step", [1, 8])
@pytest.mark.parametrize("range_", ["24h", "7d", "30d", "odd hours"])
def test_the_usage_page_reads_a_fixed_number_of_queries(
    as_user, personas, llm, django_assert_num_queries, runs_per_step, range_
):
    tasks = [
        make_task(
            project=personas.project,
            user=personas.owner,
            model=llm.plain,
            name=f"Task {number}",
        )
        for number in range(runs_per_step // 4 + 1)
    ]
    now = timezone.now()
    moments = [now - timedelta(hours=hours) for hours in range(0, 24 * 6, 3)]
    for task in tasks:
        for moment in moments:
            for _ in range(runs_per_step):
                record_run(task, task.revisions.get(), at=moment)
    client = as_user("owner")
    if range_ == "odd hours":
        # Whole days read from the daily rows, the hours around them from
        # the hourly ones: still one query.
        start = now - timedelta(days=4, hours=5)
        params = {"range": "custom", "start": start.strftime("%Y-%m-%dT%H:%M:%SZ")}
        first_hour = start.replace(minute=0, second=0, microsecond=0)
        expected = sum(1 for moment in moments if moment >= first_hour)
    else:
        params = {"range": range_}
        expected = sum(
            1 for moment in moments if range_ != "24h" or moment > now - DAY_SPAN
        )
    url = _project_url(personas, **params)
    client.get(url)  # remembers the project in the session
    # session, user, project with role, the switcher's memberships and their
    # projects, tasks, the caller's grants on them, reporting groups, each
    # task's sums, the sums per bucket
    with django_assert_num_queries(10):
        response = client.get(url)
    assert response.status_code == 200
    assert _runs_in(_figure(response, "usage-runs-chart")) == (
        expected * runs_per_step * len(tasks)
    )


def test_people_outside_the_project_get_404_and_strangers_the_login(
    as_user, personas, usage, client
):
    assert as_user("outsider").get(_project_url(personas)).status_code == 404
    response = client.get(_project_url(personas))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# A task's usage page ------------------------------------------------------------------


def test_the_task_usage_page_splits_every_chart_by_revision(as_user, personas, usage):
    response = as_user("viewer").get(_task_url(personas, usage["reviews"]))
    assert response.status_code == 200
    runs = _figure(response, "usage-runs-chart")
    assert _legend(runs) == [
        "Revision 1 · succeeded",
        "Revision 1 · failed",
        "Revision 2 · succeeded",
        "Revision 2 · failed",
    ]
    assert [sum(trace["y"]) for trace in runs["data"]] == [10, 0, 5, 5]
    latency = _figure(response, "usage-latency-chart")
    assert "Revision 2 · p95 LLM" in _legend(latency)


def test_the_task_usage_table_has_a_row_per_revision(as_user, personas, usage):
    response = as_user("viewer").get(_task_url(personas, usage["reviews"]))
    table = response.text[response.text.index("By revision") :]
    rows = re.findall(
        r'<tr>\s*<td class="cell-strong">(.*?)</td>(.*?)</tr>', table, re.S
    )
    assert [name for name, _cells in rows] == ["Revision 1", "Revision 2"]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", body) for _name, body in rows]
    assert cells[0][:2] == ["10", "0.0 %"]
    assert cells[1][:2] == ["10", "50.0 %"]
    assert cells[0][4].endswith(" s")  # p50
    assert cells[0][5].endswith(" s")  # p95


def test_the_task_usage_panel_shows_a_chosen_range_in_place(as_user, personas, usage):
    """Item 137: usage, latency, tokens and credits for a chosen range."""
    response = as_user("viewer").get(
        _task_url(personas, usage["summaries"], range="custom", start="24 hours ago"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    for figure in ("Runs", "LLM latency", "Tokens", "Credits"):
        assert f"<dt>{figure}</dt>" in response.text
    assert "<dd>30.00</dd>" in response.text
    credits = _figure(response, "usage-credits-chart")
    assert sum(credits["data"][0]["y"]) == 30.0


def test_the_task_usage_page_reads_a_fixed_number_of_queries(
    as_user, personas, usage, django_assert_num_queries
):
    client = as_user("viewer")
    url = _task_url(personas, usage["reviews"])
    client.get(url)
    # session, user, project with role, task, the viewer's grants on it, the
    # switcher's memberships and their projects, reporting groups, the
    # buckets' sums, active revisions, the revisions' numbers
    with django_assert_num_queries(11):
        client.get(url)


def test_a_task_of_another_project_or_organisation_is_404(
    as_user, personas, llm, usage
):
    other = make_task(
        project=personas.other_project, user=personas.outsider, model=llm.plain
    )
    assert as_user("owner").get(_task_url(personas, other)).status_code == 404
    assert (
        as_user("outsider").get(_task_url(personas, usage["reviews"])).status_code
        == 404
    )


def test_a_projects_budget_and_this_months_spend_show_on_the_usage_page(
    as_user, personas, usage
):
    client = as_user("viewer")
    url = _project_url(personas)
    client.get(url)  # remembers the project in the session
    with CaptureQueriesContext(connection) as without_budget:
        assert "budget-status" not in client.get(url).text  # no banner

    personas.project.monthly_credit_budget = 10_000
    personas.project.save()
    page = client.get(url).text
    assert re.search(r"has spent <strong>[\d.]+</strong> of its <strong>10000.00", page)
    assert "It resets on" in page

    personas.project.monthly_credit_budget = 0
    personas.project.save()
    with CaptureQueriesContext(connection) as with_budget:
        page = client.get(url).text
    # The same queries as without a budget, and one: the month's spend.
    assert len(with_budget) == len(without_budget) + 1
    assert "alert-danger" in page
    assert "Runs are refused until" in page
