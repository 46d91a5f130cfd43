"""Entities and relationships in the JSON shapes J1's API returns.

J1 splits a query result row into ``entity`` (system metadata and
``displayName``) and ``properties`` (everything else). Entity ``_type`` and
``_class`` are lists there; a relationship's are strings. A vertex or edge
``id`` differs from the object's ``_id``, as in J1's own samples, so clients
that mix the two up fail here as they would against J1.
"""

from __future__ import annotations

import uuid

VERTEX_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "j1gitops:emulator:vertex")
EDGE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "j1gitops:emulator:edge")

_COMMON_METADATA = (
    "_id", "_key", "_type", "_class", "_source", "_scope", "_version",
    "_createdOn", "_beginOn", "_endOn",
)  # fmt: skip
_RELATIONSHIP_ENDS = ("_fromEntityId", "_toEntityId", "_fromEntityKey", "_toEntityKey")


def vertex_id(entity_id: str) -> str:
    return str(uuid.uuid5(VERTEX_NAMESPACE, entity_id))


def edge_id(relationship_id: str) -> str:
    return str(uuid.uuid5(EDGE_NAMESPACE, relationship_id))


def is_relationship(obj: dict) -> bool:
    return "_fromEntityId" in obj


def core(obj: dict, account_id: str) -> dict:
    """Return the ``entity`` or ``relationship`` metadata block of one object."""
    names = _COMMON_METADATA + (_RELATIONSHIP_ENDS if is_relationship(obj) else ())
    block = {name: obj[name] for name in names if obj.get(name) is not None}
    if not is_relationship(obj):
        block["_type"] = [obj["_type"]]
        block["_class"] = list(obj["_class"])
    # Objects made with GraphQL mutations have no scope; the store keeps "".
    if block.get("_scope") == "":
        del block["_scope"]
    block["_accountId"] = account_id
    block["_deleted"] = bool(obj.get("_deleted"))
    if "displayName" in obj:
        block["displayName"] = obj["displayName"]
    return block


def properties(obj: dict) -> dict:
    """Return the custom properties: no ``_`` names, no ``displayName``."""
    return {
        name: value
        for name, value in obj.items()
        if not name.startswith("_") and name != "displayName"
    }


def vertex(entity: dict, account_id: str) -> dict:
    return {
        "id": vertex_id(entity["_id"]),
        "entity": core(entity, account_id),
        "properties": properties(entity),
    }


def edge(relationship: dict, account_id: str) -> dict:
    return {
        "id": edge_id(relationship["_id"]),
        "fromVertexId": vertex_id(relationship["_fromEntityId"]),
        "toVertexId": vertex_id(relationship["_toEntityId"]),
        "relationship": core(relationship, account_id),
        "properties": properties(relationship),
    }


def columns(obj: dict, account_id: str) -> dict:
    """Return one object as flat table columns: metadata, then properties."""
    return {**core(obj, account_id), **properties(obj)}
