"""Lining compared outputs up (runs_app.comparisons.comparison_rows): one row
per field, nested objects by path, and the values off the usual one marked."""

from __future__ import annotations

from runs_app.comparisons import comparison_rows


def _marks(rows):
    return {row.path: [cell.differs for cell in row.cells] for row in rows}


def test_a_field_that_agrees_everywhere_is_not_marked():
    rows = comparison_rows([{"a": 1, "b": "x"}, {"a": 1, "b": "y"}])
    assert [row.path for row in rows] == ["a", "b"]
    assert _marks(rows) == {"a": [False, False], "b": [True, True]}
    assert [row.differs for row in rows] == [False, True]


def test_the_odd_ones_out_are_marked_against_the_value_most_share():
    rows = comparison_rows([{"a": "x"}, {"a": "y"}, {"a": "y"}, {"a": "z"}])
    assert _marks(rows) == {"a": [True, False, False, True]}
    rows = comparison_rows([{"a": "y"}, {"a": "x"}, {"a": "y"}])
    assert _marks(rows) == {"a": [False, True, False]}


def test_with_no_value_most_share_every_cell_differs():
    rows = comparison_rows([{"a": "x"}, {"a": "x"}, {"a": "y"}, {"a": "y"}])
    assert _marks(rows) == {"a": [True, True, True, True]}
    rows = comparison_rows([{"a": 1}, {"a": 2}, {"a": 3}])
    assert _marks(rows) == {"a": [True, True, True]}


def test_nested_objects_are_compared_field_by_field():
    rows = comparison_rows(
        [
            {"vendor": {"name": "Acme", "country": "UK"}, "tags": ["a", "b"]},
            {"vendor": {"name": "Acme", "country": "FR"}, "tags": ["a", "b"]},
        ]
    )
    assert [(row.path, row.parents, row.name) for row in rows] == [
        ("vendor.name", ["Vendor"], "Name"),
        ("vendor.country", ["Vendor"], "Country"),
        ("tags", [], "Tags"),
    ]
    assert _marks(rows)["vendor.country"] == [True, True]
    assert not rows[0].differs and not rows[2].differs
    assert rows[2].cells[0].display["kind"] == "list"


def test_a_field_missing_from_one_output_differs_there():
    rows = comparison_rows([{"a": 1, "extra": True}, {"a": 1}])
    assert _marks(rows) == {"a": [False, False], "extra": [True, True]}
    assert rows[1].cells[1].display is None


def test_failed_columns_take_no_part():
    rows = comparison_rows([{"a": 1}, None, {"a": 1}])
    assert _marks(rows) == {"a": [False, False, False]}
    assert rows[0].cells[1].display is None
    alone = comparison_rows([{"a": 1}, None])
    assert not alone[0].differs


def test_values_compare_as_json_one_is_one_point_oh_but_not_true():
    rows = comparison_rows([{"a": 1}, {"a": True}, {"a": 1.0}, {"a": "1"}])
    assert _marks(rows) == {"a": [False, True, False, True]}
    assert not comparison_rows([{"a": 2}, {"a": 2.0}])[0].differs


def test_a_text_output_is_one_row():
    rows = comparison_rows(["Hello there", "Hello there", "Hi"])
    assert [row.label for row in rows] == ["Output"]
    assert _marks(rows) == {"": [False, False, True]}
