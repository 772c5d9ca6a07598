from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rightbrain.errors import BadRequest
from runs_app.dates import parse_date

NOW = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "as_end", "expected"),
    [
        ("2024-01-15", False, datetime(2024, 1, 15, tzinfo=UTC)),
        ("2024-01-15", True, datetime(2024, 1, 15, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2024-01-15T10:00:00Z", False, datetime(2024, 1, 15, 10, tzinfo=UTC)),
        ("now", False, NOW),
        ("Today", False, datetime(2026, 3, 31, tzinfo=UTC)),
        ("yesterday", True, datetime(2026, 3, 30, 23, 59, 59, 999999, tzinfo=UTC)),
        ("24 hours ago", False, datetime(2026, 3, 30, 15, 30, tzinfo=UTC)),
        ("7 days ago", False, datetime(2026, 3, 24, 15, 30, tzinfo=UTC)),
        ("2 weeks ago", False, datetime(2026, 3, 17, 15, 30, tzinfo=UTC)),
        ("1 day ago", False, datetime(2026, 3, 30, 15, 30, tzinfo=UTC)),
        ("last week", False, datetime(2026, 3, 24, 15, 30, tzinfo=UTC)),
        ("last month", False, datetime(2026, 2, 28, 15, 30, tzinfo=UTC)),
    ],
)
def test_the_date_grammar(value, as_end, expected):
    assert parse_date(value, as_end=as_end, now=NOW, field="start_date") == expected


@pytest.mark.parametrize(
    "value", ["soon", "2024-13-01", "yesterdayish", "3 fortnights ago", ""]
)
def test_anything_else_is_a_400_naming_the_field(value):
    with pytest.raises(BadRequest) as error:
        parse_date(value, as_end=False, now=NOW, field="start_date")
    assert error.value.field == "start_date"
