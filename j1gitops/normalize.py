"""The one normalisation that both sides of a diff go through.

What the inventory says and what a target reads back are compared only after
this, so that a plan right after an apply is empty:

- ``_class`` as a string or a one-item list is the same; several classes are a set;
- ``1`` and ``1.0`` are the same number (J1 stores JSON numbers), but ``True`` is
  not ``1``;
- a property whose value is ``null`` is the same as an absent one, because J1's
  persister treats ``null`` as "remove this property";
- key order never matters; list order does.

System metadata (``_id``, ``_version``, ...) never reaches this module: targets
split it off when they read.
"""

from __future__ import annotations

import json
import math
from typing import Any


def canonical_classes(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(sorted(set(value)))


def canonical_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return value
    if isinstance(value, (list, tuple)):
        return [canonical_value(item) for item in value]
    if isinstance(value, dict):
        return {key: canonical_value(item) for key, item in value.items()}
    return value


def canonical_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """Return the properties as J1 would store them: nulls dropped, numbers canonical."""
    return {
        name: canonical_value(value)
        for name, value in properties.items()
        if value is not None
    }


def canonical_json(value: Any) -> str:
    """Serialise ``value`` deterministically, for digests and fast equality."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def values_equal(left: Any, right: Any) -> bool:
    """Compare canonical values; unlike ``==``, ``True`` differs from ``1``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            values_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    if isinstance(left, list) or isinstance(right, list):
        return False
    return left == right
