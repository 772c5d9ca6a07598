"""Credits are kept to a millionth of a credit, summed exactly, and rounded
half up to two places only where they are shown (runs_app/credits.py).

A thousand runs of 0.004 credits cost 4.00 credits wherever the total is read:
the credit report, this month's spend, the usage pages and the budgets."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from rightbrain.errors import BudgetExhausted
from rightbrain.orgs.models import ApiKey
from rightbrain.orgs.services import api_key_create
from runs_app import charts
from runs_app.budgets import budgets_check
from runs_app.credits import credits_for, credits_shown
from runs_app.models import ApiKeyMonthlyUsage, DailyUsage, HourlyUsage, TaskRun
from runs_app.reports import Totals
from tasks_app.models import LLMModel
from tests.runs_app.usage_data import make_task, record_run

GOOD = {"sentiment": "positive"}
CHEAP_RUNS = 1000


def _priced(input_per_mtok: str, output_per_mtok: str) -> LLMModel:
    return LLMModel(
        input_price_per_mtok=Decimal(input_per_mtok),
        output_price_per_mtok=Decimal(output_per_mtok),
    )


# The amount ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prices", "tokens", "credits"),
    [
        # One input token at $4 per million: $0.000004 = 0.004 credits.
        (("4", "15"), (1, 0), "0.004000"),
        # The seed's example: 2051 in / 130 out at $3 / $15 = $0.008103.
        (("3", "15"), (2051, 130), "8.103000"),
        # Half a millionth of a credit is rounded up to one.
        (("0.0005", "0"), (1, 0), "0.000001"),
        (("0.0004", "0"), (1, 0), "0.000000"),
    ],
)
def test_a_run_is_charged_to_the_millionth_of_a_credit(prices, tokens, credits):
    input_tokens, output_tokens = tokens
    charged = credits_for(
        model=_priced(*prices), input_tokens=input_tokens, output_tokens=output_tokens
    )
    assert charged is not None
    assert str(charged) == credits


def test_a_model_without_a_price_still_charges_nothing_known():
    model = LLMModel(input_price_per_mtok=None, output_price_per_mtok=Decimal(1))
    assert credits_for(model=model, input_tokens=10, output_tokens=10) is None


@pytest.mark.parametrize(
    ("credits", "shown"),
    [
        ("0.004", "0.00"),
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        # Half up, not half to even (Python's `:.2f` would say 0.02).
        ("0.025", "0.03"),
        ("0.004999", "0.00"),
        ("8.103000", "8.10"),
        ("4.000000", "4.00"),
        ("0", "0.00"),
        ("123456789012.345", "123456789012.35"),
    ],
)
def test_credits_are_shown_to_two_places_rounded_half_up(credits, shown):
    assert credits_shown(Decimal(credits)) == shown


def test_unknown_credits_are_shown_as_unknown():
    assert credits_shown(None) is None


# A run --------------------------------------------------------------------------------


def test_a_cheap_run_keeps_its_exact_credits_and_answers_two_places(
    run_task, fake_llm, api
):
    """One input token at $3 per million costs 0.003 credits: the run row and
    every rollup hold 0.003, the API answers "0.00" for the one run, and two
    such runs report 0.01 (0.006), not the 0.00 that rounding each would add
    up to."""
    client, task = run_task()
    for _ in range(2):
        fake_llm.answer(GOOD, prompt_tokens=1, completion_tokens=0)
        response = client.post(
            f"/task/{task['id']}/run", {"task_input": {"review": "Great"}}
        )
        assert response.status_code == 200
        assert response.json()["charged_credits"] == "0.00"

    assert set(TaskRun.objects.values_list("charged_credits", flat=True)) == {
        Decimal("0.003")
    }
    for rollup in (HourlyUsage, DailyUsage, ApiKeyMonthlyUsage):
        assert rollup.objects.get().credits == Decimal("0.006"), rollup
    listed = client.get(f"/task/{task['id']}/run").json()["results"]
    assert [run["charged_credits"] for run in listed] == ["0.00", "0.00"]
    report = client.get(f"/task/{task['id']}/credit_report").json()
    assert report["total_credits"] == "0.01"
    assert report["task_revisions"][0]["total_credits"] == "0.01"


# A thousand runs of 0.004 -------------------------------------------------------------


@pytest.fixture
def cheap_runs(personas, llm):
    """A thousand runs of 0.004 credits this hour, made with one API key,
    recorded through the run path's rollup upsert."""
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    revision = task.revisions.get()
    key, _secret = api_key_create(
        project=personas.project, user=personas.owner, name="batch"
    )
    now = timezone.now()
    for _ in range(CHEAP_RUNS):
        record_run(task, revision, at=now, credits="0.004", api_key=key)
    return {"task": task, "key": key}


def test_a_thousand_cheap_runs_cost_4_credits_over_the_api(cheap_runs, api):
    client = api("viewer")
    task = cheap_runs["task"]

    report = client.get(f"/task/{task.pk}/credit_report").json()
    assert report["total_task_runs"] == CHEAP_RUNS
    assert report["total_credits"] == "4.00"
    assert [row["total_credits"] for row in report["task_revisions"]] == ["4.00"]
    grouped = client.get(
        f"/task/{task.pk}/credit_report", show_reporting_group="true"
    ).json()
    assert [row["total_credits"] for row in grouped["task_revisions"]] == ["4.00"]

    limits = client.get("/limits").json()
    assert limits["credits_this_month"] == "4.00"


def test_a_thousand_cheap_runs_cost_4_credits_on_the_usage_pages(
    cheap_runs, as_user, personas
):
    personas.project.monthly_credit_budget = Decimal("10")
    personas.project.save()
    client = as_user("viewer")
    task = cheap_runs["task"]

    project_page = client.get(reverse("project_usage", args=[personas.project.pk])).text
    assert "<dt>Credits</dt><dd>4.00</dd>" in project_page
    most = project_page[
        project_page.index("Most credits") : project_page.index("Most errors")
    ]
    assert re.search(r'<td class="cell-numeric">4\.00</td>', most)
    assert "has spent <strong>4.00</strong> of its <strong>10.00</strong>" in (
        project_page
    )

    task_page = client.get(
        reverse("task_usage", args=[personas.project.pk, task.pk])
    ).text
    assert "<dt>Credits</dt><dd>4.00</dd>" in task_page
    # The average per run keeps three places: 0.004, not 0.000.
    assert '<td class="cell-numeric">0.004</td>' in task_page


def test_a_thousand_cheap_runs_reach_a_budget_of_4_credits(cheap_runs, personas):
    project = personas.project
    key = ApiKey.objects.get(pk=cheap_runs["key"].pk)
    assert ApiKeyMonthlyUsage.objects.get(api_key=key).credits == Decimal("4")

    project.monthly_credit_budget = Decimal("4.01")
    key.monthly_credit_budget = Decimal("4.01")
    budgets_check(project=project, api_key=key)  # not reached: no error

    project.monthly_credit_budget = Decimal("4.00")
    with pytest.raises(BudgetExhausted, match=r"budget of 4\.00 credits is spent"):
        budgets_check(project=project, api_key=key)

    project.monthly_credit_budget = None
    key.monthly_credit_budget = Decimal("4.00")
    with pytest.raises(BudgetExhausted, match=r"\(4\.00 credits this month\)"):
        budgets_check(project=project, api_key=key)


# Where credits are shown --------------------------------------------------------------


def test_the_csv_export_shows_two_places_rounded_half_up(as_user, personas, llm):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    revision = task.revisions.get()
    now = timezone.now()
    for credits in ("0.004", "0.005", "8.103", None):
        record_run(task, revision, at=now, credits=credits)

    response = as_user("owner").get(
        reverse("project_runs_csv", args=[personas.project.pk])
    )
    rows = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert sorted(row["charged_credits"] for row in rows) == [
        "",
        "0.00",
        "0.01",
        "8.10",
    ]


def test_the_runs_page_shows_two_places(as_user, personas, llm):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    record_run(task, task.revisions.get(), at=timezone.now(), credits="8.103")

    page = as_user("owner").get(reverse("project_runs", args=[personas.project.pk]))
    assert '<td class="cell-numeric">8.10</td>' in page.text
    assert "8.103" not in page.text


def test_the_credits_chart_labels_each_bucket_rounded_half_up():
    """The bars keep the exact amounts (they add up to the total on the page);
    the labels read as the pages show credits."""
    figure = charts.credits_chart(
        ["2025-03-10", "2025-03-11", "2025-03-12"],
        [
            (
                "Revision 1",
                [
                    Totals(credits=Decimal("0.015")),
                    Totals(credits=Decimal("3.999")),
                    Totals(credits=Decimal("0.004")),
                ],
            )
        ],
    )
    (trace,) = figure["data"]
    assert trace["y"] == [0.015, 3.999, 0.004]
    assert trace["customdata"] == ["0.02", "4.00", "0.00"]
    assert trace["hovertemplate"].startswith("%{customdata} credits")
