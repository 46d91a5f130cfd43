"""A flat, documentation view of the data-model classes for the ``schemas`` command."""

from __future__ import annotations

import json
from functools import cache
from typing import Any, NamedTuple

from jsonschema import Draft7Validator

from j1gitops.errors import UsageError
from j1gitops.validation import schemas

TAG_PROPERTIES = "tag.*"


class ClassSummary(NamedTuple):
    name: str
    parent: str | None
    required: int  # how many properties an entity of the class must have


class PropertyRow(NamedTuple):
    """One property of a class, with what its own class and every ancestor define."""

    property: str
    type: str
    required: bool
    nullable: bool  # null passes every definition of the property in the chain
    format: str  # the formats used anywhere in the property's schema, or ""
    description: str


def list_classes() -> list[ClassSummary]:
    """Return every entity class with its parent and number of required properties."""
    return [
        ClassSummary(name, info["parent"], len(info["required"]))
        for name, info in schemas.index()["classes"].items()
    ]


def describe_class(name: str) -> list[PropertyRow]:
    """Return the properties of class ``name``, inherited ones included.

    Raises UsageError, with the closest class name as a hint, for an unknown class.
    """
    if name not in schemas.class_set():
        hint = schemas.closest_name(name, schemas.class_names())
        advice = (
            f"did you mean {hint!r}?" if hint else "run 'j1gitops schemas' to list them"
        )
        raise UsageError(f"unknown data-model class {name!r}; {advice}")
    return list(_rows(name))


@cache
def _rows(name: str) -> tuple[PropertyRow, ...]:
    required = set(schemas.class_info(name)["required"])
    rows = [
        _row(prop, levels, prop in required)
        for prop, levels in property_definitions(name).items()
    ]
    graph_object = schemas.class_schema(name)["definitions"]["GraphObject"]
    for pattern, sub in graph_object.get("patternProperties", {}).items():
        shown = TAG_PROPERTIES if pattern == "^tag\\." else pattern
        rows.append(_row(shown, [("GraphObject", sub)], False))
    return tuple(sorted(rows, key=_row_order))


def _row_order(row: PropertyRow) -> tuple[bool, str]:
    return not row.property.startswith("_"), row.property.casefold()


def _row(prop: str, levels: list[tuple[str, dict]], required: bool) -> PropertyRow:
    """Build one row; ``levels`` lists (definition, schema), the class's own first."""
    found = [sub for _, sub in levels]
    own = describe_type(found[0])
    stricter = [
        f"{owner}: {describe_type(sub)}"
        for owner, sub in levels[1:]
        if describe_type(sub) != own
    ]
    return PropertyRow(
        prop,
        "; ".join([own, *stricter]),
        required,
        all(Draft7Validator(sub).is_valid(None) for sub in found),
        ", ".join(sorted(formats_in(found))),
        next((sub["description"] for sub in found if "description" in sub), ""),
    )


def property_definitions(name: str) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Return each property's (definition, schema) pairs, the class's own first."""
    definitions = schemas.class_schema(name)["definitions"]
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    chain = [name]
    while (parent := _parent(definitions, chain[-1])) is not None:
        chain.append(parent)
    for level_name in chain:
        definition = definitions[level_name]
        for level in [definition, *definition.get("allOf", [])]:
            for prop, sub in level.get("properties", {}).items():
                found.setdefault(prop, []).append((level_name, sub))
    return found


def _parent(definitions: dict[str, dict], name: str) -> str | None:
    for branch in definitions[name].get("allOf", []):
        if "$ref" in branch:
            return branch["$ref"].rsplit("/", 1)[1]
    return None


def formats_in(found: list[dict[str, Any]]) -> set[str]:
    result: set[str] = set()
    stack: list[Any] = list(found)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                result.add(node["format"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return result


def describe_type(schema: dict[str, Any]) -> str:
    """Describe a property schema in a few words, such as ``array of unique string``."""
    branches = schema.get("oneOf") or schema.get("anyOf")
    if branches:
        return " | ".join(describe_type(b) for b in branches)
    if "const" in schema:
        return f"const {json.dumps(schema['const'])}"
    types = schema.get("type", "any")
    names = types if isinstance(types, list) else [types]
    text = " | ".join(_describe_one(t, schema) for t in names)
    if "enum" in schema:
        text += " (one of " + ", ".join(json.dumps(v) for v in schema["enum"]) + ")"
    return text


def _describe_one(type_name: str, schema: dict[str, Any]) -> str:
    if type_name == "array":
        items = describe_type(schema.get("items", {}))
        unique = "unique " if schema.get("uniqueItems") else ""
        return f"array of {unique}{items}"
    if type_name in ("number", "integer") and (
        "minimum" in schema or "maximum" in schema
    ):
        low, high = schema.get("minimum", ""), schema.get("maximum", "")
        return f"{type_name} {low}..{high}"
    if type_name == "string" and "pattern" in schema:
        return f"string matching {schema['pattern']}"
    return type_name
