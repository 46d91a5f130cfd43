"""The type of each property of a class, from the data model, for typing imports.

The generated class schemas (``j1gitops.validation.schemas``) are JSON Schema
draft-07 bundles in which a class and its ancestors are ``definitions``, each
declaring ``properties`` directly or in ``allOf`` branches. A property that
several levels or several classes declare must satisfy all of them, so its
allowed types are the intersection of what each level allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from j1gitops.validation import schemas

# JSON Schema's "number" also admits integers; expanding it makes intersections
# of "number" and "integer" come out as "integer".
NUMBER_TYPES = frozenset({"number", "integer"})


@dataclass(frozen=True)
class PropertyType:
    """The JSON types that a property allows, and whether it is a date.

    ``types`` is None when no level constrains the type. ``item_types`` is the
    same for the items of an array value.
    """

    types: frozenset[str] | None
    item_types: frozenset[str] | None = None
    date_time: bool = False

    @property
    def kind(self) -> str:
        """Return how an imported text value is converted for this property.

        One of ``string``, ``date``, ``array``, ``boolean``, ``integer`` or
        ``number``. A property that allows strings stays a string even when it
        also allows other types.
        """
        return _kind(self.types, self.date_time)

    @property
    def item_kind(self) -> str:
        return _kind(self.item_types, False)


def _kind(types: frozenset[str] | None, date_time: bool) -> str:
    if not types or "string" in types:
        return "string"
    if date_time and types <= NUMBER_TYPES | {"null"}:
        return "date"
    for kind in ("array", "boolean", "number", "integer"):
        if kind in types:
            return kind
    return "string"


def _intersect(left: frozenset | None, right: frozenset | None) -> frozenset | None:
    if left is None:
        return right
    if right is None:
        return left
    return left & right


def _union(parts: list[frozenset | None]) -> frozenset | None:
    if any(part is None for part in parts):
        return None
    return frozenset().union(*parts)


def node_types(node: dict[str, Any]) -> tuple[frozenset | None, frozenset | None]:
    """Return the types and the array item types that one schema node allows."""
    types = item_types = None
    if "type" in node:
        declared = node["type"]
        names = {declared} if isinstance(declared, str) else set(declared)
        if "number" in names:
            names |= NUMBER_TYPES
        types = frozenset(names)
    if isinstance(node.get("items"), dict):
        item_types = node_types(node["items"])[0]
    for keyword in ("oneOf", "anyOf"):
        if keyword in node:
            branches = [node_types(branch) for branch in node[keyword]]
            types = _intersect(types, _union([branch[0] for branch in branches]))
            listed = [branch[1] for branch in branches if branch[1] is not None]
            item_types = _intersect(item_types, _union(listed) if listed else None)
    for branch in node.get("allOf", []):
        branch_types, branch_items = node_types(branch)
        types = _intersect(types, branch_types)
        item_types = _intersect(item_types, branch_items)
    return types, item_types


def definition_properties(definition: dict[str, Any]) -> dict[str, dict]:
    """Return the property nodes that one definition declares, at any allOf level."""
    found = dict(definition.get("properties", {}))
    for branch in definition.get("allOf", []):
        found.update(branch.get("properties", {}))
    return found


def is_known_class(name: str) -> bool:
    return name in schemas.index()["classes"]


@cache
def property_types(classes: tuple[str, ...]) -> dict[str, PropertyType]:
    """Return every property that the known ``classes`` declare, with its type."""
    dates = schemas.date_properties(classes)
    merged: dict[str, tuple[frozenset | None, frozenset | None, bool]] = {}
    for name in classes:
        if not is_known_class(name):
            continue
        for definition in schemas.class_schema(name)["definitions"].values():
            for prop, node in definition_properties(definition).items():
                types, items = node_types(node)
                date = node.get("format") == "date-time" or prop in dates
                if prop in merged:
                    old_types, old_items, old_date = merged[prop]
                    types = _intersect(old_types, types)
                    items = _intersect(old_items, items)
                    date = date or old_date
                merged[prop] = (types, items, date)
    return {prop: PropertyType(*value) for prop, value in merged.items()}


@cache
def own_properties(name: str) -> frozenset[str]:
    """Return the properties of a class beyond those of the base schemas
    (GraphObject, Entity, RecordEntity), which every class shares."""
    bases = set(schemas.base_schemas())
    found: set[str] = set()
    for definition_name, definition in schemas.class_schema(name)[
        "definitions"
    ].items():
        if definition_name not in bases:
            found.update(definition_properties(definition))
    return frozenset(found)


def required_properties(name: str) -> tuple[str, ...]:
    """Return the required properties of a class, without ``_key``, ``_type`` and
    ``_class``."""
    return tuple(
        p for p in schemas.class_info(name)["required"] if not p.startswith("_")
    )


def nullable_required(name: str) -> frozenset[str]:
    return frozenset(schemas.class_info(name)["nullableRequired"])


def property_formats(classes: tuple[str, ...]) -> dict[str, str]:
    """Return the JSON Schema ``format`` (or ``items.format``) of each property."""
    found: dict[str, str] = {}
    for name in classes:
        for definition in schemas.class_schema(name)["definitions"].values():
            for prop, node in definition_properties(definition).items():
                form = _node_format(node)
                if form:
                    found.setdefault(prop, form)
    return found


def _node_format(node: dict[str, Any]) -> str | None:
    if "format" in node:
        return node["format"]
    if isinstance(node.get("items"), dict) and "format" in node["items"]:
        return node["items"]["format"]
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in node.get(keyword, []):
            found = _node_format(branch)
            if found:
                return found
    return None
