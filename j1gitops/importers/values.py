"""Convert one imported value (a CSV cell, or a JSON value) to a property's type.

A converter takes the raw value and returns the typed one, or raises
``ValueProblem`` with what is wrong and how to write it. CSV cells are strings;
JSON values may already be numbers, booleans or lists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from j1gitops.inventory.yamlload import MAX_EXACT_INTEGER
from j1gitops.validation.dates import InvalidDate, to_epoch_ms

Converter = Callable[[Any], Any]

KINDS = ("string", "boolean", "integer", "number", "date", "array")
TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0"}
_INTEGER = re.compile(r"[-+]?[0-9]+", re.ASCII)
_NUMBER = re.compile(
    r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", re.ASCII
)
DATE_HINT = (
    "write an ISO 8601 date such as 2024-01-31 or 2024-01-31T12:00:00Z, or a "
    "number of milliseconds since 1970-01-01T00:00:00Z"
)


class ValueProblem(ValueError):
    """A value that does not fit its property; the message shows how to write it."""


def to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number_text(value)
    raise ValueProblem(f"is a {_json_kind(value)}, not a string")


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueProblem("is not a boolean; write true or false")


TOO_LARGE = (
    "is too large to store exactly: J1 keeps numbers as 64-bit floats, exact up "
    f"to {MAX_EXACT_INTEGER}; import it as text with 'types: {{PROPERTY: string}}' "
    "in the mapping"
)


def _exact(number: int) -> int:
    if abs(number) > MAX_EXACT_INTEGER:
        raise ValueProblem(TOO_LARGE)
    return number


def to_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueProblem("is a boolean, not an integer; write a whole number")
    if isinstance(value, int):
        return _exact(value)
    if isinstance(value, float) and value.is_integer():
        return _exact(int(value))
    text = value.strip() if isinstance(value, str) else ""
    # The length check comes first because Python refuses to convert more
    # than 4,300 digits.
    if _INTEGER.fullmatch(text):
        if len(text.lstrip("+-")) > len(str(MAX_EXACT_INTEGER)):
            raise ValueProblem(TOO_LARGE)
        return _exact(int(text))
    raise ValueProblem("is not an integer; write a whole number such as 42")


def to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueProblem("is a boolean, not a number; write a number such as 12.5")
    if isinstance(value, int):
        return _exact(value)
    if isinstance(value, float) and math.isfinite(value):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if _INTEGER.fullmatch(text):
        return to_integer(text)
    if _NUMBER.fullmatch(text) and math.isfinite(float(text)):
        return float(text)
    raise ValueProblem(
        "is not a number; write digits with '.' as the decimal point, such as 12.5"
    )


def to_date(value: Any) -> int:
    """Return epoch milliseconds for an ISO 8601 string or a number of them."""
    if isinstance(value, bool):
        raise ValueProblem(f"is a boolean, not a date; {DATE_HINT}")
    if isinstance(value, (int, float)):
        return to_integer(value)
    if not isinstance(value, str):
        raise ValueProblem(f"is a {_json_kind(value)}, not a date; {DATE_HINT}")
    text = value.strip()
    if _INTEGER.fullmatch(text):
        return to_integer(text)
    try:
        return to_epoch_ms(text)
    except InvalidDate as exc:
        raise ValueProblem(f"is not a valid date because {exc}; {DATE_HINT}") from None


def keep_value(value: Any) -> Any:
    """Keep a value of a property that no class types, as the source wrote it."""
    items = value if isinstance(value, list) else [value]
    if any(isinstance(item, (dict, list)) for item in items):
        raise ValueProblem(
            "is invalid because it holds nested objects or lists, which J1 cannot "
            "store in a property; "
            "drop the field with --map 'FIELD=' or map the fields inside it"
        )
    return value


SCALAR_CONVERTERS: dict[str, Converter] = {
    "string": to_string,
    "boolean": to_boolean,
    "integer": to_integer,
    "number": to_number,
    "date": to_date,
}


def array_converter(item_kind: str, separator: str) -> Converter:
    """Return a converter to a list.

    A string is split at ``separator`` into stripped parts, without empty ones. A
    JSON list is converted item by item.
    """
    convert_item = SCALAR_CONVERTERS.get(item_kind, to_string)

    def convert(value: Any) -> list:
        if isinstance(value, list):
            parts = value
        elif isinstance(value, str) and separator:
            parts = [part.strip() for part in value.split(separator)]
        else:
            parts = [value]
        return [convert_item(part) for part in parts if part != "" and part is not None]

    return convert


def converter_for(
    kind: str, item_kind: str = "string", separator: str = ","
) -> Converter:
    """Return the converter for ``kind``; ``any`` keeps values as they are."""
    if kind == "any":
        return keep_value
    if kind == "array":
        return array_converter(item_kind, separator)
    return SCALAR_CONVERTERS[kind]


def kind_label(kind: str, item_kind: str = "string") -> str:
    """Return how messages name a kind: ``number``, ``array of string``, ..."""
    if kind == "any":
        return "untyped"
    return f"array of {item_kind}" if kind == "array" else kind


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "JSON object"
    if isinstance(value, list):
        return "list"
    if value is None:
        return "null"
    return type(value).__name__
