"""J1's persister semantics over one SQLite file.

The store holds entities and relationships the way J1 does: each object belongs
to a ``source`` and a ``scope``, is identified there by its ``_key``, and carries
J1's system metadata (``_id``, ``_version``, ``_createdOn``, ``_beginOn``).
``synchronize`` is one DIFF synchronization job: the upload becomes the whole
state of the scope, what the scope held and the upload lacks is deleted, and
deleting an entity deletes every relationship that touches it.

The local target and the J1 API emulator both use this module, so the two
behave alike. Objects go in and come out in J1's JSON shape.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from j1gitops.normalize import canonical_classes, canonical_json, canonical_properties

SCHEMA_VERSION = 1

# J1 derives ``_id`` as a UUIDv5 of scope and key since its 2025 pipeline upgrade.
# NOTE: the namespace and the exact name string J1 uses are unconfirmed; these are
# our own, so ids are stable across runs here but will not equal J1's.
ENTITY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "j1gitops:entity")
RELATIONSHIP_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "j1gitops:relationship")

# Fields of an uploaded relationship that name its ends, not properties.
RELATIONSHIP_END_FIELDS = (
    "_fromEntityKey",
    "_toEntityKey",
    "_fromEntityId",
    "_toEntityId",
    "_fromEntitySource",
    "_fromEntityScope",
    "_toEntitySource",
    "_toEntityScope",
)
IDENTITY_FIELDS = ("_key", "_type", "_class")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entities (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    type TEXT NOT NULL,
    classes TEXT NOT NULL,
    properties TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_on INTEGER NOT NULL,
    begin_on INTEGER NOT NULL,
    deleted_on INTEGER,
    UNIQUE (source, scope, key)
);
CREATE TABLE IF NOT EXISTS relationships (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    type TEXT NOT NULL,
    class TEXT NOT NULL,
    from_id TEXT NOT NULL,
    to_id TEXT NOT NULL,
    properties TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_on INTEGER NOT NULL,
    begin_on INTEGER NOT NULL,
    deleted_on INTEGER,
    UNIQUE (source, scope, key)
);
CREATE INDEX IF NOT EXISTS relationships_from ON relationships (from_id);
CREATE INDEX IF NOT EXISTS relationships_to ON relationships (to_id);
CREATE INDEX IF NOT EXISTS entities_scope ON entities (source, scope);
"""


class StoreError(Exception):
    """The store file is unusable (locked, corrupt, or of a newer format)."""


class SyncDataError(Exception):
    """An upload breaks a persister rule, such as the same ``_key`` twice."""


def now_ms() -> int:
    return int(time.time() * 1000)


def entity_id(scope: str, key: str) -> str:
    return str(uuid.uuid5(ENTITY_NAMESPACE, f"{scope}\x00{key}"))


def relationship_id(scope: str, key: str) -> str:
    return str(uuid.uuid5(RELATIONSHIP_NAMESPACE, f"{scope}\x00{key}"))


@dataclass
class SyncCounts:
    """What one synchronization did, named as J1's sync job counters are."""

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


class Store:
    """One SQLite file of J1 objects. Use as a context manager, or call ``close``."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # The emulator serves one store from several request threads; every
            # write goes through ``transaction``, which SQLite serialises.
            self.connection = sqlite3.connect(
                self.path,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA foreign_keys=ON")
            self.connection.executescript(_SCHEMA)
            self._check_version()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the local store {self.path}: {exc}") from exc

    def _check_version(self) -> None:
        row = self.connection.execute(
            "SELECT value FROM meta WHERE name = 'schema_version'"
        ).fetchone()
        if row is None:
            self.connection.execute(
                "INSERT INTO meta (name, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
        elif int(row[0]) > SCHEMA_VERSION:
            raise StoreError(
                f"the local store {self.path} was written by a newer j1gitops "
                f"(format {row[0]}); upgrade j1gitops or delete the file"
            )

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one write transaction: all of it lands, or none."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    # Reading

    def read_scope(
        self, scope: str, source: str = "api"
    ) -> tuple[list[dict], list[dict]]:
        """Return the live entities and relationships of one scope, in J1's shape."""
        entities = [
            _entity_object(row)
            for row in self.connection.execute(
                f"SELECT {_ENTITY_COLUMNS} FROM entities "
                "WHERE source = ? AND scope = ? AND deleted_on IS NULL ORDER BY key",
                (source, scope),
            )
        ]
        relationships = [
            _relationship_object(row)
            for row in self.connection.execute(
                f"{_RELATIONSHIP_SELECT} WHERE r.source = ? AND r.scope = ? "
                "AND r.deleted_on IS NULL ORDER BY r.key",
                (source, scope),
            )
        ]
        return entities, relationships

    def find_entities_by_id(self, ids: Iterable[str]) -> dict[str, dict]:
        found = {}
        for chunk in _chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            for row in self.connection.execute(
                f"SELECT {_ENTITY_COLUMNS} FROM entities "
                f"WHERE id IN ({marks}) AND deleted_on IS NULL",
                chunk,
            ):
                found[row[0]] = _entity_object(row)
        return found

    def find_entity_by_key(self, source: str, scope: str, key: str) -> dict | None:
        row = self.connection.execute(
            f"SELECT {_ENTITY_COLUMNS} FROM entities "
            "WHERE source = ? AND scope = ? AND key = ? AND deleted_on IS NULL",
            (source, scope, key),
        ).fetchone()
        return _entity_object(row) if row else None

    def all_entities(self, include_deleted: bool = False) -> Iterator[dict]:
        where = "" if include_deleted else "WHERE deleted_on IS NULL"
        for row in self.connection.execute(
            f"SELECT {_ENTITY_COLUMNS} FROM entities {where} ORDER BY source, scope, key"
        ):
            yield _entity_object(row)

    def all_relationships(self, include_deleted: bool = False) -> Iterator[dict]:
        where = "" if include_deleted else "WHERE r.deleted_on IS NULL"
        for row in self.connection.execute(
            f"{_RELATIONSHIP_SELECT} {where} ORDER BY r.source, r.scope, r.key"
        ):
            yield _relationship_object(row)

    def count(self, scope: str | None = None, source: str = "api") -> tuple[int, int]:
        """Return how many live entities and relationships a scope (or the store) holds."""
        where, parameters = "deleted_on IS NULL", ()
        if scope is not None:
            where += " AND source = ? AND scope = ?"
            parameters = (source, scope)
        entities = self.connection.execute(
            f"SELECT COUNT(*) FROM entities WHERE {where}", parameters
        ).fetchone()[0]
        relationships = self.connection.execute(
            f"SELECT COUNT(*) FROM relationships WHERE {where}", parameters
        ).fetchone()[0]
        return entities, relationships

    # Writing

    def synchronize(
        self,
        scope: str,
        entities: list[dict],
        relationships: list[dict],
        *,
        source: str = "api",
        ignore_duplicates: bool = False,
        timestamp: int | None = None,
    ) -> SyncCounts:
        """Make the scope hold exactly ``entities`` and ``relationships`` (J1's DIFF).

        Runs as one transaction. Relationships whose ends cannot be found are not
        created and are counted in ``numRelationshipCreateErrors``, as J1 does.
        Raises ``SyncDataError`` when the upload repeats a ``_key`` (unless
        ``ignore_duplicates``, where the last one wins) or misses a required field.
        """
        stamp = timestamp if timestamp is not None else now_ms()
        entities = _deduplicate(entities, "entity", ignore_duplicates)
        relationships = _deduplicate(relationships, "relationship", ignore_duplicates)
        counts = SyncCounts(
            numEntitiesUploaded=len(entities),
            numRelationshipsUploaded=len(relationships),
        )
        with self.transaction() as connection:
            writer = _SyncWriter(connection, source, scope, stamp, counts)
            writer.write_entities(entities)
            writer.write_relationships(relationships)
        return counts

    # Single-object changes, as J1's GraphQL mutations make them. Each runs as
    # its own transaction and returns the object after the change.

    def relationships_touching(
        self, ids: Iterable[str], include_deleted: bool = False
    ) -> list[dict]:
        """Return the relationships with either end among the entity ``ids``."""
        found: dict[str, dict] = {}
        live = "" if include_deleted else "AND r.deleted_on IS NULL"
        for chunk in _chunks(list(ids), 400):
            marks = ",".join("?" * len(chunk))
            for row in self.connection.execute(
                f"{_RELATIONSHIP_SELECT} WHERE (r.from_id IN ({marks}) "
                f"OR r.to_id IN ({marks})) {live}",
                (*chunk, *chunk),
            ):
                found.setdefault(row[0], _relationship_object(row))
        return list(found.values())

    def find_relationship_by_id(self, relationship_id: str) -> dict | None:
        row = self.connection.execute(
            f"{_RELATIONSHIP_SELECT} WHERE r.id = ? AND r.deleted_on IS NULL",
            (relationship_id,),
        ).fetchone()
        return _relationship_object(row) if row else None

    def upsert_entity(
        self, obj: dict, *, source: str = "api", scope: str = ""
    ) -> tuple[dict, bool]:
        """Create an entity, or update the live one with the same ``_key`` and ``_type``.

        Properties of an existing entity are merged: those sent replace, a
        ``None`` removes, the rest stay. Returns the entity and whether it is new.
        """
        type_, classes, properties = _entity_row_values(obj)
        stamp = now_ms()
        with self.transaction() as connection:
            row = connection.execute(
                "SELECT id, properties, classes FROM entities WHERE key = ? AND type = ? "
                "AND deleted_on IS NULL ORDER BY source, scope LIMIT 1",
                (obj["_key"], type_),
            ).fetchone()
            if row is not None:
                merged = _merge_properties(row[1], obj)
                if (merged, classes) != (row[1], row[2]):
                    connection.execute(
                        "UPDATE entities SET classes = ?, properties = ?, "
                        "version = version + 1, begin_on = ? WHERE id = ?",
                        (classes, merged, stamp, row[0]),
                    )
                return self.find_entities_by_id([row[0]])[row[0]], False
            id_ = entity_id(scope, obj["_key"])
            connection.execute(
                "INSERT INTO entities (id, source, scope, key, type, classes, properties, "
                "version, created_on, begin_on) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) "
                "ON CONFLICT (source, scope, key) DO UPDATE SET type = excluded.type, "
                "classes = excluded.classes, properties = excluded.properties, "
                "version = version + 1, begin_on = excluded.begin_on, deleted_on = NULL",
                (
                    id_,
                    source,
                    scope,
                    obj["_key"],
                    type_,
                    classes,
                    properties,
                    stamp,
                    stamp,
                ),
            )
        entity = self.find_entity_by_key(source, scope, obj["_key"])
        return entity, True

    def update_entity(self, entity_id_value: str, changes: dict) -> dict | None:
        """Merge ``changes`` into a live entity's properties; None if there is none."""
        return self._update_properties("entities", entity_id_value, changes)

    def update_relationship(
        self, relationship_id_value: str, changes: dict
    ) -> dict | None:
        """Merge ``changes`` into a live relationship's properties."""
        return self._update_properties("relationships", relationship_id_value, changes)

    def _update_properties(self, table: str, id_: str, changes: dict) -> dict | None:
        with self.transaction() as connection:
            row = connection.execute(
                f"SELECT properties FROM {table} WHERE id = ? AND deleted_on IS NULL",
                (id_,),
            ).fetchone()
            if row is None:
                return None
            merged = _merge_properties(row[0], changes)
            if merged != row[0]:
                connection.execute(
                    f"UPDATE {table} SET properties = ?, version = version + 1, "
                    "begin_on = ? WHERE id = ?",
                    (merged, now_ms(), id_),
                )
        if table == "entities":
            return self.find_entities_by_id([id_]).get(id_)
        return self.find_relationship_by_id(id_)

    def delete_entity(self, entity_id_value: str, hard: bool = False) -> dict | None:
        """Delete a live entity and every relationship touching it, as J1 does.

        A soft delete keeps the rows with ``_deleted``; a hard delete removes them.
        Returns the entity as it was, marked deleted, or None if there is none.
        """
        entity = self.find_entities_by_id([entity_id_value]).get(entity_id_value)
        if entity is None:
            return None
        stamp = now_ms()
        with self.transaction() as connection:
            if hard:
                connection.execute(
                    "DELETE FROM relationships WHERE from_id = ? OR to_id = ?",
                    (entity_id_value, entity_id_value),
                )
                connection.execute(
                    "DELETE FROM entities WHERE id = ?", (entity_id_value,)
                )
            else:
                writer = _SyncWriter(connection, "", "", stamp, SyncCounts())
                writer.delete_entities([entity_id_value])
        return {**entity, "_deleted": True, "_endOn": stamp}

    def upsert_relationship(
        self,
        obj: dict,
        from_id: str,
        to_id: str,
        *,
        source: str = "api",
        scope: str = "",
    ) -> tuple[dict, bool] | None:
        """Create or update a relationship between two live entities by ``_id``.

        Returns None when an end does not exist, otherwise the relationship and
        whether it is new. An existing one (same source, scope and ``_key``)
        gets the new ends and merged properties.
        """
        type_, verb, properties = _relationship_row_values(obj)
        if len(self.find_entities_by_id([from_id, to_id])) < len({from_id, to_id}):
            return None
        stamp = now_ms()
        key = obj["_key"]
        with self.transaction() as connection:
            row = connection.execute(
                "SELECT id, properties FROM relationships "
                "WHERE source = ? AND scope = ? AND key = ? AND deleted_on IS NULL",
                (source, scope, key),
            ).fetchone()
            if row is not None:
                connection.execute(
                    "UPDATE relationships SET type = ?, class = ?, properties = ?, "
                    "from_id = ?, to_id = ?, version = version + 1, begin_on = ? "
                    "WHERE id = ?",
                    (
                        type_,
                        verb,
                        _merge_properties(row[1], obj),
                        from_id,
                        to_id,
                        stamp,
                        row[0],
                    ),
                )
                return self.find_relationship_by_id(row[0]), False
            connection.execute(
                "INSERT INTO relationships (id, source, scope, key, type, class, "
                "properties, from_id, to_id, version, created_on, begin_on) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) "
                "ON CONFLICT (source, scope, key) DO UPDATE SET type = excluded.type, "
                "class = excluded.class, properties = excluded.properties, "
                "from_id = excluded.from_id, to_id = excluded.to_id, "
                "version = version + 1, begin_on = excluded.begin_on, deleted_on = NULL",
                (
                    relationship_id(scope, key),
                    source,
                    scope,
                    key,
                    type_,
                    verb,
                    properties,
                    from_id,
                    to_id,
                    stamp,
                    stamp,
                ),
            )
            new_id = connection.execute(
                "SELECT id FROM relationships WHERE source = ? AND scope = ? AND key = ?",
                (source, scope, key),
            ).fetchone()[0]
        return self.find_relationship_by_id(new_id), True

    def delete_relationship(self, relationship_id_value: str, hard: bool = False):
        """Delete one live relationship; return it marked deleted, or None."""
        relationship = self.find_relationship_by_id(relationship_id_value)
        if relationship is None:
            return None
        stamp = now_ms()
        with self.transaction() as connection:
            if hard:
                connection.execute(
                    "DELETE FROM relationships WHERE id = ?", (relationship_id_value,)
                )
            else:
                connection.execute(
                    "UPDATE relationships SET deleted_on = ?, version = version + 1 "
                    "WHERE id = ?",
                    (stamp, relationship_id_value),
                )
        return {**relationship, "_deleted": True, "_endOn": stamp}


_ENTITY_COLUMNS = (
    "id, source, scope, key, type, classes, properties, version, created_on, "
    "begin_on, deleted_on"
)
_RELATIONSHIP_SELECT = (
    "SELECT r.id, r.source, r.scope, r.key, r.type, r.class, r.from_id, r.to_id, "
    "r.properties, r.version, r.created_on, r.begin_on, r.deleted_on, "
    "f.key, f.source, f.scope, t.key, t.source, t.scope "
    "FROM relationships r "
    "LEFT JOIN entities f ON f.id = r.from_id "
    "LEFT JOIN entities t ON t.id = r.to_id"
)


def _entity_object(row: tuple) -> dict:
    (
        id_,
        source,
        scope,
        key,
        type_,
        classes,
        properties,
        version,
        created,
        begin,
        deleted,
    ) = row
    obj = json.loads(properties)
    obj.update(
        {
            "_id": id_,
            "_key": key,
            "_type": type_,
            "_class": json.loads(classes),
            "_source": source,
            "_scope": scope,
            "_version": version,
            "_createdOn": created,
            "_beginOn": begin,
        }
    )
    if deleted is not None:
        obj["_deleted"] = True
        obj["_endOn"] = deleted
    return obj


def _relationship_object(row: tuple) -> dict:
    (
        id_,
        source,
        scope,
        key,
        type_,
        verb,
        from_id,
        to_id,
        properties,
        version,
        created,
        begin,
        deleted,
        from_key,
        from_source,
        from_scope,
        to_key,
        to_source,
        to_scope,
    ) = row
    obj = json.loads(properties)
    obj.update(
        {
            "_id": id_,
            "_key": key,
            "_type": type_,
            "_class": verb,
            "_source": source,
            "_scope": scope,
            "_version": version,
            "_createdOn": created,
            "_beginOn": begin,
            "_fromEntityId": from_id,
            "_toEntityId": to_id,
            "_fromEntityKey": from_key,
            "_toEntityKey": to_key,
            "_fromEntitySource": from_source,
            "_fromEntityScope": from_scope,
            "_toEntitySource": to_source,
            "_toEntityScope": to_scope,
        }
    )
    if deleted is not None:
        obj["_deleted"] = True
        obj["_endOn"] = deleted
    return obj


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _deduplicate(objects: list[dict], kind: str, ignore_duplicates: bool) -> list[dict]:
    by_key: dict[str, dict] = {}
    for obj in objects:
        key = obj.get("_key")
        if not isinstance(key, str) or not key:
            raise SyncDataError(f"{kind} without a string _key: {_preview(obj)}")
        if key in by_key and not ignore_duplicates:
            raise SyncDataError(f"duplicate {kind} _key {key!r} in one upload")
        by_key[key] = obj
    return list(by_key.values())


def _preview(obj: dict) -> str:
    text = canonical_json(obj)
    return text if len(text) <= 120 else text[:117] + "..."


def _entity_row_values(obj: dict) -> tuple[str, str, str]:
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


class _SyncWriter:
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
            type_, classes, properties = _entity_row_values(obj)
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
        for chunk in _chunks(ids, 500):
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
            row_values = _relationship_row_values(obj)
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
        for chunk in _chunks(gone, 500):
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


def _relationship_row_values(obj: dict) -> tuple[str, str, str]:
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


def _merge_properties(stored_json: str, changes: dict) -> str:
    """Return stored properties with ``changes`` applied; a None value removes one."""
    merged = json.loads(stored_json)
    for name, value in changes.items():
        if name.startswith("_") and name != "_rawData":
            continue
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return canonical_json(canonical_properties(merged))
