"""Make one field's YAML entries for a whole batch of rows at once.

An imported entity is written as the text of its entries: ``  - _key: ...``,
then one line (or block, for a list) per property. The importers read rows in
batches and make the entries a field at a time, which is where an import spends
its time. A field whose values repeat converts and quotes each distinct value
once. A column whose values need no quoting (names, serial numbers) or convert
by a fixed rule (decimal numbers, ISO 8601 date-times) is checked with one
regular expression for the whole column and converted without a Python call
per value.

Every shortcut here gives the text that ``Emitter.entry_text`` gives for the
converted value; the tests compare the two on generated values.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Sequence
from itertools import compress, repeat
from typing import Any

from j1gitops.bulkmatch import all_match, lines_pattern
from j1gitops.importers.fields import Field
from j1gitops.importers.rows import MEMO_SIZE
from j1gitops.importers.values import ValueProblem
from j1gitops.inventory.writer import Emitter, UnwritableValue, all_plain, is_plain
from j1gitops.validation.dates import common_epoch_ms

_STRINGS_ONLY = {str}

# Number and integer texts that YAML writes back unchanged once converted: no
# sign on zero, no leading zeros and no trailing zeros after the point. At most
# 15 digits and points keep a decimal within the 15 significant digits that a
# float stores exactly, and an integer below 2**53. Zeros after "0." stop at
# three, because Python writes 0.00001 as 1e-05.
_CANONICAL_INTEGER = r"(?:0|-?[1-9][0-9]{0,14})"
_CANONICAL_NUMBER = (
    r"(?=-?[0-9.]{1,15}(?:\n|\Z))(?!-0(?:\n|\Z)|-?0\.0000)"
    r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?"
)
# The same, with trailing zeros after the point allowed: such a number is
# written without them (12.50 as 12.5), and without the point when nothing is
# left after it (12.00 as 12), as the writer writes the float. A negative zero
# (-0.0) is left to the general path.
_DECIMAL = (
    r"(?=-?[0-9.]{1,15}(?:\n|\Z))(?!-0(?:\.0*)?(?:\n|\Z)|-?0\.0000)"
    r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"
)
_AS_WRITTEN = {
    "integer": re.compile(_CANONICAL_INTEGER, re.ASCII),
    "number": re.compile(_CANONICAL_NUMBER, re.ASCII),
}
_INTEGER_LINES = lines_pattern(_CANONICAL_INTEGER)
_DECIMAL_LINES = lines_pattern(_DECIMAL)


class BadValue(Exception):
    """A value of the batch that its field cannot take, at ``index``."""

    def __init__(self, index: int, value: Any, problem: Exception):
        super().__init__(str(problem))
        self.index = index
        self.value = value
        self.problem = problem


def field_entries(
    field: Field, values: Sequence, emitter: Emitter, all_strings: bool = False
) -> list[str]:
    """Return the field's entry for each value, and "" for an empty value.

    Set ``all_strings`` when every value is known to be a string, as every cell
    of a CSV file is. Raises BadValue for the first value that does not convert
    or cannot be written, in the order of ``values``.
    """
    if all_strings or set(map(type, values)) <= _STRINGS_ONLY:
        if field.cached:
            return _memoised_entries(field, values, emitter)
        return string_entries(field, values, emitter)
    return [
        one_entry(field, value, emitter, index) for index, value in enumerate(values)
    ]


def constant_entries(field: Field, count: int, emitter: Emitter) -> list[str]:
    """Return the entry of a field whose value is the same in every row."""
    entry = one_entry(field, field.value, emitter, 0) if count else ""
    return [entry] * count


def string_entries(field: Field, strings: Sequence[str], emitter: Emitter) -> list[str]:
    """Return the entries of a field for ``strings``; "" for an empty string."""
    prefix = emitter.entry_prefix(field.property)
    if "" in strings:
        texts = _bulk_texts(field, [text for text in strings if text])
        if texts is not None:
            found = iter(texts)
            return [f"{prefix}: {next(found)}\n" if text else "" for text in strings]
    texts = _bulk_texts(field, strings)
    if texts is not None:
        return [f"{prefix}: {text}\n" for text in texts]
    if field.passthrough:
        fits: Iterable[Any] = map(is_plain, strings)
    elif field.kind in _AS_WRITTEN:
        fits = map(_AS_WRITTEN[field.kind].fullmatch, strings)
    else:
        fits = repeat(False)
    return [
        f"{prefix}: {text}\n" if fit else one_entry(field, text, emitter, index)
        for index, (text, fit) in enumerate(zip(strings, fits, strict=False))
    ]


def _bulk_texts(field: Field, strings: Sequence[str]) -> Sequence[Any] | None:
    """Return the YAML text of each converted value, when one check or
    conversion of the whole column gives them all; else None."""
    if field.passthrough:
        return strings if all_plain(strings) else None
    if field.kind == "number" and all_match(_DECIMAL_LINES, strings):
        return [
            _without_trailing_zeros(text) if text[-1] == "0" and "." in text else text
            for text in strings
        ]
    if field.kind == "integer":
        return strings if all_match(_INTEGER_LINES, strings) else None
    if field.kind == "date":
        return common_epoch_ms(strings)
    return None


def _without_trailing_zeros(decimal: str) -> str:
    trimmed = decimal.rstrip("0")
    return trimmed[:-1] if trimmed[-1] == "." else trimmed


def text_entries(prefix: str, texts: Sequence[str], emitter: Emitter) -> list[str]:
    """Return ``prefix: text`` entries for non-empty strings written as they
    are, such as keys; raise BadValue for one that no YAML file can hold."""
    if all_plain(texts):
        return [f"{prefix}: {text}\n" for text in texts]
    scalar = emitter.scalar
    entries = []
    for index, text in enumerate(texts):
        try:
            entries.append(f"{prefix}: {scalar(text)}\n")
        except UnwritableValue as problem:
            raise BadValue(index, text, problem) from None
    return entries


def one_entry(field: Field, value: Any, emitter: Emitter, index: int) -> str:
    """Return the field's entry for one value; raise BadValue at ``index``."""
    if value is None or value == "":
        return ""
    try:
        if field.passthrough and type(value) is str:
            typed = value
        else:
            typed = field.convert(value)
        return emitter.entry_text(field.property, typed)
    except (ValueProblem, UnwritableValue) as problem:
        raise BadValue(index, value, problem) from None


def _memoised_entries(
    field: Field, strings: Sequence[str], emitter: Emitter
) -> list[str]:
    """``string_entries``, for a field whose values repeat: each distinct value
    is converted once, and its entry kept for the next batches."""
    known = field.lines
    entries = list(map(known.get, strings))
    if None not in entries:
        return entries
    gaps = list(compress(range(len(strings)), map(operator.is_, entries, repeat(None))))
    missing = list(dict.fromkeys(strings[index] for index in gaps))
    try:
        new = dict(zip(missing, string_entries(field, missing, emitter), strict=True))
    except BadValue as bad:
        raise BadValue(strings.index(bad.value), bad.value, bad.problem) from None
    for index in gaps:
        entries[index] = new[strings[index]]
    if len(known) + len(new) <= MEMO_SIZE:
        known.update(new)
    return entries
