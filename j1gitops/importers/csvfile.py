"""Read a CSV export into a ``Table``.

The rules, in the order they apply:

- UTF-8 with or without a byte-order mark, unless an encoding is given;
- the delimiter, when not given, is the one of ``,`` ``;`` tab ``|`` that splits
  the first records into the same number of fields, the most fields winning;
- quoted fields may hold delimiters, quotes (doubled) and newlines, and bad
  quoting is an error rather than a guess;
- the header is the first non-blank line and is checked before any row: an empty
  or duplicate column name is an error;
- blank lines, and lines of nothing but delimiters, are skipped;
- every row must have as many fields as the header;
- surrounding spaces are stripped from names and values.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from itertools import islice

from j1gitops.errors import LoadError, UsageError
from j1gitops.importers.table import (
    BATCH_ROWS,
    Column,
    RowBatch,
    Table,
    parse_header_name,
)
from j1gitops.inventory.yamlload import decode_text, encoding_of_mark

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SNIFF_RECORDS = 20
DELIMITER_ALIASES = {"tab": "\t", "\\t": "\t"}
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
# Line breaks that str.splitlines splits at besides \r and \n. A substring search
# for each is faster than one regular expression for all of them.
_OTHER_LINE_BREAKS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
UTF8_NAMES = {"utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig"}


def read_bytes(path: str, display: str | None = None) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise LoadError(f"cannot read {display or path}: {exc.strerror}") from None


def decode(data: bytes, path: str, encoding: str | None) -> str:
    """Decode ``data``: by its byte-order mark when it has one, else as UTF-8
    unless ``encoding`` names another."""
    if encoding is None:
        encoding = encoding_of_mark(data)
    if encoding is None or encoding.lower() in UTF8_NAMES:
        if b"\x00" in data[:4096]:
            raise LoadError(
                f"{path}: the file contains NUL bytes, so it is probably UTF-16 or "
                "UTF-32 without a byte-order mark; pass --encoding utf-16 (or "
                "utf-16-be, utf-32), or save it as UTF-8"
            )
        text, problem = decode_text(data, path)
        if problem is not None:
            raise LoadError(
                f"{problem.location}: {problem.message}, or pass --encoding"
            )
        return text
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UsageError(
            f"unknown encoding {encoding!r}; use a Python codec name such as "
            "utf-8, cp1252 or latin-1"
        ) from None
    try:
        text = data.decode(encoding)
    except LookupError:
        # Codecs such as rot13 and hex exist but do not decode bytes to text.
        raise UsageError(
            f"invalid encoding {encoding!r}: it is not a text encoding; use one "
            "such as utf-8, cp1252 or latin-1"
        ) from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise LoadError(
            f"{path}:{line}: byte 0x{byte} is invalid in {encoding}; pass the "
            "file's real encoding with --encoding"
        ) from None
    return text.removeprefix("\ufeff")


def split_lines(text: str) -> Iterable[str]:
    """Return the lines of ``text`` with their line ends, as a file opened with
    ``newline=""`` would: at ``\r\n``, ``\r`` or ``\n`` only.

    ``str.splitlines`` also splits at form feeds, separators and other line
    breaks that CSV keeps inside a line, so it is used only on text without them.
    Unlike ``io.StringIO``, neither way copies the text into a buffer of up to
    four bytes per character.
    """
    if not any(character in text for character in _OTHER_LINE_BREAKS):
        return text.splitlines(keepends=True)
    return (match.group() for match in _LINE.finditer(text))


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first records most consistently."""
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        counts = _field_counts(text, delimiter)
        if counts and len(set(counts)) == 1 and counts[0] > best_fields:
            best, best_fields = delimiter, counts[0]
    return best


def _field_counts(text: str, delimiter: str) -> list[int]:
    reader = csv.reader(split_lines(text), delimiter=delimiter)
    counts: list[int] = []
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                counts.append(len(record))
            if len(counts) >= SNIFF_RECORDS:
                break
    except csv.Error:
        return []
    return counts


_EXCEL_SEPARATOR = re.compile(r"sep=(.)\r?\n")
# Python's csv module rejects fields over 128 KiB by default. A description
# pasted from a document can pass that, so the limit is raised to 10 MB, which is
# above J1's 5 MB upload limit for a whole object.
csv.field_size_limit(10_000_000)


def read_csv(
    path: str,
    delimiter: str | None = None,
    encoding: str | None = None,
    display: str | None = None,
) -> Table:
    """Read the CSV file at ``path``; rows are produced lazily, header checked first.

    Messages name the file as ``display`` when given, else as ``path``.
    """
    display_path = display or path
    delimiter = DELIMITER_ALIASES.get(delimiter, delimiter)
    if delimiter is not None and len(delimiter) != 1:
        raise UsageError(
            f"invalid --delimiter {delimiter!r}; give one character, such as ';' "
            "(write \\t or 'tab' for a tab)"
        )
    text = decode(read_bytes(path, display_path), display_path, encoding)
    lines = split_lines(text)
    # Excel writes and reads a first line "sep=;" that names the delimiter.
    excel = _EXCEL_SEPARATOR.match(text)
    if excel:
        delimiter = delimiter or excel.group(1)
    chosen = delimiter or sniff_delimiter(text[excel.end() if excel else 0 :][:65536])
    reader = csv.reader(lines, delimiter=chosen, strict=True)
    if excel:
        next(reader)  # read as a record, so that line numbers stay the file's
    header_line, header = _read_header(reader, display_path, chosen)
    columns = check_header(header, display_path, header_line)
    label = DELIMITER_NAMES.get(chosen, repr(chosen))
    return Table(
        path=display_path,
        columns=columns,
        batches=_batches(
            reader, display_path, [column.name for column in columns], chosen
        ),
        header_label=str(header_line),
        description=f"{label}-delimited CSV",
        all_strings=True,
    )


def _read_header(reader, path: str, delimiter: str) -> tuple[int, list[str]]:
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            raise LoadError(
                f"{path}: the file is empty; a CSV file needs a header line and at "
                "least one row"
            ) from None
        except csv.Error as exc:
            raise _csv_error(path, start, exc, delimiter) from None
        if any(cell.strip() for cell in record):
            return start, record


def check_header(header: list[str], path: str, line: int) -> list[Column]:
    """Raise LoadError for an empty or duplicate column name."""
    columns = [parse_header_name(name) for name in header]
    first_seen: dict[str, int] = {}
    for number, column in enumerate(columns, start=1):
        if not column.name:
            raise LoadError(
                f"{path}:{line}: column {number} has an empty name in the header; "
                "name the column, or remove it and its values"
            )
        if column.name in first_seen:
            raise LoadError(
                f"{path}:{line}:{column.name}: duplicate column name {column.name!r} "
                f"(columns {first_seen[column.name]} and {number}); rename one of them"
            )
        first_seen[column.name] = number
    return columns


def _batches(reader, path: str, names: list[str], delimiter: str) -> Iterator[RowBatch]:
    """Yield the rows in batches, with surrounding spaces stripped, skipping
    blank lines. At a row of the wrong width or bad quoting, yield the rows
    before it, then raise LoadError, so that an error in an earlier row still
    comes first."""
    width = len(names)
    start = reader.line_num + 1
    strip = str.strip
    while True:
        before = reader.line_num
        starts: list[int] = []
        records: list[list[str]] = []
        failure: LoadError | None = None
        try:
            for record in islice(reader, BATCH_ROWS):
                if len(record) == width:
                    starts.append(start)
                    records.append(record)
                elif record and any(map(strip, record)):
                    cells = list(map(strip, record))
                    failure = _width_error(path, start, cells, names, delimiter)
                    break
                start = reader.line_num + 1
        except csv.Error as exc:
            failure = _csv_error(path, start, exc, delimiter)
        if records:
            yield _stripped(list(map(str, starts)), records)
        if failure is not None:
            raise failure
        if reader.line_num == before:
            return


def _stripped(labels: list[str], records: list[list[str]]) -> RowBatch:
    """Return the batch with the values stripped, by column, without the blank
    rows (empty or spaces in every column)."""
    columns = [tuple(map(str.strip, column)) for column in zip(*records, strict=True)]
    if all("" in column for column in columns):
        filled = [i for i, cells in enumerate(zip(*columns, strict=True)) if any(cells)]
        if len(filled) < len(labels):
            labels = [labels[i] for i in filled]
            columns = [tuple(column[i] for i in filled) for column in columns]
    return labels, columns


def _width_error(
    path: str, line: int, cells: list[str], names: list[str], delimiter: str
) -> LoadError:
    kind = DELIMITER_NAMES.get(delimiter, repr(delimiter))
    if len(cells) > len(names):
        detail = f"the first extra value is {cells[len(names)]!r}"
    else:
        detail = f"no value for column {names[len(cells)]!r} onwards"
    return LoadError(
        f"{path}:{line}: the row has {_count(len(cells), 'field')} but the header "
        f"has {_count(len(names), 'column')} ({detail}, read as {kind}-delimited); quote values "
        "that contain the delimiter, or pass --delimiter"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _csv_error(path: str, line: int, exc: csv.Error, delimiter: str) -> LoadError:
    name = DELIMITER_NAMES.get(delimiter, repr(delimiter))
    if "field larger than field limit" in str(exc):
        return LoadError(
            f"{path}:{line}: a field is longer than 10,000,000 characters, more than "
            "J1 stores in one entity; shorten it (or check that its quotes close)"
        )
    return LoadError(
        f"{path}:{line}: invalid CSV ({exc}) when read as {name}-delimited; put "
        'quotes around the whole value and double any quote inside it ("")'
    )
