"""Plan, from the header alone, which property each column becomes and how.

Everything here runs before the first row is read, so that a missing column, an
invalid property name or a clash between two columns is reported once, at the
header, and not in the middle of the file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from j1gitops.errors import LoadError
from j1gitops.importers.datamodel import PropertyType
from j1gitops.importers.mapping import Mapping
from j1gitops.importers.table import Table, quote_list
from j1gitops.importers.values import Converter, converter_for, kind_label

# J1's property-name rule (GraphObject ``propertyNames``) without the leading
# "_", which J1 reserves for its own fields.
PROPERTY_NAME = re.compile(r"(?:tag\.)?[A-Za-z0-9. -]+", re.ASCII)
# J1's CSV form of an array: columns "tags.0", "tags.1", ...
_ARRAY_COLUMN = re.compile(r"(.+)\.([0-9]+)")


@dataclass
class Source:
    """A logical column: one column, or J1's ``name.0``, ``name.1`` ... columns."""

    name: str
    indices: tuple[int, ...]
    kind: str | None = None  # forced by a J1 data type token in the header
    array: bool = False  # True for the name.0, name.1 form


@dataclass
class Field:
    """One property read from the row, with its converter and a memo of results."""

    property: str
    column: str
    indices: tuple[int, ...]
    array_columns: bool
    kind: str
    item_kind: str
    convert: Converter
    # Typed values by source text, and the entry's YAML text by source text.
    memo: dict[Any, Any] = field(default_factory=dict)
    lines: dict[str, str] = field(default_factory=dict)
    # For a ``set`` property: its constant value, or a pattern bound to the
    # table's columns; None for a property read from a column.
    value: Any = None
    cached: bool = True  # False once the values turn out to be mostly distinct
    # The first column's cell index (-1 for a ``set`` property, which has none),
    # and whether text values are kept as they are (string and untyped kinds).
    index: int = field(init=False)
    passthrough: bool = field(init=False)

    def __post_init__(self) -> None:
        self.index = self.indices[0] if self.indices else -1
        self.passthrough = self.kind in ("string", "any")

    @property
    def label(self) -> str:
        return kind_label(self.kind, self.item_kind)


def logical_columns(table: Table) -> dict[str, Source]:
    """Return the table's columns by name, with J1's ``name.0``, ``name.1``
    columns grouped into one array column ``name``."""
    names = set(table.names)
    groups: dict[str, list[tuple[int, int]]] = {}
    for index, name in enumerate(table.names):
        match = _ARRAY_COLUMN.fullmatch(name)
        if match and f"{match.group(1)}.0" in names:
            groups.setdefault(match.group(1), []).append((int(match.group(2)), index))
    sources: dict[str, Source] = {}
    for index, column in enumerate(table.columns):
        match = _ARRAY_COLUMN.fullmatch(column.name)
        base = match.group(1) if match else None
        if base is not None and base in groups:
            if base not in sources:
                ordered = tuple(i for _, i in sorted(groups[base]))
                sources[base] = Source(base, ordered, column.kind, array=True)
            continue
        if column.name in groups:
            raise LoadError(
                f"{table.where(table.header_label, column.name)}: column "
                f"{column.name!r} clashes with the array columns {column.name}.0, "
                f"{column.name}.1, ...; rename or remove one of them"
            )
        sources[column.name] = Source(column.name, (index,), column.kind)
    return sources


def suggest_name(column: str) -> str:
    """Turn a column name such as ``owner_email`` into ``ownerEmail``.

    J1 property names are ASCII, so accents are dropped first (``Gerätename``
    becomes ``geratename``) rather than splitting the word at them.
    """
    decomposed = unicodedata.normalize("NFKD", column)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = [word for word in re.split(r"[^A-Za-z0-9]+", ascii_only) if word]
    if not words:
        return "property"
    head, *rest = words
    return head[0].lower() + head[1:] + "".join(w[0].upper() + w[1:] for w in rest)


def check_property_names(table: Table, names: dict[str, str]) -> None:
    """Raise LoadError naming every column whose property name J1 rejects.

    ``names`` maps property names to the column they come from.
    """
    bad = [
        column for prop, column in names.items() if not PROPERTY_NAME.fullmatch(prop)
    ]
    if not bad:
        return
    fixes = " ".join(f"--map '{column}={suggest_name(column)}'" for column in bad[:3])
    if len(bad) == 1:
        problem = f"column {quote_list(bad)} is not a valid J1 property name"
        pronoun = "it"
    else:
        problem = f"columns {quote_list(bad)} are not valid J1 property names"
        pronoun = "them"
    raise LoadError(
        f"{table.where(table.header_label)}: {problem} (J1 allows letters, digits, "
        "'.', '-' and spaces, and reserves a leading '_'); map "
        f"{pronoun} to another name, such as {fixes}, or drop {pronoun} with "
        "--map 'NAME='"
    )


def choose_kind(
    prop: str, source: Source, mapping: Mapping, types: dict[str, PropertyType]
) -> tuple[str, str]:
    """Return the kind and item kind of a property: from the mapping's ``types``,
    else a data type token in the header, else the data model. A property that
    none of them types is ``any``: its values are kept as the source wrote them
    (text for CSV, JSON's own types for JSON)."""
    known = types.get(prop)
    item_kind = known.item_kind if known is not None else "string"
    kind = mapping.types.get(prop) or source.kind
    if kind is None:
        kind = known.kind if known is not None else "any"
    if source.array and kind != "array":
        kind, item_kind = "array", "string" if kind == "any" else kind
    return kind, item_kind


def make_field(
    prop: str, source: Source, mapping: Mapping, types: dict[str, PropertyType]
) -> Field:
    kind, item_kind = choose_kind(prop, source, mapping, types)
    return Field(
        property=prop,
        column=source.name,
        indices=source.indices,
        array_columns=source.array,
        kind=kind,
        item_kind=item_kind,
        convert=converter_for(kind, item_kind, mapping.list_separator),
    )


def property_sources(
    table: Table, sources: dict[str, Source], mapping: Mapping, reserved: set[str]
) -> dict[str, Source]:
    """Return the property that each non-reserved column becomes, with its source.

    A column listed under ``properties`` takes the name given there (null drops
    it); any other column keeps its own name unless ``unmapped`` is ``drop``.
    """
    _check_mapped_columns(table, sources, mapping)
    chosen: dict[str, Source] = {}
    for name, source in sources.items():
        if name in mapping.properties:
            prop = mapping.properties[name]
        elif name in reserved or mapping.unmapped == "drop":
            prop = None
        else:
            prop = name
        if prop is None:
            continue
        if prop in chosen:
            raise LoadError(
                f"{table.where(table.header_label)}: columns {chosen[prop].name!r} and "
                f"{name!r} both map to property {prop!r}; map one of them elsewhere"
            )
        chosen[prop] = source
    check_property_names(table, {prop: s.name for prop, s in chosen.items()})
    return chosen


def _check_mapped_columns(
    table: Table, sources: dict[str, Source], mapping: Mapping
) -> None:
    missing = [column for column in mapping.properties if column not in sources]
    if missing:
        raise LoadError(
            f"{table.where(table.header_label)}: mapped column {quote_list(missing)} "
            f"is not in the header; the columns are {quote_list(sources)}"
        )


def require_columns(table: Table, columns: tuple[str, ...], sources, what: str) -> None:
    """Raise LoadError unless every column in ``columns`` is in the header."""
    missing = [column for column in columns if column not in sources]
    if missing:
        raise LoadError(
            f"{table.where(table.header_label)}: {what} column "
            f"{quote_list(missing)} is not in the header; the columns are "
            f"{quote_list(sources)}"
        )
