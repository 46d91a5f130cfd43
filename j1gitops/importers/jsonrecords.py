"""Read the records of a JSON document (an API dump) into a ``Table``.

The records are the top-level array, or the array at a dotted path such as
``data.items`` (a number in the path indexes an array). Nested objects are
flattened to dotted column names (``os.name``), which are valid J1 property
names; arrays stay lists.

Values that J1 cannot store, or that reading would lose, are errors that name
the record and field. These are a key repeated in one object, two fields that
flatten to one name, ``NaN``, ``Infinity`` or a number too large for a float,
and an array of mixed primitive types.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from j1gitops.errors import LoadError
from j1gitops.importers.csvfile import decode, read_bytes
from j1gitops.importers.table import Column, Table, batches_of, quote_list


def load_json(
    path: str,
    encoding: str | None = None,
    display: str | None = None,
    mark_problems: bool = False,
) -> Any:
    """Parse the JSON file at ``path``; messages name it ``display`` when given.

    With ``mark_problems``, objects are ``JsonObject`` with their repeated keys,
    and non-finite numbers are ``NonFinite``, for ``flatten`` to reject.
    """
    display_path = display or path
    text = decode(read_bytes(path, display_path), display_path, encoding)
    hooks: dict[str, Any] = {}
    if mark_problems:
        hooks = {
            "object_pairs_hook": _json_object,
            "parse_constant": NonFinite,
            "parse_float": _parse_float,
        }
    try:
        return json.loads(text, **hooks)
    except json.JSONDecodeError as exc:
        raise LoadError(
            f"{display_path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}; fix the "
            "document, or export it again"
        ) from None
    except RecursionError:
        raise too_deep(display_path) from None


class JsonObject(dict):
    """A JSON object, with the keys that the document repeats in it."""

    duplicates: tuple[str, ...] = ()


class NonFinite:
    """A number that JSON can write but J1 cannot store: ``NaN``, ``Infinity``,
    ``-Infinity``, or a literal such as ``1e400`` that overflows a float."""

    def __init__(self, text: str):
        self.text = text


class RecordProblem(ValueError):
    """A field of a record that cannot be imported; the message names the field."""


def _json_object(pairs: list[tuple[str, Any]]) -> JsonObject:
    # json.loads keeps only the last value of a repeated key, so the repeated
    # keys are recorded for the error that names their record.
    obj = JsonObject()
    repeated = []
    for key, value in pairs:
        if key in obj:
            repeated.append(key)
        obj[key] = value
    if repeated:
        obj.duplicates = tuple(repeated)
    return obj


def _parse_float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


def too_deep(path: str) -> LoadError:
    """Return the error for a document nested deeper than Python's recursion
    limit (about 1,000 levels) allows reading."""
    return LoadError(
        f"{path}: the JSON is nested too deeply to read (arrays or objects inside "
        "each other about 1,000 levels deep); flatten the document"
    )


def find_records(document: Any, records_path: str | None, path: str) -> list:
    """Return the array of records at ``records_path`` (dotted) in ``document``."""
    node = document
    walked: list[str] = []
    for segment in (records_path or "").split(".") if records_path else []:
        node = _step(node, segment, walked, path)
        walked.append(segment)
    if isinstance(node, list):
        return node
    where = ".".join(walked) or "the top level"
    hint = _candidate_paths(node, walked)
    suggestion = f"; arrays found: {quote_list(hint)}" if hint else ""
    raise LoadError(
        f"{path}: {where} is {_a(_kind(node))}, not an array of records; pass "
        f"--records with the dotted path of the array{suggestion}"
    )


def _step(node: Any, segment: str, walked: list[str], path: str) -> Any:
    where = ".".join(walked) or "the top level"
    if isinstance(node, dict) and segment in node:
        if segment in getattr(node, "duplicates", ()):
            raise LoadError(
                f"{path}: {where} has the key {segment!r} (from --records) more "
                "than once; keep one of them"
            )
        return node[segment]
    if isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
        return node[int(segment)]
    if isinstance(node, dict):
        known = quote_list(sorted(node))
        raise LoadError(
            f"{path}: {where} has no key {segment!r} (from --records); its keys are {known}"
        )
    raise LoadError(
        f"{path}: cannot take {segment!r} (from --records) of {where}, which is "
        f"{_a(_kind(node))}; check the dotted path"
    )


def _candidate_paths(node: Any, walked: list[str], depth: int = 3) -> list[str]:
    """Return the dotted paths of arrays of objects under ``node``, a few levels deep."""
    if not isinstance(node, dict) or depth == 0:
        return []
    found = []
    for key, value in node.items():
        child_path = walked + [key]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            found.append(".".join(child_path))
        else:
            found.extend(_candidate_paths(value, child_path, depth - 1))
    return found


def flatten(record: dict, prefix: str = "") -> dict[str, Any]:
    """Flatten nested objects to dotted keys; lists and scalars are kept.

    Raises RecordProblem for a repeated key, two fields that flatten to one
    name, a non-finite number, or an array of mixed primitive types.
    """
    flat: dict[str, Any] = {}
    origins: dict[str, str] = {}
    _flatten_into(record, prefix, (), flat, origins)
    return flat


def _flatten_into(
    record: dict,
    prefix: str,
    parents: tuple[str, ...],
    flat: dict[str, Any],
    origins: dict[str, str],
) -> None:
    for key in getattr(record, "duplicates", ()):
        raise RecordProblem(
            f"{prefix}{key}: the key {key!r} appears more than once in one object, "
            "and only the last value would be kept; remove or rename the others"
        )
    for key, value in record.items():
        name = f"{prefix}{key}"
        keys = parents + (key,)
        if isinstance(value, dict) and value:
            _flatten_into(value, f"{name}.", keys, flat, origins)
            continue
        origin = " > ".join(repr(part) for part in keys)
        if name in flat:
            raise RecordProblem(
                f"{name}: the fields {origins[name]} and {origin} both flatten to "
                f"{name!r}, so one value would be lost; rename one of them"
            )
        _check_value(name, value)
        flat[name] = value
        origins[name] = origin


def _check_value(name: str, value: Any) -> None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, NonFinite):
            raise RecordProblem(
                f"{name}: the number {item.text} is not finite (NaN, Infinity, or "
                "too large for a 64-bit float), and J1 stores only finite numbers; "
                "write a finite number, or a string"
            )
    if not isinstance(value, list):
        return
    # Nested objects and lists inside arrays are rejected when the value is
    # converted, with a hint to drop the field, so only primitives count here.
    kinds = {
        _kind(item)
        for item in value
        if item is not None and not isinstance(item, (dict, list))
    }
    if len(kinds) > 1:
        raise RecordProblem(
            f"{name}: the array mixes {' and '.join(sorted(kinds))} items, but J1 "
            "stores arrays of one primitive type only; make every item the same type"
        )


def read_json_records(
    path: str, records_path: str | None = None, encoding: str | None = None
) -> Table:
    """Read the records of the JSON file at ``path`` as a table."""
    document = load_json(path, encoding, mark_problems=True)
    records = find_records(document, records_path, path)
    base = records_path or ""
    if not records:
        raise LoadError(
            f"{path}: {base or 'the top-level array'} is empty, so there are no "
            "rows to import; check the file and --records"
        )
    flattened = []
    for index, record in enumerate(records):
        label = f"{base}[{index}]"
        if not isinstance(record, dict):
            raise LoadError(
                f"{path}:{label}: the record is {_a(_kind(record))}, not an object; "
                "point --records at an array of objects"
            )
        try:
            flattened.append((label, flatten(record)))
        except RecordProblem as exc:
            raise LoadError(f"{path}:{label}:{exc}") from None
        except RecursionError:
            raise too_deep(f"{path}:{label}") from None
    names = _column_names(flat for _, flat in flattened)
    return Table(
        path=path,
        columns=[Column(name, None, name) for name in names],
        batches=batches_of(_rows(flattened, names)),
        header_label=f"{base}[0]" if base else "[0]",
        description="JSON records",
    )


def _column_names(records: Iterator[dict]) -> list[str]:
    names: dict[str, None] = {}
    for record in records:
        for name in record:
            names.setdefault(name, None)
    return list(names)


def _rows(flattened: list, names: list[str]) -> Iterator[tuple[str, list]]:
    for label, record in flattened:
        yield label, [record.get(name) for name in names]


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"
