"""The per-row steps the importers share: fill a pattern from a row, read and
convert a field. This is the hot path of an import, so it avoids closures and
caches conversions of repeated values."""

from __future__ import annotations

from typing import Any

from j1gitops.errors import LoadError
from j1gitops.importers.fields import Field, Source
from j1gitops.importers.patterns import Pattern
from j1gitops.importers.table import Table
from j1gitops.importers.values import ValueProblem

MEMO_SIZE = 65_536  # distinct values per field whose conversion is cached
# After this many rows, a field whose values were nearly all distinct (more
# than 95%) stops caching, because a cache of unique values only costs.
MEMO_TRIAL_ROWS = 2048
_MISSING = object()


class BoundPattern:
    """A pattern whose placeholders are resolved to the table's column indices."""

    def __init__(self, pattern: Pattern, sources: dict[str, Source]):
        self.pattern = pattern
        self.parts = tuple(
            (literal, column, _index(sources, column))
            for literal, column in pattern.parts
        )

    def render(
        self, table: Table, label: str, cells: list, override: tuple | None = None
    ) -> str:
        """Fill the pattern from ``cells``; ``override`` is a (column, value) that
        replaces one column's value. Raises LoadError for an empty value."""
        pieces = []
        for literal, column, index in self.parts:
            pieces.append(literal)
            if column is None:
                continue
            if override is not None and column == override[0]:
                value = override[1]
            else:
                value = None if index is None else cells[index]
            if value is None or value == "":
                raise self._empty(table, label, column)
            pieces.append(
                value if type(value) is str else key_text(value, table, label)
            )
        return "".join(pieces)

    def _empty(self, table: Table, label: str, column: str) -> LoadError:
        return LoadError(
            f"{table.where(label, column)}: column {column!r} is empty, but the "
            f"pattern {self.pattern.text!r} needs it; fill it in, or change --key "
            "or the mapping"
        )


def _index(sources: dict[str, Source], column: str | None) -> int | None:
    """Return a column's cell index; None for J1's name.0, name.1 columns, which
    hold a list and cannot fill a pattern."""
    if column is None or sources[column].array:
        return None
    return sources[column].indices[0]


def key_text(value: Any, table: Table, label: str) -> str:
    """Return a JSON number as text for a pattern; reject other non-strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LoadError(
            f"{table.where(label)}: {value!r} cannot fill a {{column}} pattern, "
            "which takes strings and numbers; use another field"
        )
    return str(value)


def stop_caching_unique(fields: list[Field]) -> None:
    """Turn caching off for the fields whose values are mostly distinct."""
    for field in fields:
        if max(len(field.lines), len(field.memo)) > MEMO_TRIAL_ROWS * 0.95:
            field.cached = False
            field.lines.clear()
            field.memo.clear()


def raw_value(field: Field, cells: list) -> Any:
    """Return a field's value in the row, or None when it is empty."""
    if field.array_columns:
        items = [cells[i] for i in field.indices if cells[i] not in ("", None)]
        return items or None
    value = cells[field.index]
    return None if value == "" or value is None else value


def converted(field: Field, value: Any, table: Table, label: str) -> Any:
    """Convert ``value`` for ``field``, reusing the result for a repeated string."""
    if type(value) is not str:
        return _convert(field, value, table, label)
    if field.passthrough:
        return value
    typed = field.memo.get(value, _MISSING)
    if typed is _MISSING:
        typed = _convert(field, value, table, label)
        if field.cached and len(field.memo) < MEMO_SIZE:
            field.memo[value] = typed
    return typed


def _convert(field: Field, value: Any, table: Table, label: str) -> Any:
    try:
        return field.convert(value)
    except ValueProblem as problem:
        column = field.column if field.indices else field.property
        raise LoadError(
            f"{table.where(label, column)}: value {value!r} of {field.label} "
            f"property {field.property!r} {problem}"
        ) from None
