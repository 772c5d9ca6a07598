"""The usage charts' figures for a known dataset (runs_app/charts.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from runs_app import charts, reports
from runs_app.reports import Step, Totals, Window
from tests.runs_app.usage_data import add_revision, make_task, record_run, split_traffic

X = ["2025-03-10 09:00", "2025-03-10 10:00"]


def _totals(**values) -> Totals:
    return Totals(**values)


A = (
    "Revision 1",
    [
        _totals(runs=3, errors=1, input_tokens=30, output_tokens=12),
        _totals(),
    ],
)
B = (
    "Revision 2",
    [
        _totals(runs=1, input_tokens=10, output_tokens=4, credits=Decimal("0.50")),
        _totals(runs=2, errors=2, credits=Decimal("1.25")),
    ],
)


def _names(figure) -> list[str]:
    """Each trace as the legend shows it: “line · metric”, or just the line."""
    return [
        f"{trace['legendgrouptitle']['text']} · {trace['name']}"
        if "legendgrouptitle" in trace
        else trace["name"]
        for trace in figure["data"]
    ]


def test_runs_chart_stacks_failed_on_succeeded_for_each_revision():
    figure = charts.runs_chart(X, [A, B])
    assert _names(figure) == [
        "Revision 1 · succeeded",
        "Revision 1 · failed",
        "Revision 2 · succeeded",
        "Revision 2 · failed",
    ]
    succeeded, failed = figure["data"][0], figure["data"][1]
    assert succeeded["y"] == [2, 0]
    assert failed["y"] == [1, 0]
    assert failed["base"] == succeeded["y"]
    assert succeeded["offsetgroup"] == failed["offsetgroup"]
    assert figure["data"][2]["offsetgroup"] != succeeded["offsetgroup"]
    assert figure["data"][3]["marker"]["color"] == charts.ERROR_COLOUR
    assert figure["layout"]["barmode"] == "group"
    assert all(trace["x"] == X for trace in figure["data"])


def test_tokens_chart_has_input_and_output_lines_per_revision():
    figure = charts.tokens_chart(X, [A, B])
    assert _names(figure) == [
        "Revision 1 · input",
        "Revision 1 · output",
        "Revision 2 · input",
        "Revision 2 · output",
    ]
    assert figure["data"][0]["y"] == [30, 0]
    assert figure["data"][1]["y"] == [12, 0]
    assert figure["data"][1]["line"]["dash"] == "dash"


def test_credits_chart_stacks_the_revisions_credits():
    figure = charts.credits_chart(X, [A, B])
    assert _names(figure) == ["Revision 1", "Revision 2"]
    assert figure["data"][1]["y"] == [0.5, 1.25]
    assert figure["layout"]["barmode"] == "stack"
    assert figure["layout"]["legend"]["traceorder"] == "normal"


def test_latency_chart_leaves_gaps_where_nothing_ran(personas, llm):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    revision = task.revisions.get()
    nine = datetime(2025, 3, 10, 9, 10, tzinfo=UTC)
    for seconds in (1.0, 2.0, 3.0):
        record_run(task, revision, at=nine, llm_seconds=seconds, processor_seconds=0.2)
    series = reports.revision_series(
        task=task,
        window=Window.around(nine, nine + timedelta(hours=1)),
        step=Step.HOUR,
    )
    lines = [("Revision 1", values) for values in series.lines.values()]
    figure = charts.latency_chart(X, lines)
    assert _names(figure) == [
        "Revision 1 · avg LLM",
        "Revision 1 · p95 LLM",
        "Revision 1 · avg processing",
    ]
    average, p95, processing = figure["data"]
    assert average["y"] == [2.0, None]
    assert 2.0 < p95["y"][0] <= 3.0 and p95["y"][1] is None
    assert processing["y"] == [0.2, None]


def test_figures_are_plain_json_with_a_fixed_height():
    import json

    for chart in (
        charts.runs_chart,
        charts.tokens_chart,
        charts.credits_chart,
        charts.latency_chart,
    ):
        figure = chart(X, [A, B])
        assert json.loads(json.dumps(figure)) == figure
        assert figure["layout"]["height"] == charts.HEIGHT
        assert figure["layout"]["xaxis"]["type"] == "date"


def test_latency_is_drawn_on_a_log_axis():
    figure = charts.latency_chart(X, [A])
    assert figure["layout"]["yaxis"]["type"] == "log"
    assert figure["data"][0]["y"] == [None, None]  # no runs, no latency


def test_a_split_task_draws_one_line_per_revision(personas, llm):
    task = make_task(project=personas.project, user=personas.owner, model=llm.plain)
    first = task.revisions.get()
    second = add_revision(task, personas.owner)
    split_traffic(task, first, second)
    at = datetime(2025, 3, 10, 9, tzinfo=UTC)
    record_run(task, first, at=at)
    overview = reports.task_overview(
        task=task, window=Window.around(at, at), step=Step.HOUR, reporting_group=None
    )
    figure = charts.runs_chart(["2025-03-10 09:00"], overview.named_lines())
    assert _names(figure) == [
        "Revision 1 · succeeded",
        "Revision 1 · failed",
        "Revision 2 · succeeded",
        "Revision 2 · failed",
    ]
    assert [trace["y"] for trace in figure["data"]] == [[1], [0], [0], [0]]
