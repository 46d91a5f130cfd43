"""How one J1QL comparison is decided, following J1's language reference.

A property whose value is a list matches ``=`` when any item matches. ``!=`` and
the other ``!`` operators are the negation of their positive form, so any
``!=`` against an absent property is true. ``= undefined`` is true only for an
absent property. ``= ('a' OR 'b')`` matches when any value matches and
``= ('a' AND 'b')`` when all do. String operators are case-sensitive.
"""

from __future__ import annotations

import re
from typing import Any

from j1gitops.emulator.j1ql.ast import Regex, ValueSet

NEGATIONS = {"!=": "=", "!~=": "~=", "!^=": "^=", "!$=": "$="}
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


def compare(stored: Any, operator: str, expected: Any) -> bool:
    """Decide ``stored <operator> expected``; ``stored`` None means absent.

    ``expected`` is a bound value: a scalar, None for ``undefined``, a
    ``Regex`` or a ``ValueSet`` of scalars.
    """
    if operator in NEGATIONS:
        return not compare(stored, NEGATIONS[operator], expected)
    if isinstance(expected, ValueSet):
        results = (compare(stored, operator, value) for value in expected.values)
        return any(results) if expected.any_of else all(results)
    if expected is None:
        return operator == "=" and stored is None
    if stored is None:
        return False
    items = stored if isinstance(stored, list) else [stored]
    return any(_compare_one(item, operator, expected) for item in items)


def _compare_one(item: Any, operator: str, expected: Any) -> bool:
    if isinstance(expected, Regex):
        return isinstance(item, str) and _regex(expected).search(item) is not None
    if operator == "=":
        return _equal(item, expected)
    if operator in ("~=", "^=", "$="):
        if not isinstance(item, str) or not isinstance(expected, str):
            return False
        if operator == "~=":
            return expected in item
        return (
            item.startswith(expected) if operator == "^=" else item.endswith(expected)
        )
    return _ordered(item, operator, expected)


def _equal(item: Any, expected: Any) -> bool:
    # A boolean never equals a number, although True == 1 in Python.
    if isinstance(item, bool) or isinstance(expected, bool):
        return type(item) is type(expected) and item == expected
    return item == expected


def _ordered(item: Any, operator: str, expected: Any) -> bool:
    numbers = (int, float)
    if isinstance(item, bool) or isinstance(expected, bool):
        return False
    comparable = (isinstance(item, numbers) and isinstance(expected, numbers)) or (
        isinstance(item, str) and isinstance(expected, str)
    )
    if not comparable:
        return False
    if operator == ">":
        return item > expected
    if operator == "<":
        return item < expected
    if operator == ">=":
        return item >= expected
    return item <= expected


def _regex(expected: Regex) -> re.Pattern:
    flags = 0
    for letter in expected.flags:
        flags |= _REGEX_FLAGS.get(letter, 0)
    return re.compile(expected.pattern, flags)
