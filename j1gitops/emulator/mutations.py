"""J1's GraphQL entity and relationship mutations, over the store.

``createEntity`` is an upsert: it updates the live entity with the same
``_key`` and ``_type`` if there is one, else it creates an entity with
``_source: api`` and no scope (the scope J1 gives such entities is
unconfirmed). ``updateEntity`` and ``updateRelationship``
change only the properties sent. Deleting an entity deletes its relationships.
``fromEntityId``/``toEntityId`` on update and delete are accepted and ignored,
because J1's Python client 2.x sends them but J1's published schema lacks them.
"""

from __future__ import annotations

from j1gitops.emulator import render
from j1gitops.emulator.backend import Backend
from j1gitops.emulator.graphql.execute import GraphQLError
from j1gitops.store.sqlite import SyncDataError

# NOTE: J1's error messages and codes for an unknown _id are unconfirmed; these
# follow the NOT_FOUND code that J1 sends for other missing objects.
NOT_FOUND = "NOT_FOUND"


class Mutations:
    def __init__(self, backend: Backend):
        self.backend = backend
        self.account = backend.account_id

    def resolvers(self) -> dict:
        return {
            "createEntity": self.create_entity,
            "updateEntity": self.update_entity,
            "deleteEntity": self.delete_entity,
            "deleteEntityV2": self.delete_entity_v2,
            "createRelationship": self.create_relationship,
            "updateRelationship": self.update_relationship,
            "deleteRelationship": self.delete_relationship,
        }

    # Entities

    def create_entity(self, arguments: dict) -> dict:
        key = _required_string(arguments, "entityKey")
        type_ = _required_string(arguments, "entityType")
        classes = arguments.get("entityClass")
        if isinstance(classes, str):
            classes = [classes]
        if not isinstance(classes, list) or not classes:
            raise GraphQLError("entityClass must be a non-empty list of strings")
        obj = {**_properties(arguments), "_key": key, "_type": type_, "_class": classes}
        with self.backend.lock:
            try:
                entity, _ = self.backend.store.upsert_entity(obj)
            except SyncDataError as exc:
                raise GraphQLError(str(exc)) from exc
        return self._entity_response(entity)

    def update_entity(self, arguments: dict) -> dict:
        entity_id = _required_string(arguments, "entityId")
        with self.backend.lock:
            entity = self.backend.store.update_entity(entity_id, _properties(arguments))
        if entity is None:
            raise GraphQLError(f"Entity not found: {entity_id}", NOT_FOUND)
        return self._entity_response(entity)

    def delete_entity(self, arguments: dict) -> dict:
        return self._entity_response(self._delete_entity(arguments))

    def delete_entity_v2(self, arguments: dict) -> dict:
        # What J1 puts in this JSON is unconfirmed; the deleted entity is likely.
        entity = self._delete_entity(arguments)
        return {
            "__typename": "EntityResponse",
            "entity": render.columns(entity, self.account),
        }

    def _delete_entity(self, arguments: dict) -> dict:
        entity_id = _required_string(arguments, "entityId")
        with self.backend.lock:
            entity = self.backend.store.delete_entity(
                entity_id, hard=bool(arguments.get("hardDelete"))
            )
        if entity is None:
            raise GraphQLError(f"Entity not found: {entity_id}", NOT_FOUND)
        return entity

    def _entity_response(self, entity: dict) -> dict:
        vertex = render.vertex(entity, self.account)
        return {"__typename": "EntityMutationResponse", "entity": vertex["entity"],
                "vertex": vertex}  # fmt: skip

    # Relationships

    def create_relationship(self, arguments: dict) -> dict:
        obj = {
            **_properties(arguments),
            "_key": _required_string(arguments, "relationshipKey"),
            "_type": _required_string(arguments, "relationshipType"),
            "_class": _required_string(arguments, "relationshipClass"),
        }
        from_id = _required_string(arguments, "fromEntityId")
        to_id = _required_string(arguments, "toEntityId")
        with self.backend.lock:
            try:
                result = self.backend.store.upsert_relationship(obj, from_id, to_id)
            except SyncDataError as exc:
                raise GraphQLError(str(exc)) from exc
        if result is None:
            raise GraphQLError(
                f"Entity not found: {from_id} or {to_id} (the relationship's ends)",
                NOT_FOUND,
            )
        return self._relationship_response(result[0])

    def update_relationship(self, arguments: dict) -> dict:
        relationship_id = _required_string(arguments, "relationshipId")
        with self.backend.lock:
            relationship = self.backend.store.update_relationship(
                relationship_id, _properties(arguments)
            )
        if relationship is None:
            raise GraphQLError(f"Relationship not found: {relationship_id}", NOT_FOUND)
        return self._relationship_response(relationship)

    def delete_relationship(self, arguments: dict) -> dict:
        relationship_id = _required_string(arguments, "relationshipId")
        with self.backend.lock:
            relationship = self.backend.store.delete_relationship(
                relationship_id, hard=bool(arguments.get("hardDelete"))
            )
        if relationship is None:
            raise GraphQLError(f"Relationship not found: {relationship_id}", NOT_FOUND)
        return self._relationship_response(relationship)

    def _relationship_response(self, relationship: dict) -> dict:
        edge = render.edge(relationship, self.account)
        return {"__typename": "RelationshipMutationResponse",
                "relationship": edge["relationship"], "edge": edge}  # fmt: skip


def _required_string(arguments: dict, name: str) -> str:
    value = arguments.get(name)
    if not isinstance(value, str) or not value:
        raise GraphQLError(f"{name} must be a non-empty string")
    return value


def _properties(arguments: dict) -> dict:
    """Return the ``properties`` argument, checked as J1 checks property values."""
    properties = arguments.get("properties") or {}
    if not isinstance(properties, dict):
        raise GraphQLError("properties must be an object")
    for name, value in properties.items():
        nested = isinstance(value, dict) or (
            isinstance(value, list)
            and any(isinstance(item, (dict, list)) for item in value)
        )
        if nested:
            raise GraphQLError(
                f"property {name!r} must not hold nested objects or lists"
            )
    return properties
