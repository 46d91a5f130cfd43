"""Profiles of a table's columns (fill, uniqueness, value shapes) from sampled rows."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from j1gitops.importers.table import Table
from j1gitops.importers.values import FALSE_WORDS, TRUE_WORDS
from j1gitops.validation.dates import InvalidDate, parse_iso8601

SAMPLE_ROWS = 5000
# Loose shapes for suggestions only; validation applies the data model's formats.
SHAPES = {
    "email": re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"),
    "ipv4": re.compile(r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}"),
    "mac": re.compile(r"(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}"),
    "url": re.compile(r"https?://\S+"),
    "number": re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"),
}


@dataclass
class ColumnProfile:
    """A column's sampled values: how many are filled and unique, and the shapes
    (``email``, ``ipv4``, ``mac``, ``url``, ``number``, ``boolean``, ``date``) that
    every filled value has."""

    name: str
    filled: int = 0
    unique: int = 0
    shapes: set[str] = field(default_factory=set)
    sample: list[str] = field(default_factory=list)
    min_length: int = 0  # of the filled values


@dataclass
class TableProfile:
    path: str
    description: str
    rows: int
    complete: bool  # False when the file has more rows than were sampled
    columns: list[ColumnProfile]


def _text(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, (dict, list)):
        return None
    return str(value).strip() or None


def shapes_of(value: str) -> set[str]:
    found = {name for name, pattern in SHAPES.items() if pattern.fullmatch(value)}
    if value.lower() in TRUE_WORDS | FALSE_WORDS:
        found.add("boolean")
    try:
        parse_iso8601(value)
        found.add("date")
    except InvalidDate:
        pass
    return found


def profile_table(table: Table, limit: int = SAMPLE_ROWS) -> TableProfile:
    """Read up to ``limit`` rows of ``table`` and profile each column."""
    values: list[list[str]] = [[] for _ in table.columns]
    rows = 0
    iterator = iter(table.rows)
    for _, cells in itertools.islice(iterator, limit):
        rows += 1
        for index, cell in enumerate(cells):
            text = _text(cell)
            if text is not None:
                values[index].append(text)
    complete = next(iterator, None) is None
    columns = [
        _profile(column.name, found)
        for column, found in zip(table.columns, values, strict=True)
    ]
    return TableProfile(table.path, table.description, rows, complete, columns)


def _profile(name: str, values: list[str]) -> ColumnProfile:
    profile = ColumnProfile(name, filled=len(values), unique=len(set(values)))
    profile.min_length = min((len(value) for value in values), default=0)
    profile.sample = list(dict.fromkeys(values))[:3]
    distinct = list(dict.fromkeys(values))[:200]
    if distinct:
        profile.shapes = set.intersection(*(shapes_of(value) for value in distinct))
    return profile
