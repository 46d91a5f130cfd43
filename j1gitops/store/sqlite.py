"""J1's persister semantics over one SQLite file.

The store contains entities and relationships the way J1 does: each object belongs
to a ``source`` and a ``scope``, is identified there by its ``_key``, and carries
J1's system metadata (``_id``, ``_version``, ``_createdOn``, ``_beginOn``).
``synchronize`` is one DIFF synchronization job: the upload becomes the whole
state of the scope, what the scope held and the upload lacks is deleted, and
deleting an entity deletes every relationship that touches it.

The local target and the J1 API emulator both use this module, so the two
behave alike. Objects go in and come out in J1's JSON shape.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from j1gitops.store.errors import StoreError, SyncDataError
from j1gitops.store.objects import ObjectMutations
from j1gitops.store.records import (
    ENTITY_COLUMNS,
    RELATIONSHIP_SELECT,
    chunks,
    entity_id,
    entity_object,
    now_ms,
    relationship_id,
    relationship_object,
)
from j1gitops.store.sync import SyncCounts, SyncWriter, deduplicate

__all__ = [
    "Store",
    "StoreError",
    "SyncCounts",
    "SyncDataError",
    "entity_id",
    "relationship_id",
]

SCHEMA_VERSION = 1

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


class Store(ObjectMutations):
    """One SQLite file of J1 objects. Use as a context manager, or call ``close``."""

    def __init__(
        self, path: str | Path, *, timeout: float = 30.0, read_only: bool = False
    ):
        """Open (or, unless ``read_only``, create) the store file.

        A read-only store never writes to the file, so ``plan`` leaves it as it
        was. Either way, a SQLite file that contains tables but is not a j1gitops
        store is rejected rather than changed.
        """
        self.path = str(path)
        self.read_only = read_only
        if self.path != ":memory:" and not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # The emulator serves one store from several request threads; every
            # write goes through ``transaction``, which SQLite serialises.
            self.connection = sqlite3.connect(
                self._database(),
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=read_only,
            )
            self._check_is_store()
            if not read_only:
                self.connection.execute("PRAGMA journal_mode=WAL")
                self.connection.execute("PRAGMA foreign_keys=ON")
                self.connection.executescript(_SCHEMA)
            self._check_version()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the local store {self.path}: {exc}") from exc

    def _database(self) -> str:
        if not self.read_only:
            return self.path
        return Path(self.path).resolve().as_uri() + "?mode=ro"

    def _check_is_store(self) -> None:
        tables = {
            row[0]
            for row in self.connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        if (tables or self.read_only) and "meta" not in tables:
            raise StoreError(
                f"{self.path} is not a j1gitops local store (it contains other tables "
                "or none); choose another --local-path or local.path"
            )

    def _check_version(self) -> None:
        row = self.connection.execute(
            "SELECT value FROM meta WHERE name = 'schema_version'"
        ).fetchone()
        if row is None and not self.read_only:
            self.connection.execute(
                "INSERT INTO meta (name, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
        elif row is not None and int(row[0]) > SCHEMA_VERSION:
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
            entity_object(row)
            for row in self.connection.execute(
                f"SELECT {ENTITY_COLUMNS} FROM entities "
                "WHERE source = ? AND scope = ? AND deleted_on IS NULL ORDER BY key",
                (source, scope),
            )
        ]
        relationships = [
            relationship_object(row)
            for row in self.connection.execute(
                f"{RELATIONSHIP_SELECT} WHERE r.source = ? AND r.scope = ? "
                "AND r.deleted_on IS NULL ORDER BY r.key",
                (source, scope),
            )
        ]
        return entities, relationships

    def find_entities_by_id(self, ids: Iterable[str]) -> dict[str, dict]:
        found = {}
        for chunk in chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            for row in self.connection.execute(
                f"SELECT {ENTITY_COLUMNS} FROM entities "
                f"WHERE id IN ({marks}) AND deleted_on IS NULL",
                chunk,
            ):
                found[row[0]] = entity_object(row)
        return found

    def find_entity_by_key(self, source: str, scope: str, key: str) -> dict | None:
        row = self.connection.execute(
            f"SELECT {ENTITY_COLUMNS} FROM entities "
            "WHERE source = ? AND scope = ? AND key = ? AND deleted_on IS NULL",
            (source, scope, key),
        ).fetchone()
        return entity_object(row) if row else None

    def all_entities(self, include_deleted: bool = False) -> Iterator[dict]:
        where = "" if include_deleted else "WHERE deleted_on IS NULL"
        for row in self.connection.execute(
            f"SELECT {ENTITY_COLUMNS} FROM entities {where} ORDER BY source, scope, key"
        ):
            yield entity_object(row)

    def all_relationships(self, include_deleted: bool = False) -> Iterator[dict]:
        where = "" if include_deleted else "WHERE r.deleted_on IS NULL"
        for row in self.connection.execute(
            f"{RELATIONSHIP_SELECT} {where} ORDER BY r.source, r.scope, r.key"
        ):
            yield relationship_object(row)

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
        entities = deduplicate(entities, "entity", ignore_duplicates)
        relationships = deduplicate(relationships, "relationship", ignore_duplicates)
        counts = SyncCounts(
            numEntitiesUploaded=len(entities),
            numRelationshipsUploaded=len(relationships),
        )
        with self.transaction() as connection:
            writer = SyncWriter(connection, source, scope, stamp, counts)
            writer.write_entities(entities)
            writer.write_relationships(relationships)
        return counts
