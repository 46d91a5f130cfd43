"""Read J1's CSV relationship format: ``_fromEntityKey``, ``_toEntityKey`` and a
verb in ``_class``, with optional ``_key``, ``_type`` and property columns.

Relationship properties have no data-model types, so values stay strings. A J1
data type token in the header (``count [number]``) or the mapping's ``types``
sets another kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from j1gitops.errors import LoadError, UsageError
from j1gitops.importers.entities import check_verb
from j1gitops.importers.fields import (
    logical_columns,
    make_field,
    property_sources,
    require_columns,
)
from j1gitops.importers.mapping import Mapping
from j1gitops.importers.rows import converted
from j1gitops.importers.table import Table

END_COLUMNS = ("_fromEntityKey", "_toEntityKey")
IDENTITY_COLUMNS = ("_key", "_type", "_class", *END_COLUMNS)


def is_relationship_table(table: Table) -> bool:
    return all(name in table.names for name in END_COLUMNS)


class RelationshipImporter:
    """Read a table's rows as relationships; ``entities()`` yields none, so that
    the importers share one interface."""

    def __init__(self, table: Table, mapping: Mapping):
        self.table = table
        self.mapping = mapping
        self.sources = logical_columns(table)
        self._reject_entity_options()
        require_columns(table, ("_class",), self.sources, "relationship verb")
        self.skipped_columns = [
            name
            for name in self.sources
            if name.startswith("_")
            and name not in IDENTITY_COLUMNS
            and name not in mapping.properties
        ]
        reserved = set(IDENTITY_COLUMNS) | set(self.skipped_columns)
        columns = property_sources(table, self.sources, mapping, reserved)
        arrays = [source.name for source in columns.values() if source.array]
        if arrays:
            raise LoadError(
                f"{table.where(table.header_label, arrays[0])}: relationship "
                f"properties cannot be arrays, because J1 stores only strings, "
                f"numbers and booleans on relationships; drop the {arrays[0]}.N columns"
            )
        self.fields = [make_field(p, s, mapping, {}) for p, s in columns.items()]
        self.relationships: list[dict] = []
        self.entity_count = 0

    def _reject_entity_options(self) -> None:
        conflicting = [
            option
            for option, value in (
                ("--class", self.mapping.classes),
                ("--type", self.mapping.type),
                ("--key", self.mapping.key),
                ("--set", self.mapping.set),
                ("relationships", self.mapping.relationships),
            )
            if value
        ]
        if conflicting:
            raise UsageError(
                f"{self.table.path} is a relationship file (it has _fromEntityKey "
                f"and _toEntityKey columns), which takes no {', '.join(conflicting)}; "
                "remove them"
            )

    def entities(self) -> Iterator[dict]:
        self._read_rows()
        yield from ()

    def _read_rows(self) -> None:
        first_row: dict[str, str] = {}
        for label, cells in self.table.rows:
            relationship = self._relationship(label, cells)
            key = relationship.get("_key")
            if key is not None and key in first_row:
                raise LoadError(
                    f"{self.table.where(label, '_key')}: duplicate relationship _key "
                    f"{key!r} (first at {self.table.where(first_row[key])}); give each "
                    "relationship its own _key"
                )
            if key is not None:
                first_row[key] = label
            self.relationships.append(relationship)

    def _relationship(self, label: str, cells: list) -> dict[str, Any]:
        verb = self._cell(label, cells, "_class", required=True)
        relationship = {"_class": check_verb(verb, self.table.where(label, "_class"))}
        for column in END_COLUMNS:
            relationship[column] = self._cell(label, cells, column, required=True)
        for column in ("_key", "_type"):
            value = self._cell(label, cells, column, required=False)
            if value is not None:
                relationship[column] = value
        for field in self.fields:
            value = cells[field.indices[0]]
            if value not in ("", None):
                relationship[field.property] = converted(
                    field, value, self.table, label
                )
        return relationship

    def _cell(self, label: str, cells: list, column: str, required: bool) -> Any:
        source = self.sources.get(column)
        value = cells[source.indices[0]] if source is not None else None
        if value in ("", None):
            if required:
                raise LoadError(
                    f"{self.table.where(label, column)}: {column} is empty; every "
                    f"relationship row needs a {column}"
                )
            return None
        return value if isinstance(value, str) else str(value)
