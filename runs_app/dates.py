"""Date parameters of the reports and run filters (api.md §5.1), in UTC.

Absolute dates (`2024-01-15`), ISO-8601 instants, and the phrases `now`,
`today`, `yesterday`, `N hours|days|weeks ago`, `last week`, `last month`.
A bare date means the start of that day as a start and its very end as an end.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta

from rightbrain.errors import BadRequest

_AGO = re.compile(r"^(\d{1,4})\s+(hour|day|week)s?\s+ago$")
_UNITS = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_END_OF_DAY = time(23, 59, 59, 999999)


def _day(day: date, *, as_end: bool) -> datetime:
    return datetime.combine(day, _END_OF_DAY if as_end else time.min, tzinfo=UTC)


def _month_before(moment: datetime) -> datetime:
    """The same day a calendar month earlier (31 March → 28/29 February)."""
    year, month = (
        (moment.year, moment.month - 1) if moment.month > 1 else (moment.year - 1, 12)
    )
    last_day = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def parse_date(value: str, *, as_end: bool, now: datetime, field: str) -> datetime:
    """The instant `value` names; BadRequest (400) naming `field` otherwise."""
    text = " ".join(value.strip().lower().split())
    if text == "now":
        return now
    if text == "today":
        return _day(now.date(), as_end=as_end)
    if text == "yesterday":
        return _day(now.date() - timedelta(days=1), as_end=as_end)
    if text == "last week":
        return now - timedelta(weeks=1)
    if text == "last month":
        return _month_before(now)
    ago = _AGO.match(text)
    if ago:
        return now - int(ago.group(1)) * _UNITS[ago.group(2)]
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return _day(date.fromisoformat(text), as_end=as_end)
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        raise BadRequest(
            f"{field} {value!r} is not a date. Use YYYY-MM-DD, an ISO-8601 time, "
            "now, today, yesterday, 'N hours/days/weeks ago', 'last week' or "
            "'last month'.",
            field=field,
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
