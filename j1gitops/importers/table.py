"""Rows of an import source, whatever the file format: a header and its rows."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

# J1's CSV data type tokens, as J1's Custom File Transfer integration reads them
# at the end of a header name: "approvedOn [datetime]", "count[number]".
_TYPE_TOKEN = re.compile(r"^(.*?)\s*\[(datetime|boolean|number)\]$", re.IGNORECASE)
TOKEN_KINDS = {"datetime": "date", "boolean": "boolean", "number": "number"}


@dataclass
class Column:
    """One column: its name, and the kind that a data type token in the header
    forces (``date``, ``boolean`` or ``number``), if any."""

    name: str
    kind: str | None = None
    # The header text as written, for messages.
    header: str = ""


# Rows are read this many at a time, and a batch keeps them column by column.
# A small batch stays in the processor's cache between reading and converting.
# In one run of the CSV benchmark, 256 rows took 0.58 s, 2048 rows 0.63 s and
# 4096 rows 0.71 s.
BATCH_ROWS = 256
# The labels of a batch's rows, and one sequence of values per column.
RowBatch = tuple[Sequence[str], list[Sequence[Any]]]


@dataclass
class Table:
    """A header and its rows; each row is a label and one value per column.

    The rows come in batches of up to ``BATCH_ROWS``, column by column, because
    that is how the importers convert them. ``rows`` gives them one at a time.
    Either can be read once. For CSV the label is the line where the row starts and
    values are strings; for JSON it is the record's path (``items[3]``) and
    values are JSON values, ``None`` where a record lacks the field.
    """

    path: str
    columns: list[Column]
    batches: Iterator[RowBatch]
    # Where the header is, for messages about columns: a line number or a path.
    header_label: str = "1"
    # How the file was read, for messages: "';'-delimited CSV".
    description: str = ""
    # True when every value is a string, as in a CSV file.
    all_strings: bool = False
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.names = [column.name for column in self.columns]

    @property
    def rows(self) -> Iterator[tuple[str, Sequence[Any]]]:
        for labels, columns in self.batches:
            yield from zip(labels, zip(*columns, strict=True), strict=True)

    def where(self, row: str, column: str | None = None) -> str:
        """Return ``FILE:ROW`` or ``FILE:ROW:COLUMN`` for a message."""
        if column is None:
            return f"{self.path}:{row}"
        return f"{self.path}:{row}:{column}"


def batches_of(rows: Iterable[tuple[str, Sequence[Any]]]) -> Iterator[RowBatch]:
    """Group rows, each a label and its values, into batches."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, BATCH_ROWS)):
        labels, cells = zip(*chunk, strict=True)
        yield labels, list(zip(*cells, strict=True))


def parse_header_name(text: str) -> Column:
    """Split a header name from a trailing J1 data type token."""
    stripped = text.strip()
    match = _TYPE_TOKEN.match(stripped)
    if match is None or not match.group(1):
        return Column(stripped, None, text)
    return Column(match.group(1), TOKEN_KINDS[match.group(2).lower()], text)


def quote_list(names: Iterable[str], limit: int = 12) -> str:
    """Return names as a quoted, comma-separated list, cut after ``limit``."""
    names = list(names)
    shown = ", ".join(repr(name) for name in names[:limit])
    if len(names) > limit:
        shown += f" and {len(names) - limit} more"
    return shown
