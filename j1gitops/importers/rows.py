"""The steps over rows that the importers share.

A batch of rows is cut short before its first bad row. A pattern is filled from
one row or from a whole batch. A value's conversion is cached when it repeats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from j1gitops.errors import J1GitOpsError, LoadError
from j1gitops.importers.fields import Field, Source
from j1gitops.importers.patterns import Pattern
from j1gitops.importers.table import Table
from j1gitops.importers.values import ValueProblem

MEMO_SIZE = 65_536  # distinct values per field whose conversion is cached
# After this many rows, a field whose values were nearly all distinct stops
# caching (see stop_caching_unique).
MEMO_TRIAL_ROWS = 2048
_MISSING = object()


class Batch:
    """Rows read together, by row and by column, cut short before a bad row.

    ``until_error`` runs one step of the conversion over the batch. When the step
    fails at a row, the batch keeps only the rows before it and the step runs
    again, so ``error`` ends up as the error of the first bad row.
    """

    def __init__(self, labels: Sequence[str], columns: list[Sequence]):
        self.labels = labels
        self.columns = columns
        self.keys: Sequence[str] = ()
        self.error: J1GitOpsError | None = None
        # For a subset: each row's place in the batch it was taken from.
        self.positions: Sequence[int] = ()
        self._rows: list[tuple] | None = None

    @property
    def rows(self) -> list[tuple]:
        """The values row by row, for the steps that read a row at a time."""
        if self._rows is None:
            self._rows = list(zip(*self.columns, strict=True))
        return self._rows

    def __len__(self) -> int:
        return len(self.labels)

    def until_error(self, step: Callable[[Batch], Any]) -> Any:
        """Return ``step(self)``, once it runs without a RowError."""
        while True:
            try:
                return step(self)
            except RowError as failure:
                self._stop_at(failure.index, failure.error)

    def _stop_at(self, index: int, error: J1GitOpsError) -> None:
        self.error = error
        self.labels = self.labels[:index]
        self.columns = [column[:index] for column in self.columns]
        self.keys = self.keys[:index]
        self._rows = None

    def subset(self, indices: Sequence[int]) -> Batch:
        """Return the rows at ``indices``, with their keys."""
        part = Batch(
            [self.labels[i] for i in indices],
            [[column[i] for i in indices] for column in self.columns],
        )
        part.keys = [self.keys[i] for i in indices]
        part.positions = indices
        return part

    def row_error(self, index: int, error: J1GitOpsError) -> RowError:
        """Return a RowError at row ``index`` of this batch, numbered as a row of
        the batch it was taken from."""
        return RowError(self.positions[index] if self.positions else index, error)


class RowError(Exception):
    """An error at row ``index`` of a batch of rows."""

    def __init__(self, index: int, error: J1GitOpsError):
        super().__init__(str(error))
        self.index = index
        self.error = error


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

    def render_column(
        self, table: Table, labels: Sequence[str], columns: Sequence[Sequence]
    ) -> Sequence[str]:
        """Fill the pattern for every row of a batch, from its ``columns``.

        Raises RowError for the first row whose value is empty or cannot fill a
        pattern; within a row, the first such placeholder.
        """
        count = len(labels)
        failures: list[tuple[int, int, LoadError]] = []
        filled: list[Sequence[str]] = []
        for order, (_, column, index) in enumerate(self.parts):
            if column is None:
                continue
            values = columns[index] if index is not None else [None] * count
            texts, problem = _pattern_texts(values, table, labels)
            if problem is not None:
                row, error = problem
                error = error or self._empty(table, labels[row], column)
                failures.append((row, order, error))
            filled.append(texts)
        if failures:
            row, _, error = min(failures, key=lambda failure: failure[:2])
            raise RowError(row, error)
        if not filled:
            return ["".join(literal for literal, _, _ in self.parts)] * count
        if len(self.parts) == 1 and not self.parts[0][0]:
            return filled[0]
        template = "".join(
            literal.replace("{", "{{").replace("}", "}}") + ("{}" if column else "")
            for literal, column, _ in self.parts
        )
        return list(map(template.format, *filled))

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


def _pattern_texts(
    values: Sequence, table: Table, labels: Sequence[str]
) -> tuple[Sequence[str], tuple[int, LoadError | None] | None]:
    """Return the values as text for a pattern, and the first row whose value
    cannot fill one with its error (None for an empty value), if any."""
    if "" in values or None in values:
        row = next(i for i, value in enumerate(values) if value is None or value == "")
        return values, (row, None)
    if set(map(type, values)) <= {str}:
        return values, None
    texts = []
    for row, value in enumerate(values):
        try:
            texts.append(key_text(value, table, labels[row]))
        except LoadError as error:
            return values, (row, error)
    return texts, None


def stop_caching_unique(fields: list[Field], rows: int) -> None:
    """Turn caching off for the fields whose values in the first ``rows`` rows
    were nearly all distinct (more than 95%), because caching unique values
    costs time and saves none."""
    for field in fields:
        if max(len(field.lines), len(field.memo)) > rows * 0.95:
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
