"""Turn the rows of a table into entities, and relationships named by columns.

Two layouts are read. J1's own CSV asset format has ``_key``, ``_type`` and
``_class`` columns (any other ``_`` column is J1 metadata and is skipped), so it
needs no mapping. Any other table needs a key (``--key``), a ``_type`` and a
class, from the options or a mapping file.

Empty values are left out: J1 stores a property set to null as no property.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from j1gitops.errors import J1GitOpsError, LoadError, UsageError
from j1gitops.importers import datamodel
from j1gitops.importers.columns import (
    BadValue,
    constant_entries,
    field_entries,
    text_entries,
)
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
    MEMO_TRIAL_ROWS,
    Batch,
    BoundPattern,
    RowError,
    key_text,
    raw_value,
    stop_caching_unique,
)
from j1gitops.importers.table import Table, quote_list
from j1gitops.inventory.writer import Emitter, UnwritableValue
from j1gitops.validation import schemas

ENTITY_COLUMNS = ("_key", "_type", "_class")


def _class_value(classes: tuple[str, ...]) -> str | list[str]:
    return classes[0] if len(classes) == 1 else list(classes)


def check_classes(
    classes: tuple[str, ...], where: str, error: type[J1GitOpsError] = UsageError
) -> None:
    """Raise ``error`` for a class that the data model does not define."""
    for name in classes:
        if datamodel.is_known_class(name):
            continue
        hint = schemas.closest_name(name, schemas.class_names())
        suggestion = f"did you mean {hint!r}? " if hint else ""
        if name.upper() in schemas.verbs():
            suggestion = f"{name} is a relationship verb, not an entity class; "
        raise error(
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
        # The _keys read so far, and each batch's keys with the rows' labels.
        self.keys_seen: set[str] = set()
        self.key_batches: list[tuple[Sequence[str], Sequence[str]]] = []
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

    def entities(self) -> Iterator[list[str]]:
        """Yield the entities' YAML texts (as ``Emitter.entry_text`` makes them), a
        batch of rows at a time; raise LoadError at the first bad value."""
        trial = True
        for labels, columns in self.table.batches:
            texts = self._batch_texts(Batch(labels, columns))
            self.entity_count += len(texts)
            yield texts
            if trial and self.entity_count >= MEMO_TRIAL_ROWS:
                trial = False
                for _, fields in self.plans.values():
                    stop_caching_unique(fields, self.entity_count)

    def _batch_texts(self, batch: Batch) -> list[str]:
        """Return the batch's entity texts, or raise the error of its first bad
        row.

        Each step below makes one part of every entity, in the order of the
        entity's entries. A step that fails at a row cuts the batch before that
        row and runs again, so the error raised in the end is the first one in
        the file, as a reader going row by row would meet it.
        """
        batch.keys = batch.until_error(self._keys)
        batch.until_error(self._check_unique)
        parts = batch.until_error(self._entries)
        found = batch.until_error(self._relate_batch) if self.rules else []
        if batch.error is not None:
            raise batch.error
        self.relationships.extend(found)
        return list(map("".join, zip(*parts, strict=True)))

    def _keys(self, batch: Batch) -> Sequence[str]:
        return self.key.render_column(self.table, batch.labels, batch.columns)

    def _check_unique(self, batch: Batch) -> None:
        keys = batch.keys
        size = len(self.keys_seen)
        self.keys_seen.update(keys)
        if len(self.keys_seen) - size == len(keys):
            self.key_batches.append((keys, batch.labels))
            return
        # A _key repeats. Forget this batch's keys, then find the first row with
        # a repeated key, and the row where that key came first.
        self.keys_seen = {key for earlier, _ in self.key_batches for key in earlier}
        first_row: dict[str, str] = {}
        for earlier, labels in self.key_batches:
            for key, label in zip(earlier, labels, strict=True):
                first_row.setdefault(key, label)
        for index, (key, label) in enumerate(zip(keys, batch.labels, strict=True)):
            if key in first_row:
                raise RowError(index, self._duplicate(label, key, first_row[key]))
            first_row[key] = label

    def _type_entries(self, batch: Batch) -> list[str]:
        if self.type_text is not None:
            return [self.type_text] * len(batch)
        types = batch.columns[self.sources["_type"].indices[0]]
        for index, value in enumerate(types):
            if not isinstance(value, str) or not value:
                try:
                    self._required(batch.labels[index], batch.rows[index], "_type")
                except LoadError as error:
                    raise RowError(index, error) from None
        return self._text_entries(batch, "_type", types)

    def _class_groups(self, batch: Batch) -> dict[tuple[str, ...], list[int]]:
        """Return the rows of each set of classes, in the order they come."""
        if self.classes is not None:
            return {self.classes: []}
        groups: dict[tuple[str, ...], list[int]] = {}
        for index, (label, cells) in enumerate(
            zip(batch.labels, batch.rows, strict=True)
        ):
            try:
                classes = self._row_classes(label, cells)
            except LoadError as error:
                raise RowError(index, error) from None
            groups.setdefault(classes, []).append(index)
        return groups

    def _entries(self, batch: Batch) -> list[Sequence[str]]:
        """Return the entities' entries by column: ``_key``, ``_type``, ``_class``,
        then the fields. Rows whose classes differ are grouped, and each group
        gets the fields of its classes."""
        keys = self._text_entries(batch, "_key", batch.keys, first=True)
        types = self._type_entries(batch)
        groups = self._class_groups(batch)
        if len(groups) == 1:
            classes = next(iter(groups))
            return [keys, types, *self._group_entries(batch, classes)]
        texts = [""] * len(batch)
        for classes, indices in groups.items():
            group = batch.subset(indices)
            for index, parts in zip(
                indices,
                zip(*self._group_entries(group, classes), strict=True),
                strict=True,
            ):
                texts[index] = "".join(parts)
        return [keys, types, texts]

    def _group_entries(
        self, rows: Batch, classes: tuple[str, ...]
    ) -> list[Sequence[str]]:
        class_text, fields = self._plan_for(classes)
        columns: list[Sequence[str]] = [[class_text] * len(rows)]
        for field in fields:
            try:
                columns.append(self._field_entries(rows, field))
            except BadValue as bad:
                raise rows.row_error(
                    bad.index, self._bad_value(rows, field, bad)
                ) from None
            except RowError as failure:
                raise rows.row_error(failure.index, failure.error) from None
        return columns

    def _field_entries(self, rows: Batch, field: Field) -> list[str]:
        value = field.value
        if value is None:
            if field.array_columns:
                values = [raw_value(field, cells) for cells in rows.rows]
                return field_entries(field, values, self.emitter)
            values = rows.columns[field.index]
            return field_entries(field, values, self.emitter, self.table.all_strings)
        if type(value) is BoundPattern:
            values = value.render_column(self.table, rows.labels, rows.columns)
            return field_entries(field, values, self.emitter, all_strings=True)
        return constant_entries(field, len(rows), self.emitter)

    def _text_entries(
        self, batch: Batch, name: str, texts: Sequence[str], first: bool = False
    ) -> list[str]:
        try:
            return text_entries(
                self.emitter.entry_prefix(name, first), texts, self.emitter
            )
        except BadValue as bad:
            where = self.table.where(batch.labels[bad.index], name)
            raise RowError(
                bad.index, LoadError(f"{where}: {bad}; fix the value in the source")
            ) from None

    def _bad_value(self, rows: Batch, field: Field, bad: BadValue) -> LoadError:
        column = field.column if field.indices else field.property
        where = self.table.where(rows.labels[bad.index], column)
        if isinstance(bad.problem, UnwritableValue):
            return LoadError(f"{where}: {bad}; fix the value in the source")
        return LoadError(
            f"{where}: value {bad.value!r} of {field.label} property "
            f"{field.property!r} {bad}"
        )

    def _relate_batch(self, batch: Batch) -> list[dict]:
        found: list[dict] = []
        for index, (label, cells, key) in enumerate(
            zip(batch.labels, batch.rows, batch.keys, strict=True)
        ):
            try:
                self._relate(label, cells, key, found)
            except LoadError as error:
                raise RowError(index, error) from None
        return found

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
        """Return a row's classes: J1's _class.0, _class.1 columns, a JSON list,
        or one cell of classes separated by the list separator."""
        source = self.sources["_class"]
        values = [cells[i] for i in source.indices if cells[i] not in ("", None)]
        if not source.array and values:
            value = values[0]
            if isinstance(value, list):
                values = value
            else:
                separator = self.mapping.list_separator
                values = [part.strip() for part in str(value).split(separator)]
        where = self.table.where(label, "_class")
        if any(not isinstance(value, str) for value in values):
            raise LoadError(
                f"{where}: _class {values!r} is invalid; give a class name or a list "
                "of class names, such as [Device, Host]"
            )
        classes = tuple(value.strip() for value in values if value.strip())
        if not classes:
            self._required(label, cells, "_class")
        check_classes(classes, where, LoadError)
        return classes

    def _relate(self, label: str, cells: list, key: str, found: list[dict]) -> None:
        for rule, verb, pattern in self.rules:
            raw = self._cell(rule.column, cells)
            if raw is None:
                continue
            items = _split(raw, self.mapping.list_separator) if rule.many else [raw]
            texts = (key_text(item, self.table, label) for item in items)
            for item in dict.fromkeys(texts):
                override = (rule.column, item)
                other = pattern.render(self.table, label, cells, override)
                try:
                    self.emitter.scalar(other)
                except UnwritableValue as problem:
                    where = self.table.where(label, rule.column)
                    raise LoadError(
                        f"{where}: {problem}; fix the value in the source"
                    ) from None
                ends = (key, other) if rule.direction == "forward" else (other, key)
                found.append(
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
