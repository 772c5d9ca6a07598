from __future__ import annotations

import pytest

from tasks_app.variables import detect_variables, render_prompt


def test_both_spellings_in_first_appearance_order():
    assert detect_variables("Use {x} then {{y}} and {x} again") == ["x", "y"]


def test_json_looking_braces_are_not_variables():
    prompt = 'Reply like {"a": 1} or { spaced } or {1abc} about {topic}'
    assert detect_variables(prompt) == ["topic"]


def test_double_braces_may_pad_the_name_with_spaces():
    assert detect_variables("Hi {{ name }} from {{city}}") == ["name", "city"]


@pytest.mark.parametrize("prompt", ["{{x}", "{x}}", "", "no vars"])
def test_unbalanced_braces_are_literal(prompt):
    assert detect_variables(prompt) == []


def test_render_replaces_both_spellings_and_encodes_non_strings():
    rendered = render_prompt(
        'Review {review} scored {{ score }}; tags {tags}; keep {"a": 1}',
        {"review": "great", "score": 5, "tags": ["a", "b"]},
    )
    assert rendered == 'Review great scored 5; tags ["a", "b"]; keep {"a": 1}'


def test_render_leaves_unknown_placeholders_alone():
    assert render_prompt("{a} {b}", {"a": "1"}) == "1 {b}"
