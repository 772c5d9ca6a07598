from __future__ import annotations

import pytest

from tasks_app.output_format import (
    OutputFormatError,
    compile_output_format,
    normalise_output_format,
)


def test_checklist_example_compiles_to_the_documented_schema():
    fmt = {
        "s": "str",
        "n": {"type": "int"},
        "tags": {"type": "list", "item_type": "str"},
        "mood": {"type": "str", "options": ["up", "down"]},
    }
    assert compile_output_format(normalise_output_format(fmt)) == {
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "n": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "mood": {"type": "string", "enum": ["up", "down"]},
        },
        "required": ["s", "n", "tags", "mood"],
        "additionalProperties": False,
    }


def test_nested_lists_and_objects_compile_recursively_with_descriptions():
    fmt = {
        "people": {
            "type": "list",
            "description": "everyone mentioned",
            "nested_structure": {"name": "string", "age": {"type": "integer"}},
        },
        "meta": {"type": "object", "nested_structure": {"ok": "boolean"}},
        "free": "object",
        "plain_list": "array",
        "score": "number",
    }
    schema = compile_output_format(normalise_output_format(fmt))
    people = schema["properties"]["people"]
    assert people["description"] == "everyone mentioned"
    assert people["items"]["required"] == ["name", "age"]
    assert people["items"]["additionalProperties"] is False
    assert schema["properties"]["meta"]["properties"] == {"ok": {"type": "boolean"}}
    assert schema["properties"]["free"] == {"type": "object"}
    assert schema["properties"]["plain_list"] == {
        "type": "array",
        "items": {"type": "string"},
    }
    assert schema["properties"]["score"] == {"type": "number"}


def test_the_array_form_is_stored_as_the_map_form():
    fmt = normalise_output_format(
        [
            {"name": "summary", "description": "short"},
            {"name": "key_points", "type": "array"},
        ]
    )
    assert fmt == {
        "summary": {"type": "str", "description": "short"},
        "key_points": {"type": "list"},
    }


def test_no_format_means_free_form_json():
    assert normalise_output_format(None) is None
    assert compile_output_format(None) == {"type": "object"}


@pytest.mark.parametrize(
    ("fmt", "path", "words"),
    [
        ({"x": "float"}, "x.type", "unknown type"),
        ({"x": {"type": "int", "options": ["1"]}}, "x.options", "only string"),
        (
            {"x": {"type": "str", "nested_structure": {"a": "str"}}},
            "x.nested_structure",
            "only list and object",
        ),
        ({"x": {"type": "str", "item_type": "str"}}, "x.item_type", "only list"),
        ({"x": {"type": "list", "item_type": "float"}}, "x.item_type", "unknown type"),
        ({"x": {"type": "str", "options": []}}, "x.options", "non-empty"),
        ({"x": {"type": "str", "options": ["a", "a"]}}, "x.options", "duplicate"),
        ({"x": {"description": "no type"}}, "x.type", "required"),
        ({"x": {"type": "str", "colour": "red"}}, "x", "unknown key"),
        ({"bad-name": "str"}, "bad-name", "field names"),
        (
            {"o": {"type": "object", "nested_structure": {"in ner": "str"}}},
            "o.in ner",
            "field names",
        ),
        (
            {
                "o": {
                    "type": "object",
                    "nested_structure": {"deep": {"type": "bool", "options": ["x"]}},
                }
            },
            "o.deep.options",
            "only string",
        ),
        ({}, "", "declares no fields"),
        ("str", "", "must be an object"),
        ([{"description": "nameless"}], "[0]", "name"),
        ([{"name": "a"}, {"name": "a"}], "a", "twice"),
    ],
)
def test_bad_formats_name_the_offending_field(fmt, path, words):
    with pytest.raises(OutputFormatError) as error:
        normalise_output_format(fmt)
    assert error.value.path == path
    assert words in error.value.message


def test_depth_is_limited():
    fmt: dict = {"leaf": "str"}
    for _ in range(6):
        fmt = {"level": {"type": "object", "nested_structure": fmt}}
    with pytest.raises(OutputFormatError, match="deeper"):
        normalise_output_format(fmt)


def test_compiled_schemas_validate_replies():
    import jsonschema

    schema = compile_output_format(
        normalise_output_format(
            {"ok": "bool", "mood": {"type": "str", "options": ["up"]}}
        )
    )
    jsonschema.validate({"ok": True, "mood": "up"}, schema)
    for bad in (
        {"ok": True},
        {"ok": "yes", "mood": "up"},
        {"ok": True, "mood": "up", "x": 1},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
