"""Turn the rows of a table into entities, and relationships named by columns.

Two layouts are read. J1's own CSV asset format has ``_key``, ``_type`` and
``_class`` columns (any other ``_`` column is J1 metadata and is skipped), so it
needs no mapping. Any other table needs a key (``--key``), a ``_type`` and a
class, from the options or a mapping file.

Empty values are left out: J1 stores a property set to null as no property.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from j1gitops.errors import LoadError, UsageError
from j1gitops.importers import datamodel
from j1gitops.importers.fields import (
    Field,
    Source,
    check_property_names,
    logical_columns,
    make_field,
    property_sources,
    require_columns,
)
from j1gitops.importers.mapping import Mapping, RelationshipRule
from j1gitops.importers.patterns import Pattern, PatternError, column_or_pattern
from j1gitops.importers.rows import (
    MEMO_SIZE,
    MEMO_TRIAL_ROWS,
    BoundPattern,
    converted,
    key_text,
    raw_value,
    stop_caching_unique,
)
from j1gitops.importers.table import Table, quote_list
from j1gitops.inventory.writer import Emitter
from j1gitops.validation import schemas

ENTITY_COLUMNS = ("_key", "_type", "_class")


def _class_value(classes: tuple[str, ...]) -> str | list[str]:
    return classes[0] if len(classes) == 1 else list(classes)


def check_classes(classes: tuple[str, ...], where: str) -> None:
    """Raise UsageError for a class that the data model does not define."""
    for name in classes:
        if datamodel.is_known_class(name):
            continue
        hint = schemas.closest_name(name, schemas.class_names())
        suggestion = f"did you mean {hint!r}? " if hint else ""
        raise UsageError(
            f"{where}: unknown class {name!r}; {suggestion}run 'j1gitops schemas' "
            "for the list of classes"
        )


def check_verb(verb: str, where: str) -> str:
    """Return the J1 relationship verb that ``verb`` names, in upper case."""
    if verb.upper() in schemas.verbs():
        return verb.upper()
    hint = schemas.closest_name(verb, schemas.verbs())
    suggestion = f"; did you mean {hint!r}?" if hint else ""
    raise LoadError(f"{where}: unknown relationship verb {verb!r}{suggestion}")


class EntityImporter:
    """Read a table's rows as entities; collect relationships as rows pass.

    Every check of the header runs in the constructor. ``entities()`` then
    yields one entity per row, as the YAML text the writer would make of it,
    and appends to ``relationships``.
    """

    def __init__(self, table: Table, mapping: Mapping):
        self.table = table
        self.mapping = mapping
        self.sources = logical_columns(table)
        self.relationships: list[dict] = []
        self.entity_count = 0
        self.j1_format = "_key" in self.sources
        self.skipped_columns = self._metadata_columns()
        self.key = BoundPattern(self._key_pattern(), self.sources)
        self.type_value = self._type_value()
        self.classes = self._fixed_classes()
        self.rules = [self._rule(rule) for rule in mapping.relationships]
        reserved = set(ENTITY_COLUMNS) | set(self.skipped_columns)
        reserved |= {rule.column for rule, _, _ in self.rules}
        self.property_columns = property_sources(table, self.sources, mapping, reserved)
        self.sets = self._set_patterns()
        self.emitter = Emitter()
        self.type_text = (
            self.emitter.entry_text("_type", self.type_value)
            if self.type_value
            else None
        )
        self.plans: dict[tuple[str, ...], tuple[str, list[Field]]] = {}
        if self.classes is not None:
            self._plan_for(self.classes)

    def _metadata_columns(self) -> list[str]:
        if not self.j1_format:
            return []
        return [
            name
            for name in self.sources
            if name.startswith("_")
            and name not in ENTITY_COLUMNS
            and name not in self.mapping.properties
        ]

    def _key_pattern(self) -> Pattern:
        if self.j1_format:
            if self.mapping.key is not None:
                raise UsageError(
                    f"{self.table.path} has a _key column, so it needs no --key; "
                    "remove --key (or 'key' from the mapping file)"
                )
            return Pattern("_key", (("", "_key"),))
        if self.mapping.key is None:
            raise UsageError(
                f"missing --key: name the column of {self.table.path} that identifies "
                "each row, or a pattern such as '{site}-{serial}'; the columns are "
                f"{quote_list(self.sources)}"
            )
        try:
            pattern = column_or_pattern(self.mapping.key)
        except PatternError as exc:
            raise UsageError(f"invalid --key: {exc}") from None
        if pattern.is_constant:
            raise UsageError(
                f"invalid --key {self.mapping.key!r}: the pattern names no column, "
                "so every row would get the same _key; add a {column}"
            )
        require_columns(self.table, pattern.columns, self.sources, "key")
        return pattern

    def _type_value(self) -> str | None:
        has_column = self.j1_format and "_type" in self.sources
        if has_column and self.mapping.type is not None:
            raise UsageError(
                f"{self.table.path} has a _type column and --type was given too; "
                "remove one of them"
            )
        if not has_column and not self.mapping.type:
            raise UsageError(
                "missing --type: give the _type of the entities, such as "
                "acme_laptop (J1 names types vendor_resource, in snake_case)"
            )
        return None if has_column else self.mapping.type

    def _fixed_classes(self) -> tuple[str, ...] | None:
        has_column = self.j1_format and "_class" in self.sources
        if has_column and self.mapping.classes:
            raise UsageError(
                f"{self.table.path} has a _class column and --class was given too; "
                "remove one of them"
            )
        if has_column:
            return None
        if not self.mapping.classes:
            raise UsageError(
                "missing --class: give the data-model class of the entities, such "
                "as Device (run 'j1gitops classify FILE' for suggestions)"
            )
        check_classes(self.mapping.classes, "--class")
        return self.mapping.classes

    def _rule(
        self, rule: RelationshipRule
    ) -> tuple[RelationshipRule, str, BoundPattern]:
        require_columns(self.table, (rule.column,), self.sources, "relationship")
        verb = check_verb(rule.verb, rule.origin)
        try:
            # Without a key pattern, the column's value is the key as written,
            # whatever characters the column's name contains.
            pattern = (
                column_or_pattern(rule.key)
                if rule.key
                else Pattern(rule.column, (("", rule.column),))
            )
        except PatternError as exc:
            raise LoadError(f"{rule.origin}: {exc}") from None
        require_columns(self.table, pattern.columns, self.sources, "relationship key")
        return rule, verb, BoundPattern(pattern, self.sources)

    def _set_patterns(self) -> dict[str, Any]:
        patterns: dict[str, Any] = {}
        for prop, value in self.mapping.set.items():
            if prop in self.property_columns:
                raise UsageError(
                    f"property {prop!r} comes from column "
                    f"{self.property_columns[prop].name!r} and from --set (or 'set'); "
                    "remove one of them"
                )
            if isinstance(value, str):
                try:
                    value = column_or_pattern(value) if "{" in value else value
                except PatternError as exc:
                    raise UsageError(f"invalid --set {prop}: {exc}") from None
            if isinstance(value, Pattern):
                require_columns(self.table, value.columns, self.sources, "--set")
                value = BoundPattern(value, self.sources)
            patterns[prop] = value
        check_property_names(self.table, {prop: prop for prop in patterns})
        return patterns

    def _plan_for(self, classes: tuple[str, ...]) -> tuple[str, list[Field]]:
        """Return the ``_class`` entry's text and the fields, sorted by property,
        for entities of ``classes``; plans are made once per set of classes."""
        plan = self.plans.get(classes)
        if plan is None:
            plan = self.plans[classes] = self._plan(classes)
        return plan

    def _plan(self, classes: tuple[str, ...]) -> tuple[str, list[Field]]:
        types = datamodel.property_types(classes)
        fields = [
            make_field(prop, source, self.mapping, types)
            for prop, source in self.property_columns.items()
        ]
        for prop, value in self.sets.items():
            field = make_field(prop, Source(prop, ()), self.mapping, types)
            field.value = value
            fields.append(field)
        fields.sort(key=lambda field: field.property)
        return self.emitter.entry_text("_class", _class_value(classes)), fields

    def entities(self) -> Iterator[str]:
        """Yield each row's entity as YAML text (``Emitter.entry_text``); raise
        LoadError at the first bad value."""
        first_row: dict[str, str] = {}
        for label, cells in self.table.rows:
            key = self.key.render(self.table, label, cells)
            if key in first_row:
                raise self._duplicate(label, key, first_row[key])
            first_row[key] = label
            yield self._entity_text(label, cells, key)
            if self.rules:
                self._relate(label, cells, key)
            self.entity_count += 1
            if self.entity_count == MEMO_TRIAL_ROWS:
                for _, fields in self.plans.values():
                    stop_caching_unique(fields)

    def _entity_text(self, label: str, cells: list, key: str) -> str:
        classes = self.classes or self._row_classes(label, cells)
        class_text, fields = self._plan_for(classes)
        entry = self.emitter.entry_text
        type_text = self.type_text or entry(
            "_type", self._required(label, cells, "_type")
        )
        parts = [entry("_key", key, True), type_text, class_text]
        append = parts.append
        for field in fields:
            value = field.value
            if value is None:
                value = (
                    raw_value(field, cells)
                    if field.array_columns
                    else cells[field.index]
                )
                if value is None or value == "":
                    continue
            elif type(value) is BoundPattern:
                value = value.render(self.table, label, cells)
            text = field.lines.get(value) if type(value) is str else None
            append(text or self._entry(field, value, label))
        return "".join(parts)

    def _entry(self, field: Field, value: Any, label: str) -> str:
        """Return the YAML entry for a field's value, and remember it by the
        source text."""
        if field.passthrough and type(value) is str:
            typed = value
        else:
            typed = converted(field, value, self.table, label)
        text = self.emitter.entry_text(field.property, typed)
        if type(value) is str and field.cached and len(field.lines) < MEMO_SIZE:
            field.lines[value] = text
        return text

    def _cell(self, column: str, cells: list) -> Any:
        source = self.sources[column]
        if source.array:
            return None
        value = cells[source.indices[0]]
        return None if value == "" else value

    def _required(self, label: str, cells: list, column: str) -> str:
        value = self._cell(column, cells)
        if not isinstance(value, str):
            raise LoadError(
                f"{self.table.where(label, column)}: {column} is empty; every row "
                f"of J1's CSV format needs a {column}"
            )
        return value

    def _row_classes(self, label: str, cells: list) -> tuple[str, ...]:
        source = self.sources["_class"]
        values = [cells[i] for i in source.indices if cells[i] not in ("", None)]
        if not source.array and values:
            separator = self.mapping.list_separator
            values = [part.strip() for part in str(values[0]).split(separator)]
        classes = tuple(str(value) for value in values if value)
        if not classes:
            self._required(label, cells, "_class")
        check_classes(classes, self.table.where(label, "_class"))
        return classes

    def _relate(self, label: str, cells: list, key: str) -> None:
        for rule, verb, pattern in self.rules:
            raw = self._cell(rule.column, cells)
            if raw is None:
                continue
            items = _split(raw, self.mapping.list_separator) if rule.many else [raw]
            texts = (key_text(item, self.table, label) for item in items)
            for item in dict.fromkeys(texts):
                override = (rule.column, item)
                other = pattern.render(self.table, label, cells, override)
                ends = (key, other) if rule.direction == "forward" else (other, key)
                self.relationships.append(
                    {"_class": verb, "_fromEntityKey": ends[0], "_toEntityKey": ends[1]}
                )

    def _duplicate(self, label: str, key: str, first: str) -> LoadError:
        column = self.key.pattern.columns[0]
        return LoadError(
            f"{self.table.where(label, column)}: duplicate _key {key!r} (first at "
            f"{self.table.where(first)}); each row needs its own _key, so fix the "
            "value or use a key pattern such as '{site}-{serial}'"
        )


def _split(value: Any, separator: str) -> list:
    if isinstance(value, list):
        return value
    return [part.strip() for part in str(value).split(separator) if part.strip()]
