"""J1 platform rules: what J1 itself rejects, checked in plain Python.

These findings are errors whatever the data-model level, except
``value-too-long``, which is a warning. Rule ids:

- ``required-field``: ``_key``, ``_type`` or ``_class`` is missing or not a string
  (the inventory reader reports this for files; here it guards other callers).
- ``reserved-property``: a property name starts with ``_``.
- ``invalid-property-name``: a name that J1's pattern ``^(_|tag\\.)?[A-Za-z0-9. -]+$``
  rejects.
- ``nested-value``: an object as a property value or array item.
- ``invalid-array``: an array of arrays, an array with null items, or an array
  that mixes strings, numbers and booleans.
- ``relationship-array``: an array as a relationship property value.
- ``non-finite-number``: NaN or infinity.
- ``unsupported-value``: a value of another Python type, such as a ``datetime``
  outside the data model's date properties.
- ``value-too-long``: a string of more than 4096 characters.
- ``unknown-class``: an entity ``_class`` that is not a data-model class.
- ``unknown-verb``: a relationship ``_class`` that is not a J1 relationship verb.
- ``duplicate-entity-key``, ``duplicate-relationship-key``: a ``_key`` used twice.
- ``dangling-relationship``: a relationship end that is neither an entity of the
  inventory nor marked as external.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

from j1gitops.diagnostics import Diagnostic, error, warning
from j1gitops.inventory.model import TOOL_METADATA_KEY, Entity, Relationship
from j1gitops.validation import schemas

# J1's property-name pattern without its optional leading "_", which is reported
# as a reserved name instead.
_NAME = re.compile(r"(?:tag\.)?[A-Za-z0-9. -]+", re.ASCII)
_NAME_INVALID_CHARACTER = re.compile(r"[^A-Za-z0-9. -]")
# The length limit of J1's search index.
# NOTE: what J1 does with longer strings (stores, cuts or rejects them) is
# unconfirmed, so they are reported as a warning.
MAX_VALUE_LENGTH = 4096
PRIMITIVES = "strings, numbers and booleans"

Owner = Entity | Relationship


@lru_cache(maxsize=4096)
def name_problem(name: str, owner_kind: str) -> tuple[str, str] | None:
    """Return the (rule, reason) that rejects a property name, or None."""
    if name.startswith("_") and not (
        owner_kind == "entity" and name == TOOL_METADATA_KEY
    ):
        return (
            "reserved-property",
            f"property {name} starts with '_', which J1 reserves for its own "
            f"fields; rename it, for example to {name.lstrip('_') or 'value'!r}",
        )
    if _NAME.fullmatch(name):
        return None
    prefix = "tag." if name.startswith("tag.") else ""
    suggestion = prefix + _NAME_INVALID_CHARACTER.sub("-", name[len(prefix) :])
    return (
        "invalid-property-name",
        f"property name {name!r} is not allowed by J1, which accepts only letters, "
        "digits, '.', ' ' and '-' (optionally after 'tag.'); rename it, for example "
        f"to {suggestion.strip('-') or 'value'!r}",
    )


def value_problem(value: Any, owner_kind: str) -> tuple[str, str] | None:
    """Return the (rule, reason) that rejects a property value, or None."""
    if isinstance(value, (str, int)) or value is None:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else _non_finite(value)
    if isinstance(value, dict):
        return (
            "nested-value",
            f"is an object, but J1 stores only {PRIMITIVES} and arrays of them; "
            "flatten it into separate properties",
        )
    if isinstance(value, list):
        if owner_kind == "relationship":
            return (
                "relationship-array",
                f"is an array, but relationship properties must be {PRIMITIVES}; "
                "join the items into one string or move them to an entity",
            )
        return array_problem(value)
    return _unsupported(value)


def _unsupported(value: Any) -> tuple[str, str]:
    return (
        "unsupported-value",
        f"is a Python {type(value).__name__}, which J1 cannot store; use a string, "
        "number or boolean",
    )


def _non_finite(value: float) -> tuple[str, str]:
    return (
        "non-finite-number",
        f"is {value}, which J1 cannot store because JSON has no NaN or infinity; "
        "use a finite number or remove the property",
    )


def array_problem(items: list) -> tuple[str, str] | None:
    kinds = set()
    for item in items:
        if isinstance(item, (dict, list)) or item is None:
            shape = {dict: "an object", list: "an array"}.get(type(item), "null")
            rule = "nested-value" if isinstance(item, dict) else "invalid-array"
            return rule, f"contains {shape}, but array items must be {PRIMITIVES}"
        if isinstance(item, float) and not math.isfinite(item):
            return _non_finite(item)
        kind = _kind(item)
        if kind is None:
            return _unsupported(item)
        kinds.add(kind)
    if len(kinds) > 1:
        # NOTE: whether J1 rejects mixed arrays is unconfirmed. J1's integration SDK
        # types allow only arrays of one primitive type, so they are rejected here.
        return (
            "invalid-array",
            f"mixes {' and '.join(sorted(kinds))} in one array; give all items "
            "one type (quote the numbers to make them strings)",
        )
    return None


def _kind(item: Any) -> str | None:
    if isinstance(item, bool):
        return "boolean"
    if isinstance(item, (int, float)):
        return "number"
    return "string" if isinstance(item, str) else None


def too_long(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) > MAX_VALUE_LENGTH
    return isinstance(value, list) and any(too_long(item) for item in value)


# Types whose values need no further check. Only exact types match, so that
# subclasses take the general path below.
_PLAIN_TYPES = frozenset({int, bool, type(None)})
# Property names already found valid, per kind of owner. Names repeat across
# entities, so checking each name once keeps the loop below cheap.
_VALID_NAMES: dict[str, set[str]] = {"entity": set(), "relationship": set()}
_MAX_REMEMBERED_NAMES = 100_000


def check_properties(owner: Owner, kind: str) -> tuple[list[Diagnostic], set[str]]:
    """Check every property name and value of one entity or relationship.

    Returns the findings and the names of properties whose value J1 cannot store;
    schema checks skip those, so that one problem is reported once.
    """
    found: list[Diagnostic] = []
    unstorable: set[str] = set()
    valid_names = _VALID_NAMES[kind]
    for name, value in owner.properties.items():
        if name not in valid_names:
            problem = name_problem(name, kind)
            if problem is not None:
                found.append(_finding(owner, name, problem))
                unstorable.add(name)
                continue
            if len(valid_names) < _MAX_REMEMBERED_NAMES:
                valid_names.add(name)
        value_type = value.__class__
        if value_type is str:
            if len(value) > MAX_VALUE_LENGTH:
                found.append(_too_long(owner, name))
            continue
        if value_type in _PLAIN_TYPES:
            continue
        problem = _value_with_name(value, name, kind)
        if problem is not None:
            found.append(_finding(owner, name, problem))
            unstorable.add(name)
        elif too_long(value):
            found.append(_too_long(owner, name))
    return found, unstorable


def _finding(owner: Owner, name: str, problem: tuple[str, str]) -> Diagnostic:
    rule, reason = problem
    return error(owner.property_location(name), f"{owner.label()}: {reason}", rule)


def _value_with_name(value: Any, name: str, kind: str) -> tuple[str, str] | None:
    problem = value_problem(value, kind)
    return None if problem is None else (problem[0], f"property {name} {problem[1]}")


def _too_long(owner: Owner, name: str) -> Diagnostic:
    return warning(
        owner.property_location(name),
        f"{owner.label()}: property {name} has a string of more than "
        f"{MAX_VALUE_LENGTH} characters, the limit of J1's search index; shorten it",
        "value-too-long",
    )


def check_identity(entity: Entity) -> list[Diagnostic]:
    """Check that ``_key`` and ``_type`` are strings and ``_class`` names classes."""
    found = []
    for field, value in (("_key", entity.key), ("_type", entity.type)):
        if not isinstance(value, str) or not value.strip():
            found.append(_required_field(entity, field, value))
    classes = entity.classes
    if not classes or not all(isinstance(c, str) and c.strip() for c in classes):
        found.append(_required_field(entity, "_class", classes))
    return found


def _required_field(entity: Entity, field: str, value: Any) -> Diagnostic:
    return error(
        entity.property_location(field),
        f"entity {field} must be a non-empty string, found {value!r}",
        "required-field",
    )


def check_classes(entity: Entity) -> list[Diagnostic]:
    known = schemas.class_set()
    return [
        error(
            entity.property_location("_class"),
            unknown_class_message(entity, c),
            "unknown-class",
        )
        for c in entity.classes
        if isinstance(c, str) and c not in known
    ]


def unknown_class_message(entity: Entity, name: str) -> str:
    if name in schemas.base_schemas():
        reason = "is a base schema of the data model, not a class; use a specific class"
    else:
        hint = schemas.closest_name(name, schemas.class_names())
        reason = "is not a J1 data-model class; " + (
            f"did you mean {hint!r}?" if hint else "check the spelling"
        )
    return f"{entity.label()}: _class {name!r} {reason} ('j1gitops schemas' lists them)"


def check_verb(relationship: Relationship) -> list[Diagnostic]:
    verb = relationship.verb
    if verb in schemas.verbs():
        return []
    hint = (
        schemas.closest_name(verb, schemas.verbs()) if isinstance(verb, str) else None
    )
    advice = f"did you mean {hint!r}?" if hint else "use a verb such as HAS or USES"
    return [
        error(
            relationship.property_location("_class"),
            f"{relationship.label()}: _class {verb!r} is not a J1 relationship verb; "
            f"{advice}",
            "unknown-verb",
        )
    ]


# J1's sync API takes uploads of at most 5,000,000 bytes of JSON per request
# (the batch size of J1's integration SDK), so one larger object can never be
# uploaded.
MAX_UPLOAD_BYTES = 5_000_000
# Only objects whose strings add up to this many characters are serialised to
# measure them exactly; smaller ones cannot reach the limit.
_SIZE_CHECK_THRESHOLD = 1_000_000


def check_upload_size(entity: Entity) -> list[Diagnostic]:
    """Report an entity too large for one upload request to J1."""
    rough = sum(len(v) for v in entity.properties.values() if isinstance(v, str))
    if rough < _SIZE_CHECK_THRESHOLD:
        return []
    size = len(json.dumps(entity.properties, ensure_ascii=False).encode())
    if size <= MAX_UPLOAD_BYTES:
        return []
    return [
        error(
            entity.location,
            f"{entity.label()} is {size:,} bytes of JSON, over the {MAX_UPLOAD_BYTES:,} "
            "bytes J1 accepts in one upload; shorten its longest properties",
            "object-too-large",
        )
    ]
