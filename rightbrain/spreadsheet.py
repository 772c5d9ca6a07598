"""CSV cells a spreadsheet opens as text, never as a formula.

Excel, LibreOffice and Google Sheets evaluate a cell that starts with `=`, `+`,
`-` or `@` (and, after trimming, one that starts with a tab or a carriage
return) as a formula: `=HYPERLINK(...)` leaks data, `=cmd|...` runs programs.
Following OWASP's advice on CSV injection, such a cell is prefixed with a
single quote, which every spreadsheet shows as the literal text. Plain numbers
(`-3`, `+1.5e3`) are left alone: they are data, not formulas.

Every CSV file we write from user or model content goes through `safe_row`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """`value`, or a text cell starting with a formula character made literal."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


def safe_csv_text(text: str) -> str:
    """A CSV table with every cell made safe, re-written with standard quoting."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(text)):
        writer.writerow(safe_row(row))
    return out.getvalue()
