"""The steps of one DIFF synchronization, run inside one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from j1gitops.normalize import canonical_classes, canonical_json, canonical_properties
from j1gitops.store.errors import SyncDataError
from j1gitops.store.records import chunks, entity_id, relationship_id


@dataclass
class SyncCounts:
    """Counts of one synchronization, named as J1's sync job counters are."""

    numEntitiesUploaded: int = 0
    numEntitiesCreated: int = 0
    numEntitiesUpdated: int = 0
    numEntitiesDeleted: int = 0
    numEntityCreateErrors: int = 0
    numEntityUpdateErrors: int = 0
    numEntityDeleteErrors: int = 0
    numRelationshipsUploaded: int = 0
    numRelationshipsCreated: int = 0
    numRelationshipsUpdated: int = 0
    numRelationshipsDeleted: int = 0
    numRelationshipCreateErrors: int = 0
    numRelationshipUpdateErrors: int = 0
    numRelationshipDeleteErrors: int = 0
    # The keys of relationships that could not be created, with the reason.
    relationship_errors: list[tuple[str, str]] = field(default_factory=list)

    def as_job_fields(self) -> dict[str, int]:
        return {
            name: value for name, value in vars(self).items() if isinstance(value, int)
        }

    @property
    def error_count(self) -> int:
        return sum(
            value
            for name, value in self.as_job_fields().items()
            if name.endswith("Errors")
        )


def deduplicate(objects: list[dict], kind: str, ignore_duplicates: bool) -> list[dict]:
    by_key: dict[str, dict] = {}
    for obj in objects:
        key = obj.get("_key")
        if not isinstance(key, str) or not key:
            raise SyncDataError(f"{kind} without a string _key: {preview(obj)}")
        if key in by_key and not ignore_duplicates:
            raise SyncDataError(f"duplicate {kind} _key {key!r} in one upload")
        by_key[key] = obj
    return list(by_key.values())


def preview(obj: dict) -> str:
    text = canonical_json(obj)
    return text if len(text) <= 120 else text[:117] + "..."


def entity_row_values(obj: dict) -> tuple[str, str, str]:
    type_ = obj.get("_type")
    classes = obj.get("_class")
    if not isinstance(type_, str) or not type_:
        raise SyncDataError(f"entity {obj.get('_key')!r} has no string _type")
    if isinstance(classes, str):
        classes = [classes]
    if not isinstance(classes, list) or not classes:
        raise SyncDataError(f"entity {obj.get('_key')!r} has no _class")
    properties = {
        name: value
        for name, value in obj.items()
        if not name.startswith("_") or name == "_rawData"
    }
    return (
        type_,
        canonical_json(list(canonical_classes(classes))),
        canonical_json(canonical_properties(properties)),
    )


class SyncWriter:
    """The steps of one DIFF synchronization, inside one transaction."""

    def __init__(self, connection, source: str, scope: str, stamp: int, counts):
        self.connection = connection
        self.source = source
        self.scope = scope
        self.stamp = stamp
        self.counts = counts

    def existing(self, table: str) -> dict[str, tuple]:
        columns = "key, id, type, classes, properties, version, deleted_on"
        if table == "relationships":
            columns = (
                "key, id, type, class, properties, version, deleted_on, from_id, to_id"
            )
        return {
            row[0]: row
            for row in self.connection.execute(
                f"SELECT {columns} FROM {table} WHERE source = ? AND scope = ?",
                (self.source, self.scope),
            )
        }

    def write_entities(self, entities: list[dict]) -> None:
        stored = self.existing("entities")
        inserts, updates = [], []
        for obj in entities:
            key = obj["_key"]
            type_, classes, properties = entity_row_values(obj)
            row = stored.get(key)
            if row is None:
                inserts.append(
                    (entity_id(self.scope, key), key, type_, classes, properties)
                )
            elif row[6] is not None or (type_, classes, properties) != row[2:5]:
                # A soft-deleted entity uploaded again comes back under its old _id.
                updates.append((type_, classes, properties, row[1]))
                if row[6] is not None:
                    self.counts.numEntitiesCreated += 1
                else:
                    self.counts.numEntitiesUpdated += 1
        self.connection.executemany(
            "INSERT INTO entities (id, source, scope, key, type, classes, properties, "
            "version, created_on, begin_on) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            [
                (
                    id_,
                    self.source,
                    self.scope,
                    key,
                    type_,
                    classes,
                    properties,
                    self.stamp,
                    self.stamp,
                )
                for id_, key, type_, classes, properties in inserts
            ],
        )
        self.counts.numEntitiesCreated += len(inserts)
        self.connection.executemany(
            "UPDATE entities SET type = ?, classes = ?, properties = ?, "
            "version = version + 1, begin_on = ?, deleted_on = NULL WHERE id = ?",
            [(t, c, p, self.stamp, id_) for t, c, p, id_ in updates],
        )
        uploaded = {obj["_key"] for obj in entities}
        gone = [
            row[1]
            for key, row in stored.items()
            if key not in uploaded and row[6] is None
        ]
        self.delete_entities(gone)

    def delete_entities(self, ids: list[str]) -> None:
        """Soft-delete entities and, as J1 does, every relationship touching them."""
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            self.connection.execute(
                f"UPDATE entities SET deleted_on = ?, version = version + 1 "
                f"WHERE id IN ({marks})",
                (self.stamp, *chunk),
            )
            cascade = self.connection.execute(
                f"UPDATE relationships SET deleted_on = ?, version = version + 1 "
                f"WHERE deleted_on IS NULL AND (from_id IN ({marks}) OR to_id IN ({marks}))",
                (self.stamp, *chunk, *chunk),
            )
            self.counts.numRelationshipsDeleted += cascade.rowcount
        self.counts.numEntitiesDeleted += len(ids)

    def resolve_end(self, obj: dict, end: str, cache: dict) -> str | None:
        """Return the ``_id`` of one end of an uploaded relationship, or None."""
        entity_id_value = obj.get(f"_{end}EntityId")
        if entity_id_value is not None:
            lookup = ("id", entity_id_value)
        else:
            key = obj.get(f"_{end}EntityKey")
            source = obj.get(f"_{end}EntitySource") or self.source
            scope = obj.get(f"_{end}EntityScope") or self.scope
            lookup = ("key", source, scope, key)
        if lookup not in cache:
            if lookup[0] == "id":
                row = self.connection.execute(
                    "SELECT id FROM entities WHERE id = ? AND deleted_on IS NULL",
                    (lookup[1],),
                ).fetchone()
            else:
                row = self.connection.execute(
                    "SELECT id FROM entities WHERE source = ? AND scope = ? AND key = ? "
                    "AND deleted_on IS NULL",
                    lookup[1:],
                ).fetchone()
            cache[lookup] = row[0] if row else None
        return cache[lookup]

    def write_relationships(self, relationships: list[dict]) -> None:
        stored = self.existing("relationships")
        cache = self.scope_entity_cache()
        inserts, updates, kept = [], [], set()
        for obj in relationships:
            key = obj["_key"]
            row_values = relationship_row_values(obj)
            from_id = self.resolve_end(obj, "from", cache)
            to_id = self.resolve_end(obj, "to", cache)
            if from_id is None or to_id is None:
                missing = "from" if from_id is None else "to"
                self.counts.numRelationshipCreateErrors += 1
                self.counts.relationship_errors.append(
                    (key, f"the {missing} entity was not found")
                )
                continue
            values = row_values + (from_id, to_id)
            kept.add(key)
            row = stored.get(key)
            if row is None:
                inserts.append((relationship_id(self.scope, key), key) + values)
            elif row[6] is not None or values != (
                row[2],
                row[3],
                row[4],
                row[7],
                row[8],
            ):
                updates.append(values + (row[1],))
                if row[6] is not None:
                    self.counts.numRelationshipsCreated += 1
                else:
                    self.counts.numRelationshipsUpdated += 1
        self.connection.executemany(
            "INSERT INTO relationships (id, source, scope, key, type, class, properties, "
            "from_id, to_id, version, created_on, begin_on) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            [
                (
                    id_,
                    self.source,
                    self.scope,
                    key,
                    t,
                    c,
                    p,
                    f,
                    to,
                    self.stamp,
                    self.stamp,
                )
                for id_, key, t, c, p, f, to in inserts
            ],
        )
        self.counts.numRelationshipsCreated += len(inserts)
        self.connection.executemany(
            "UPDATE relationships SET type = ?, class = ?, properties = ?, from_id = ?, "
            "to_id = ?, version = version + 1, begin_on = ?, deleted_on = NULL "
            "WHERE id = ?",
            [(t, c, p, f, to, self.stamp, id_) for t, c, p, f, to, id_ in updates],
        )
        gone = [
            row[1] for key, row in stored.items() if key not in kept and row[6] is None
        ]
        for chunk in chunks(gone, 500):
            marks = ",".join("?" * len(chunk))
            result = self.connection.execute(
                f"UPDATE relationships SET deleted_on = ?, version = version + 1 "
                f"WHERE id IN ({marks}) AND deleted_on IS NULL",
                (self.stamp, *chunk),
            )
            self.counts.numRelationshipsDeleted += result.rowcount

    def scope_entity_cache(self) -> dict:
        """Preload the scope's live entity ids, so that most ends resolve without a query."""
        return {
            ("key", self.source, self.scope, key): id_
            for key, id_ in self.connection.execute(
                "SELECT key, id FROM entities WHERE source = ? AND scope = ? "
                "AND deleted_on IS NULL",
                (self.source, self.scope),
            )
        }


def relationship_row_values(obj: dict) -> tuple[str, str, str]:
    type_ = obj.get("_type")
    verb = obj.get("_class")
    if not isinstance(type_, str) or not type_:
        raise SyncDataError(f"relationship {obj.get('_key')!r} has no string _type")
    if not isinstance(verb, str) or not verb:
        raise SyncDataError(f"relationship {obj.get('_key')!r} has no string _class")
    properties = {
        name: value for name, value in obj.items() if not name.startswith("_")
    }
    return type_, verb, canonical_json(canonical_properties(properties))
