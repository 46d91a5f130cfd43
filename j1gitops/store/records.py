"""J1 objects as rows of the store: their ids, the SQL that reads them, and
the conversion of a row back to J1's JSON shape."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

# J1 derives ``_id`` as a UUIDv5 of scope and key since its 2025 pipeline upgrade.
# NOTE: the namespace and the exact name string J1 uses are unconfirmed. These are
# our own, so ids are stable across runs here but will not equal J1's.
ENTITY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "j1gitops:entity")
RELATIONSHIP_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "j1gitops:relationship")


def now_ms() -> int:
    return int(time.time() * 1000)


def entity_id(scope: str, key: str) -> str:
    return str(uuid.uuid5(ENTITY_NAMESPACE, f"{scope}\x00{key}"))


def relationship_id(scope: str, key: str) -> str:
    return str(uuid.uuid5(RELATIONSHIP_NAMESPACE, f"{scope}\x00{key}"))


ENTITY_COLUMNS = (
    "id, source, scope, key, type, classes, properties, version, created_on, "
    "begin_on, deleted_on"
)
RELATIONSHIP_SELECT = (
    "SELECT r.id, r.source, r.scope, r.key, r.type, r.class, r.from_id, r.to_id, "
    "r.properties, r.version, r.created_on, r.begin_on, r.deleted_on, "
    "f.key, f.source, f.scope, t.key, t.source, t.scope "
    "FROM relationships r "
    "LEFT JOIN entities f ON f.id = r.from_id "
    "LEFT JOIN entities t ON t.id = r.to_id"
)


def entity_object(row: tuple) -> dict:
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
    return _mark_deleted(obj, deleted)


def relationship_object(row: tuple) -> dict:
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
    return _mark_deleted(obj, deleted)


def _mark_deleted(obj: dict, deleted_on: int | None) -> dict:
    """Add J1's ``_deleted`` and ``_endOn`` to a soft-deleted object."""
    if deleted_on is not None:
        obj["_deleted"] = True
        obj["_endOn"] = deleted_on
    return obj


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
