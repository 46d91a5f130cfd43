"""Single-object changes, as J1's GraphQL mutations make them (the emulator's)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from j1gitops.normalize import canonical_json, canonical_properties
from j1gitops.store.records import (
    RELATIONSHIP_SELECT,
    chunks,
    entity_id,
    now_ms,
    relationship_id,
    relationship_object,
)
from j1gitops.store.sync import (
    SyncCounts,
    SyncWriter,
    entity_row_values,
    relationship_row_values,
)


class ObjectMutations:
    """Methods of ``Store`` that change one entity or relationship at a time.

    Each runs as its own transaction and returns the object after the change.
    """

    def relationships_touching(
        self, ids: Iterable[str], include_deleted: bool = False
    ) -> list[dict]:
        """Return the relationships with either end among the entity ``ids``."""
        found: dict[str, dict] = {}
        live = "" if include_deleted else "AND r.deleted_on IS NULL"
        for chunk in chunks(list(ids), 400):
            marks = ",".join("?" * len(chunk))
            for row in self.connection.execute(
                f"{RELATIONSHIP_SELECT} WHERE (r.from_id IN ({marks}) "
                f"OR r.to_id IN ({marks})) {live}",
                (*chunk, *chunk),
            ):
                found.setdefault(row[0], relationship_object(row))
        return list(found.values())

    def find_relationship_by_id(self, relationship_id: str) -> dict | None:
        row = self.connection.execute(
            f"{RELATIONSHIP_SELECT} WHERE r.id = ? AND r.deleted_on IS NULL",
            (relationship_id,),
        ).fetchone()
        return relationship_object(row) if row else None

    def upsert_entity(
        self, obj: dict, *, source: str = "api", scope: str = ""
    ) -> tuple[dict, bool]:
        """Create an entity, or update the live one with the same ``_key`` and ``_type``.

        Properties of an existing entity are merged: those sent replace, a
        ``None`` removes, the rest stay. Returns the entity and whether it is new.
        """
        type_, classes, properties = entity_row_values(obj)
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
                writer = SyncWriter(connection, "", "", stamp, SyncCounts())
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
        type_, verb, properties = relationship_row_values(obj)
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
