"""The output schema editor's operations on an `output_format` (domain.md §6).

The editor keeps one source of truth, the format's JSON text; the Visual view is
drawn from it and every Visual action (add, edit, remove a property, add a
sub-property) is applied here and written back as JSON, so both views always
show the same format. Pasted JSON Schema (`{"type": "object", "properties": …}`)
is converted to the format's own shorthand. Validation is the compiler's own
(`normalise_output_format`), so the editor and the API agree on every message.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from tasks_app.output_format import (
    TYPE_ALIASES,
    OutputFormatError,
    normalise_output_format,
)

# What the property form offers, in order: (value, label).
PROPERTY_TYPES = [
    ("str", "String"),
    ("number", "Number"),
    ("int", "Integer"),
    ("bool", "Boolean"),
    ("object", "Object"),
]
_TYPE_LABELS = dict(PROPERTY_TYPES)
_SCHEMA_TYPES = {
    "string": "str",
    "number": "number",
    "integer": "int",
    "boolean": "bool",
    "object": "object",
    "array": "list",
}


@dataclass
class ParsedFormat:
    """The JSON text read: the format (None when empty), or the error."""

    value: dict[str, Any] | None = None
    error: OutputFormatError | None = None
    converted: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class PropertyView:
    """One row of the Visual view."""

    name: str
    path: str
    type_label: str
    is_list: bool
    is_object: bool
    options: list[str]
    description: str
    children: list[PropertyView] = field(default_factory=list)


@dataclass
class PropertyInput:
    """What the property form holds: a property to add or to replace."""

    name: str
    description: str = ""
    type: str = "str"
    array: bool = False
    options: list[str] = field(default_factory=list)
    parent: str = ""
    original: str = ""


def format_text(value: dict[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False)


def parse_format_text(text: str) -> ParsedFormat:
    """The format in the JSON view: the shorthand, its array form, or a JSON
    Schema of an object (converted)."""
    if not text or not text.strip():
        return ParsedFormat()
    try:
        raw = json.loads(text)
    except ValueError as error:
        return ParsedFormat(error=OutputFormatError("", f"is not valid JSON: {error}"))
    if raw == {} or raw == []:
        return ParsedFormat()
    converted = False
    if is_json_schema(raw):
        try:
            raw = from_json_schema(raw)
        except OutputFormatError as error:
            return ParsedFormat(error=error)
        converted = True
    try:
        return ParsedFormat(value=normalise_output_format(raw), converted=converted)
    except OutputFormatError as error:
        return ParsedFormat(error=error)


def is_json_schema(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "object"
        and isinstance(value.get("properties"), dict)
    )


def from_json_schema(schema: dict[str, Any], path: str = "") -> dict[str, Any]:
    """A JSON Schema object's properties in the format's shorthand."""
    result: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        where = f"{path}.{name}" if path else name
        if not isinstance(prop, dict):
            raise OutputFormatError(where, "each JSON Schema property is an object")
        result[name] = _field_from_schema(prop, where)
    return result


def _field_from_schema(prop: dict[str, Any], where: str) -> dict[str, Any]:
    kind = prop.get("type")
    if isinstance(kind, list):
        # ["string", "null"] and the like: the first real type.
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "enum" in prop:
        kind = "string"
    if kind not in _SCHEMA_TYPES:
        raise OutputFormatError(
            f"{where}.type", f"unsupported JSON Schema type {kind!r}"
        )
    spec: dict[str, Any] = {"type": _SCHEMA_TYPES[kind]}
    if kind == "string" and isinstance(prop.get("enum"), list):
        spec["options"] = [str(option) for option in prop["enum"]]
    if kind == "object" and is_json_schema(prop):
        spec["nested_structure"] = from_json_schema(prop, where)
    if kind == "array" and isinstance(prop.get("items"), dict):
        items = prop["items"]
        if is_json_schema(items):
            spec["nested_structure"] = from_json_schema(items, where)
        elif items.get("type") in _SCHEMA_TYPES and items.get("type") != "array":
            spec["item_type"] = _SCHEMA_TYPES[items["type"]]
    if isinstance(prop.get("description"), str) and prop["description"]:
        spec["description"] = prop["description"]
    return spec


# The Visual view ------------------------------------------------------------------


def _canonical(spec: str | dict[str, Any]) -> dict[str, Any]:
    return {"type": spec} if isinstance(spec, str) else spec


def property_views(value: dict[str, Any] | None, path: str = "") -> list[PropertyView]:
    views = []
    for name, raw in (value or {}).items():
        spec = _canonical(raw)
        kind = TYPE_ALIASES.get(str(spec.get("type", "")).lower(), "str")
        where = f"{path}.{name}" if path else name
        nested = spec.get("nested_structure")
        is_list = kind == "list"
        item = (
            "object"
            if nested
            else TYPE_ALIASES.get(str(spec.get("item_type") or "str").lower(), "str")
        )
        shown = item if is_list else kind
        views.append(
            PropertyView(
                name=name,
                path=where,
                type_label=_TYPE_LABELS.get(shown, shown),
                is_list=is_list,
                is_object=shown == "object",
                options=list(spec.get("options") or []),
                description=spec.get("description") or "",
                children=property_views(nested, where) if nested else [],
            )
        )
    return views


# Visual actions -------------------------------------------------------------------


def _container(value: dict[str, Any], path: str) -> dict[str, Any]:
    """The fields dict that holds the children of the property at `path`
    ("" = the top level), made an object's nested structure if need be."""
    if not path:
        return value
    fields = value
    for part in path.split("."):
        if part not in fields:
            raise OutputFormatError(path, "there is no such property")
        spec = _canonical(fields[part])
        fields[part] = spec
        kind = TYPE_ALIASES.get(str(spec.get("type", "")).lower())
        if kind not in {"object", "list"}:
            raise OutputFormatError(path, "only objects hold sub-properties")
        if kind == "list" and spec.get("item_type") not in (None, "object"):
            raise OutputFormatError(path, "only lists of objects hold sub-properties")
        spec.pop("item_type", None)
        fields = spec.setdefault("nested_structure", {})
    return fields


def property_spec(value: dict[str, Any] | None, path: str) -> PropertyInput:
    """The property at `path`, as the property form shows it for editing."""
    parent, _, name = path.rpartition(".")
    fields = _container(copy.deepcopy(value or {}), parent)
    if name not in fields:
        raise OutputFormatError(path, "there is no such property")
    spec = _canonical(fields[name])
    kind = TYPE_ALIASES.get(str(spec.get("type", "")).lower(), "str")
    is_list = kind == "list"
    if is_list:
        kind = (
            "object"
            if spec.get("nested_structure")
            else TYPE_ALIASES.get(str(spec.get("item_type") or "str").lower(), "str")
        )
    return PropertyInput(
        name=name,
        description=spec.get("description") or "",
        type=kind,
        array=is_list,
        options=list(spec.get("options") or []),
        parent=parent,
        original=path,
    )


def property_set(value: dict[str, Any] | None, prop: PropertyInput) -> dict[str, Any]:
    """The format with `prop` added (or replacing `prop.original`), validated."""
    result = copy.deepcopy(value or {})
    fields = _container(result, prop.parent)
    where = f"{prop.parent}.{prop.name}" if prop.parent else prop.name
    previous: dict[str, Any] = {}
    if prop.original:
        old_name = prop.original.rpartition(".")[2]
        previous = _canonical(fields.get(old_name, {}))
        if prop.name != old_name and prop.name in fields:
            raise OutputFormatError(where, "there is already a property of this name")
        # Keep the property's place in the order when it is renamed.
        fields_in_order = list(fields.items())
        fields.clear()
        for key, kept in fields_in_order:
            fields[prop.name if key == old_name else key] = kept
    elif prop.name in fields:
        raise OutputFormatError(where, "there is already a property of this name")
    if prop.options and (prop.type != "str" or prop.array):
        raise OutputFormatError(
            f"{where}.options", "only single string properties take enum values"
        )
    spec: dict[str, Any]
    nested = previous.get("nested_structure")
    if prop.array:
        spec = {"type": "list"}
        if prop.type == "object":
            if nested:
                spec["nested_structure"] = nested
            else:
                spec["item_type"] = "object"
        else:
            spec["item_type"] = prop.type
    else:
        spec = {"type": prop.type}
        if prop.type == "object" and nested:
            spec["nested_structure"] = nested
        if prop.options:
            spec["options"] = prop.options
    if prop.description:
        spec["description"] = prop.description
    fields[prop.name] = spec
    return normalise_output_format(result) or {}


def property_remove(value: dict[str, Any] | None, path: str) -> dict[str, Any] | None:
    result = copy.deepcopy(value or {})
    parent, _, name = path.rpartition(".")
    fields = _container(result, parent)
    if name not in fields:
        raise OutputFormatError(path, "there is no such property")
    del fields[name]
    if parent and not fields:
        # An object whose last field went is a free-form object again.
        holder = _container(result, parent.rpartition(".")[0])
        spec = holder[parent.rpartition(".")[2]]
        spec.pop("nested_structure", None)
        if spec.get("type") in {"list", "array"}:
            spec["item_type"] = "object"
    return result or None
