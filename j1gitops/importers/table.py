"""Rows of an import source, whatever the file format: a header and its rows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
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


@dataclass
class Table:
    """A header and its rows; each row is a label and one value per column.

    For CSV the label is the line where the row starts and values are strings;
    for JSON it is the record's path (``items[3]``) and values are JSON values,
    ``None`` where a record lacks the field.
    """

    path: str
    columns: list[Column]
    rows: Iterable[tuple[str, list[Any]]]
    # Where the header is, for messages about columns: a line number or a path.
    header_label: str = "1"
    # How the file was read, for messages: "';'-delimited CSV".
    description: str = ""
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.names = [column.name for column in self.columns]

    def where(self, row: str, column: str | None = None) -> str:
        """Return ``FILE:ROW`` or ``FILE:ROW:COLUMN`` for a message."""
        if column is None:
            return f"{self.path}:{row}"
        return f"{self.path}:{row}:{column}"


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
