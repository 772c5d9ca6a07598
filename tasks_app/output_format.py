"""The `output_format` mini-language (domain.md §6): normalise, then compile to
JSON Schema for structured output and for validating every model reply.

    {"summary": "str",
     "mood": {"type": "str", "options": ["up", "down"], "description": "…"},
     "tags": {"type": "list", "item_type": "str"},
     "people": {"type": "list", "nested_structure": {"name": "str", "age": "int"}}}

Errors are `OutputFormatError`s whose `path` names the offending field
(`people.age.type`), so API and dashboard can point at it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tasks_app.limits import (
    OUTPUT_FORMAT_MAX_BYTES,
    OUTPUT_FORMAT_MAX_DEPTH,
    OUTPUT_FORMAT_MAX_FIELDS,
)

FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Every accepted spelling → its canonical name. `array` is the prose's word for
# `list`; the dashboard writes `integer`/`boolean`, the seeds `int`/`bool`.
TYPE_ALIASES = {
    "str": "str",
    "string": "str",
    "bool": "bool",
    "boolean": "bool",
    "int": "int",
    "integer": "int",
    "number": "number",
    "list": "list",
    "array": "list",
    "object": "object",
}
SCALAR_TYPES = {"str", "bool", "int", "number"}
_JSON_TYPE = {
    "str": "string",
    "bool": "boolean",
    "int": "integer",
    "number": "number",
    "list": "array",
    "object": "object",
}
_FORMAT_KEYS = {"type", "description", "options", "item_type", "nested_structure"}


class OutputFormatError(ValueError):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def normalise_output_format(value: Any) -> dict[str, Any] | None:
    """Validate and return the map form, keeping the spelling users chose.

    Accepts the map form and the seeds' array form
    `[{"name", "description", "type"?}]` (type defaults to `str`).
    """
    if value is None:
        return None
    if isinstance(value, list):
        value = _from_array_form(value)
    if not isinstance(value, dict):
        raise OutputFormatError("", "must be an object mapping field names to types")
    size = len(json.dumps(value, ensure_ascii=False).encode())
    if size > OUTPUT_FORMAT_MAX_BYTES:
        raise OutputFormatError(
            "",
            f"is {size:,} bytes as JSON; an output format has at most "
            f"{OUTPUT_FORMAT_MAX_BYTES:,}",
        )
    _check_structure(value, path="", depth=1)
    fields = _field_count(value)
    if fields > OUTPUT_FORMAT_MAX_FIELDS:
        raise OutputFormatError(
            "",
            f"declares {fields:,} fields (nested ones included); at most "
            f"{OUTPUT_FORMAT_MAX_FIELDS:,}",
        )
    return value


def _field_count(fields: dict[str, Any]) -> int:
    # Called on a checked structure: nesting is bounded by the depth limit.
    count = 0
    for spec in fields.values():
        count += 1
        if isinstance(spec, dict) and isinstance(spec.get("nested_structure"), dict):
            count += _field_count(spec["nested_structure"])
    return count


def _from_array_form(items: list[Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for index, item in enumerate(items):
        where = f"[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise OutputFormatError(where, "each entry needs a string `name`")
        name = item["name"]
        if name in result:
            raise OutputFormatError(name, "is declared twice")
        field = {k: v for k, v in item.items() if k != "name" and v is not None}
        field.setdefault("type", "str")
        if isinstance(field["type"], str) and field["type"].lower() == "array":
            # The array form comes from the seeds' examples, which say `array`
            # where the schema's enum says `list`; store the enum's word.
            field["type"] = "list"
        result[name] = field
    return result


def _check_structure(fields: dict[str, Any], *, path: str, depth: int) -> None:
    if depth > OUTPUT_FORMAT_MAX_DEPTH:
        raise OutputFormatError(
            path, f"nests deeper than {OUTPUT_FORMAT_MAX_DEPTH} levels"
        )
    if not fields:
        raise OutputFormatError(path, "declares no fields")
    for name, spec in fields.items():
        where = f"{path}.{name}" if path else name
        if not isinstance(name, str) or not FIELD_NAME.match(name):
            raise OutputFormatError(
                where,
                "field names start with a letter or _ and use only letters, "
                "digits and _",
            )
        _check_field(spec, path=where, depth=depth)


def _canonical_type(value: Any, path: str) -> str:
    if not isinstance(value, str) or value.lower() not in TYPE_ALIASES:
        allowed = ", ".join(sorted(TYPE_ALIASES))
        raise OutputFormatError(path, f"unknown type {value!r}; use one of {allowed}")
    return TYPE_ALIASES[value.lower()]


def _check_field(spec: Any, *, path: str, depth: int) -> None:
    if isinstance(spec, str):
        _canonical_type(spec, f"{path}.type")
        return
    if not isinstance(spec, dict):
        raise OutputFormatError(path, "must be a type name or a format object")
    unknown = set(spec) - _FORMAT_KEYS
    if unknown:
        raise OutputFormatError(path, f"unknown key(s): {', '.join(sorted(unknown))}")
    if "type" not in spec:
        raise OutputFormatError(f"{path}.type", "is required")
    kind = _canonical_type(spec["type"], f"{path}.type")
    description = spec.get("description")
    if description is not None and not isinstance(description, str):
        raise OutputFormatError(f"{path}.description", "must be a string")
    options = spec.get("options")
    if options is not None:
        if kind != "str":
            raise OutputFormatError(
                f"{path}.options", "only string fields take options"
            )
        if (
            not isinstance(options, list)
            or not options
            or not all(isinstance(o, str) for o in options)
        ):
            raise OutputFormatError(
                f"{path}.options", "must be a non-empty list of strings"
            )
        if len(set(options)) != len(options):
            raise OutputFormatError(f"{path}.options", "has duplicate values")
    item_type = spec.get("item_type")
    nested = spec.get("nested_structure")
    if item_type is not None:
        if kind != "list":
            raise OutputFormatError(f"{path}.item_type", "only list fields take one")
        _canonical_type(item_type, f"{path}.item_type")
    if nested is not None:
        if kind not in {"list", "object"}:
            raise OutputFormatError(
                f"{path}.nested_structure", "only list and object fields take one"
            )
        if item_type is not None and _canonical_type(item_type, path) != "object":
            raise OutputFormatError(
                f"{path}.item_type",
                "a list with nested_structure holds objects; item_type must be object",
            )
        if not isinstance(nested, dict):
            raise OutputFormatError(f"{path}.nested_structure", "must be an object")
        _check_structure(nested, path=path, depth=depth + 1)


def compile_output_format(value: dict[str, Any] | None) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) for a normalised output format.

    Every declared field is required and nothing else is allowed: the product
    promises that a successful run has exactly the declared shape.
    """
    if value is None:
        return {"type": "object"}
    return _object_schema(value)


def _object_schema(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: _field_schema(spec) for name, spec in fields.items()},
        "required": list(fields),
        "additionalProperties": False,
    }


def _field_schema(spec: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(spec, str):
        spec = {"type": spec}
    kind = TYPE_ALIASES[spec["type"].lower()]
    nested = spec.get("nested_structure")
    schema: dict[str, Any]
    if kind == "list":
        if nested is not None:
            items = _object_schema(nested)
        elif spec.get("item_type") is not None:
            items = _field_schema(spec["item_type"])
        else:
            items = {"type": "string"}
        schema = {"type": "array", "items": items}
    elif kind == "object":
        schema = _object_schema(nested) if nested is not None else {"type": "object"}
    else:
        schema = {"type": _JSON_TYPE[kind]}
        if spec.get("options") is not None:
            schema["enum"] = list(spec["options"])
    if spec.get("description"):
        schema["description"] = spec["description"]
    return schema
