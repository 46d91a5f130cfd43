"""The part of J1's GraphQL schema that the emulator serves.

Field and type names follow the schema that jupiterone-client-go ships
(introspected from J1). Each type maps a field to the object type it returns,
or to None for a scalar or ``JSON`` field, which is returned as it is.
"""

from __future__ import annotations

_ENTITY_CORE = (
    "_id", "_key", "_type", "_class", "_source", "_scope", "_accountId", "_version",
    "_deleted", "_createdOn", "_beginOn", "_endOn", "_latest", "_integrationType",
    "_integrationClass", "_integrationName", "_integrationDefinitionId",
    "_integrationInstanceId", "_rawDataHashes", "displayName",
)  # fmt: skip
_RELATIONSHIP_CORE = _ENTITY_CORE + (
    "_fromEntityId", "_toEntityId", "_fromEntityKey", "_toEntityKey",
)  # fmt: skip

SCHEMA: dict[str, dict[str, str | None]] = {
    "Query": {"queryV1": "QueryV1Response"},
    "Mutation": {
        "createEntity": "EntityMutationResponse",
        "updateEntity": "EntityMutationResponse",
        "deleteEntity": "EntityMutationResponse",
        "deleteEntityV2": "EntityResponse",
        "createRelationship": "RelationshipMutationResponse",
        "updateRelationship": "RelationshipMutationResponse",
        "deleteRelationship": "RelationshipMutationResponse",
    },
    "QueryV1Response": dict.fromkeys(
        ("type", "data", "url", "totalCount", "cursor", "correlationId")
    ),
    "EntityMutationResponse": {"entity": "EntityCoreProperties", "vertex": "Vertex"},
    "EntityResponse": {"entity": None},
    "Vertex": {"id": None, "entity": "EntityCoreProperties", "properties": None},
    "EntityCoreProperties": dict.fromkeys(_ENTITY_CORE),
    "RelationshipMutationResponse": {
        "relationship": "RelationshipCoreProperties",
        "edge": "Edge",
    },
    "Edge": {
        "id": None,
        "toVertexId": None,
        "fromVertexId": None,
        "relationship": "RelationshipCoreProperties",
        "properties": None,
    },
    "RelationshipCoreProperties": dict.fromkeys(_RELATIONSHIP_CORE),
}
