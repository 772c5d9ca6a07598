"""LLM call latency percentiles from the hourly rollups.

A percentile cannot be summed, so each rollup row keeps a histogram instead:
one integer column per latency bucket (`llm_hist_00` … `llm_hist_15`), counting
the row's runs whose `llm_call_timing` falls in that bucket. The run's upsert
adds 1 to its bucket's column in the same `INSERT … ON CONFLICT DO UPDATE` as
the other sums, so histograms of any set of rows (a bucket of a chart, a
revision, a whole report) are the column-wise sums of those rows, in SQL, on
SQLite and PostgreSQL alike.

Buckets are upper-inclusive: bucket i holds BOUNDS[i-1] < seconds <= BOUNDS[i]
(bucket 0 from 0, the last one everything above BOUNDS[-1]). The bounds grow
by about 1.5-2x each, so a bucket is never wider than its lower half again.

A percentile p of n counted runs is the value at rank p·n: the bucket where
the running count reaches that rank, then a straight line inside it (as if
the bucket's runs were spread evenly between its bounds). The estimate is
therefore within one bucket of the exact value, and usually much closer. The
open last bucket has no upper bound: a percentile that lands there reads as
its lower bound, BOUNDS[-1] seconds ("at least a minute").
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

# Upper bounds in seconds; a 16th bucket holds everything slower.
BOUNDS: tuple[float, ...] = (
    0.05,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    1.5,
    2.0,
    3.0,
    5.0,
    8.0,
    13.0,
    20.0,
    30.0,
    60.0,
)
BUCKETS = len(BOUNDS) + 1
COLUMNS: tuple[str, ...] = tuple(f"llm_hist_{index:02d}" for index in range(BUCKETS))


def bucket_of(seconds: float) -> int:
    """The histogram bucket of one LLM call's duration."""
    return bisect.bisect_left(BOUNDS, max(seconds, 0.0))


def column_of(seconds: float) -> str:
    return COLUMNS[bucket_of(seconds)]


def percentile(counts: Sequence[int], fraction: float) -> float | None:
    """The `fraction` (0–1) percentile estimated from `counts`, or None when
    nothing was counted."""
    return percentiles(counts, (fraction,))[0]


def percentiles(
    counts: Sequence[int], fractions: Sequence[float]
) -> list[float | None]:
    """Several percentiles of the same counts, in one pass over them;
    `fractions` in increasing order."""
    total = sum(counts)
    if total == 0:
        return [None] * len(fractions)
    found: list[float | None] = []
    wanted = iter(fractions)
    fraction = next(wanted, None)
    seen = 0
    for index, count in enumerate(counts):
        while fraction is not None and count and seen + count >= fraction * total:
            found.append(_within(index, count, fraction * total - seen))
            fraction = next(wanted, None)
        if fraction is None:
            return found
        seen += count
    # Unreachable: the ranks end at `total`.
    return found + [BOUNDS[-1]] * (len(fractions) - len(found))


def _within(index: int, count: int, rank: float) -> float:
    """The value at `rank` (counted from the bucket's start) of bucket `index`,
    its `count` runs spread evenly between its bounds."""
    lower = BOUNDS[index - 1] if index else 0.0
    if index == len(BOUNDS):
        return lower
    upper = BOUNDS[index]
    # The share first: it is at most 1, so the estimate never passes `upper`.
    return lower + (upper - lower) * (max(rank, 0) / count)
