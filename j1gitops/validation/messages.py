"""Plain-language explanations of python-jsonschema errors against the data model."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jsonschema import ValidationError

# The name of each format in messages, with an example of a valid value.
FORMAT_NAMES = {
    "asn": ("AS number", "AS13335"),
    "date-time": ("RFC 3339 date-time", "2024-01-31T12:00:00Z"),
    "email": ("email address", "alice@example.com"),
    "hostname": ("host name", "www.example.com"),
    "ip": ("IP address", "192.0.2.10 or 2001:db8::10"),
    "ipCidr": ("CIDR block", "10.0.0.0/8"),
    "ipv4": ("IPv4 address", "192.0.2.10"),
    "ipv6": ("IPv6 address", "2001:db8::10"),
    "uri": ("absolute URI", "https://example.com/"),
}
MAX_SHOWN = 60
MAX_ENUM_SHOWN = 12


@dataclass(frozen=True)
class Explanation:
    """The meaning of one schema error: its path, the problem and the fix."""

    path: tuple[str | int, ...]  # from the entity's root; empty for the entity itself
    detail: str
    fix: str
    missing: bool = False  # a required property is absent; ``path`` ends with it


def shown(value: Any) -> str:
    """Return ``repr(value)``, shortened to about ``MAX_SHOWN`` characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def join_types(types: Any) -> str:
    names = types if isinstance(types, list) else [types]
    return " or ".join(dict.fromkeys(names))


def format_path(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = part
    return text


def explain(error: ValidationError) -> Explanation:
    """Explain ``error``, descending into the branch of a oneOf/anyOf that the value
    was closest to."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        return _explain_branches(error)
    explainer = _EXPLAINERS.get(str(error.validator), _explain_other)
    detail, fix = explainer(error.validator_value, error.instance)
    path = tuple(error.absolute_path)
    if error.validator == "required":
        return Explanation((*path, _missing_name(error)), detail, fix, missing=True)
    return Explanation(path, detail, fix)


def _explain_branches(error: ValidationError) -> Explanation:
    """Explain the errors of the branch whose type matched, or list the types."""
    by_branch: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    shaped = [
        errors
        for errors in by_branch.values()
        if not any(e.validator == "type" and not e.relative_path for e in errors)
    ]
    if shaped:
        first = sorted(shaped[0], key=lambda e: (-len(e.relative_path), e.message))
        return explain(first[0])
    expected: list[str] = []
    for sub in error.context:
        if sub.validator == "type":
            types = sub.validator_value
            expected.extend(types if isinstance(types, list) else [types])
    detail, fix = _explain_type(expected, error.instance)
    return Explanation(tuple(error.absolute_path), detail, fix)


def _missing_name(error: ValidationError) -> str:
    """Return the property that a ``required`` error is about.

    python-jsonschema yields one error per missing name and gives the name only in
    its message, ``'name' is a required property``.
    """
    quoted = error.message.removesuffix(" is a required property")
    try:
        return str(ast.literal_eval(quoted))
    except (ValueError, SyntaxError):
        return quoted


def _explain_type(expected: Any, value: Any) -> tuple[str, str]:
    types = join_types(expected)
    return (
        f"is {shown(value)}, of type {json_type(value)}, but must be {types}",
        f"change it to {types}",
    )


def _explain_format(name: str, value: Any) -> tuple[str, str]:
    described, example = FORMAT_NAMES.get(name, (name, None))
    fix = f"use a value such as {example}" if example else f"use a valid {name}"
    return f"{shown(value)} is not a valid {described}", fix


def _explain_enum(allowed: list, value: Any) -> tuple[str, str]:
    listed = ", ".join(map(str, allowed[:MAX_ENUM_SHOWN]))
    if len(allowed) > MAX_ENUM_SHOWN:
        listed += ", ..."
    return f"{shown(value)} is not one of: {listed}", "use one of the allowed values"


def _explain_const(const: Any, value: Any) -> tuple[str, str]:
    return f"is {shown(value)}, but must be {shown(const)}", f"set it to {shown(const)}"


def _explain_pattern(pattern: str, value: Any) -> tuple[str, str]:
    return (
        f"{shown(value)} does not match the pattern {pattern}",
        "change the value to match the pattern",
    )


def _explain_required(required: list, value: Any) -> tuple[str, str]:
    return "is missing", "add it"


def _explain_min_length(limit: int, value: Any) -> tuple[str, str]:
    return (
        f"{shown(value)} has {len(value)} characters, fewer than the minimum {limit}",
        f"use at least {limit} characters",
    )


def _bound(problem: str, wanted: str) -> Callable[[Any, Any], tuple[str, str]]:
    def explainer(limit: Any, value: Any) -> tuple[str, str]:
        return f"{shown(value)} {problem} {limit}", f"use a value {wanted} {limit}"

    return explainer


def _explain_min_items(limit: int, value: Any) -> tuple[str, str]:
    return (
        f"has {len(value)} items, fewer than the minimum {limit}",
        f"give at least {limit} items",
    )


def _explain_unique(_: Any, value: Any) -> tuple[str, str]:
    return f"{shown(value)} contains duplicate items", "remove the duplicates"


def _explain_other(_: Any, value: Any) -> tuple[str, str]:
    return f"{shown(value)} is invalid", "fix the value"


_EXPLAINERS: dict[str, Callable[[Any, Any], tuple[str, str]]] = {
    "type": _explain_type,
    "format": _explain_format,
    "enum": _explain_enum,
    "const": _explain_const,
    "pattern": _explain_pattern,
    "required": _explain_required,
    "minLength": _explain_min_length,
    "minimum": _bound("is less than the minimum", "of at least"),
    "maximum": _bound("is greater than the maximum", "of at most"),
    "exclusiveMinimum": _bound("is not greater than", "greater than"),
    "exclusiveMaximum": _bound("is not less than", "less than"),
    "minItems": _explain_min_items,
    "uniqueItems": _explain_unique,
}
