"""Usage charts as Plotly figures: one pure function per chart, each returning
a plain dict (`data`, `layout`, `config`) that a template emits with
`json_script` and static/js/charts.js draws.

Every function takes the buckets' x values and the lines to draw, each line a
name and its Totals per bucket (a revision of a task, or all of a project's
tasks together), so the same charts serve the task and the project pages.
Colours are fixed hues that read on light and dark backgrounds; charts.js sets
text and grid colours from the page's theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runs_app.credits import credits_shown
from runs_app.reports import Totals

Line = tuple[str, Sequence[Totals]]

PALETTE = ("#6e6ef0", "#2a9d8f", "#e09f3e", "#4a90d9", "#c0569a", "#7a9a3a")
ERROR_COLOUR = "#e5484d"
HEIGHT = 260


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _trace(
    kind: str, line: int, name: str, metric: str, x: Sequence[str], y: list[Any]
) -> dict[str, Any]:
    """One trace of a line: the legend groups a line's traces under its name
    (“Revision 2”) and names each by what it measures (“p95 LLM”)."""
    return {
        "type": kind,
        "name": metric,
        "legendgroup": f"line-{line}",
        "legendgrouptitle": {"text": name},
        "x": list(x),
        "y": y,
    }


def _figure(
    data: list[dict[str, Any]], *, y_title: str, y_type: str = "linear", **layout: Any
) -> dict[str, Any]:
    return {
        "data": data,
        "layout": {
            "height": HEIGHT,
            "margin": {"l": 56, "r": 16, "t": 8, "b": 40},
            "hovermode": "x unified",
            "showlegend": True,
            "legend": {
                "orientation": "h",
                "x": 0,
                "y": 1.02,
                "yanchor": "bottom",
                "groupclick": "toggleitem",
            },
            "xaxis": {"type": "date", "fixedrange": True},
            "yaxis": {
                "title": {"text": y_title},
                "type": y_type,
                "fixedrange": True,
                **({"rangemode": "tozero"} if y_type == "linear" else {}),
            },
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            **layout,
        },
        "config": {"displayModeBar": False, "responsive": True},
    }


def runs_chart(x: Sequence[str], lines: Sequence[Line]) -> dict[str, Any]:
    """Runs per bucket, failed stacked on succeeded, one stack per line side by
    side (an A/B split reads as two stacks per bucket)."""
    data: list[dict[str, Any]] = []
    for index, (name, values) in enumerate(lines):
        succeeded = [totals.succeeded for totals in values]
        data.append(
            _trace("bar", index, name, "succeeded", x, succeeded)
            | {
                "offsetgroup": f"line-{index}",
                "marker": {"color": _colour(index)},
                "hovertemplate": "%{y} succeeded<extra>" + name + "</extra>",
            }
        )
        data.append(
            _trace("bar", index, name, "failed", x, [t.errors for t in values])
            | {
                "base": succeeded,
                "offsetgroup": f"line-{index}",
                "marker": {"color": ERROR_COLOUR},
                "hovertemplate": "%{y} failed<extra>" + name + "</extra>",
            }
        )
    return _figure(data, y_title="Runs", barmode="group", bargap=0.25)


def tokens_chart(x: Sequence[str], lines: Sequence[Line]) -> dict[str, Any]:
    """Input tokens (solid) and output tokens (dashed) per bucket and line."""
    data: list[dict[str, Any]] = []
    for index, (name, values) in enumerate(lines):
        for metric, dash, attribute in (
            ("input", "solid", "input_tokens"),
            ("output", "dash", "output_tokens"),
        ):
            y = [getattr(totals, attribute) for totals in values]
            data.append(
                _trace("scatter", index, name, metric, x, y)
                | {
                    "mode": "lines",
                    "line": {"color": _colour(index), "dash": dash, "width": 2},
                    "hovertemplate": "%{y:,} " + metric + " tokens<extra>"
                    f"{name}</extra>",
                }
            )
    return _figure(data, y_title="Tokens")


def credits_chart(x: Sequence[str], lines: Sequence[Line]) -> dict[str, Any]:
    """Credits charged per bucket, lines stacked. Bars are drawn to the exact
    amounts, so that they add up to the total shown beside them; the hover
    labels are the amounts as every page shows them, two places rounded half
    up (plotly would round the binary float: 0.015 to 0.01)."""
    data = [
        {
            "type": "bar",
            "name": name,
            "x": list(x),
            "y": [float(totals.credits) for totals in values],
            "customdata": [credits_shown(totals.credits) for totals in values],
            "marker": {"color": _colour(index)},
            "hovertemplate": "%{customdata} credits<extra>" + name + "</extra>",
        }
        for index, (name, values) in enumerate(lines)
    ]
    figure = _figure(data, y_title="Credits", barmode="stack", bargap=0.25)
    # Stacked bars list their legend upside down unless told otherwise.
    figure["layout"]["legend"]["traceorder"] = "normal"
    return figure


def latency_chart(x: Sequence[str], lines: Sequence[Line]) -> dict[str, Any]:
    """Average and p95 LLM call time and average input-processing time, in
    seconds, per bucket and line; empty buckets leave gaps. The axis is
    logarithmic: a minute-long timeout and sub-second calls both stay legible."""
    data: list[dict[str, Any]] = []
    for index, (name, values) in enumerate(lines):
        for metric, dash, attribute in (
            ("avg LLM", "solid", "avg_llm_seconds"),
            ("p95 LLM", "dot", "p95_llm_seconds"),
            ("avg processing", "dashdot", "avg_processor_seconds"),
        ):
            y = [_rounded(getattr(totals, attribute)) for totals in values]
            data.append(
                _trace("scatter", index, name, metric, x, y)
                | {
                    "mode": "lines+markers",
                    "connectgaps": False,
                    "line": {"color": _colour(index), "dash": dash},
                    "marker": {"size": 4},
                    "hovertemplate": "%{y:.3f} s " + metric + f"<extra>{name}</extra>",
                }
            )
    return _figure(data, y_title="Seconds", y_type="log")


def _rounded(value: float | None) -> float | None:
    # Nothing measurable is drawn as a gap: a log axis has no zero.
    return None if not value else float(f"{value:.4g}")
