"""Read loaded documents into entities and relationships.

Three shapes are accepted and normalised to one:

- J1's bulk-upload document, ``{entities: [...], relationships: [...]}``;
- a bare list of entities;
- entities in the shape of J1's ``j1`` CLI input: ``entityKey``, ``entityType``,
  ``entityClass`` and a ``properties`` mapping.

Relationships may leave out ``_key`` and ``_type``; these are filled in later, by
``resolve_relationships``, with the J1 integration SDK's conventions.
"""

from __future__ import annotations

from typing import Any

from j1gitops.diagnostics import Diagnostic, Location, error
from j1gitops.inventory.model import TOOL_METADATA_KEY, Entity, EntityRef, Relationship
from j1gitops.inventory.yamlload import SourceDict

DOCUMENT_KEYS = ("entities", "relationships")
CLI_ENTITY_KEYS = {"entityKey", "entityType", "entityClass", "properties", "entityId"}
TOOL_METADATA_FIELDS = {"protect": bool}

# Relationship fields that name its ends; none of them is a property.
END_FIELDS = {
    "_fromEntityKey": ("from", "key"),
    "_fromEntityId": ("from", "id"),
    "_fromEntitySource": ("from", "source"),
    "_fromEntityScope": ("from", "scope"),
    "_toEntityKey": ("to", "key"),
    "_toEntityId": ("to", "id"),
    "_toEntitySource": ("to", "source"),
    "_toEntityScope": ("to", "scope"),
}


class DocumentReader:
    """Collect the entities and relationships of one file's documents."""

    def __init__(self, path: str):
        self.path = path
        self.entities: list[Entity] = []
        self.relationships: list[Relationship] = []
        self.diagnostics: list[Diagnostic] = []

    def location(self, node: Any, key: str | None = None) -> Location:
        if isinstance(node, SourceDict):
            position = node.key_positions.get(key) if key is not None else None
            line, column = position or node.position
            return Location(self.path, line, column)
        position = getattr(node, "position", (1, 1))
        return Location(self.path, *position)

    def fail(self, node: Any, message: str, rule: str, key: str | None = None) -> None:
        self.diagnostics.append(error(self.location(node, key), message, rule))

    def read_document(self, document: Any, position: tuple[int, int]) -> None:
        if document is None:
            return
        if isinstance(document, list):
            self.read_entities(document)
            return
        if not isinstance(document, dict):
            self.diagnostics.append(
                error(
                    Location(self.path, *position),
                    "a document must be a mapping with 'entities' and 'relationships' "
                    f"lists, or a list of entities; found {type(document).__name__}",
                    "document-shape",
                )
            )
            return
        self.read_bulk_document(document)

    def read_bulk_document(self, document: dict) -> None:
        for key in document:
            if key not in DOCUMENT_KEYS:
                self.fail(
                    document,
                    f"unknown top-level key {key!r}; a document holds only "
                    "'entities' and 'relationships'",
                    "document-shape",
                    key,
                )
        entities = document.get("entities")
        relationships = document.get("relationships")
        for name, items in (("entities", entities), ("relationships", relationships)):
            if items is not None and not isinstance(items, list):
                self.fail(document, f"'{name}' must be a list", "document-shape", name)
        if isinstance(entities, list):
            self.read_entities(entities)
        if isinstance(relationships, list):
            for item in relationships:
                self.read_relationship(item)

    def read_entities(self, items: list) -> None:
        for item in items:
            if isinstance(item, dict) and "_key" not in item and "entityKey" in item:
                item = self.from_cli_shape(item)
                if item is None:
                    continue
            self.read_entity(item)

    def from_cli_shape(self, item: SourceDict) -> SourceDict | None:
        """Turn a ``j1`` CLI entity into the bulk-upload shape, keeping positions."""
        for key in item:
            if key not in CLI_ENTITY_KEYS:
                self.fail(
                    item,
                    f"unknown key {key!r} in an entity of the j1 CLI shape; expected "
                    "entityKey, entityType, entityClass and properties",
                    "document-shape",
                    key,
                )
                return None
        properties = item.get("properties") or {}
        if not isinstance(properties, dict):
            self.fail(
                item, "'properties' must be a mapping", "document-shape", "properties"
            )
            return None
        converted = SourceDict()
        converted.position = item.position
        converted.key_positions = {}
        for source, target in (
            ("entityKey", "_key"),
            ("entityType", "_type"),
            ("entityClass", "_class"),
        ):
            if source in item:
                converted[target] = item[source]
                converted.key_positions[target] = item.key_positions[source]
        for key, value in properties.items():
            converted[key] = value
            converted.key_positions[key] = properties.key_positions[key]
        return converted

    def read_entity(self, item: Any) -> None:
        if not isinstance(item, dict):
            self.fail(
                item,
                f"an entity must be a mapping, found {_kind(item)}",
                "entity-shape",
            )
            return
        key = self.identity_field(item, "_key", "entity")
        type_ = self.identity_field(item, "_type", "entity")
        classes = self.entity_classes(item)
        metadata = self.tool_metadata(item)
        if key is None or type_ is None or classes is None or metadata is None:
            return
        properties = {
            name: value
            for name, value in item.items()
            if name not in ("_key", "_type", "_class", TOOL_METADATA_KEY)
        }
        self.entities.append(
            Entity(
                key=key,
                type=type_,
                classes=classes,
                properties=properties,
                location=self.location(item),
                property_positions=item.key_positions,
                metadata=metadata,
            )
        )

    def identity_field(self, item: SourceDict, name: str, kind: str) -> str | None:
        value = item.get(name)
        if name not in item:
            self.fail(
                item, f"{kind} is missing required {name}; add it", "required-field"
            )
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(
                item,
                f"{kind} {name} must be a non-empty string, found {value!r}",
                "required-field",
                name,
            )
            return None
        return value

    def entity_classes(self, item: SourceDict) -> tuple[str, ...] | None:
        value = item.get("_class")
        if "_class" not in item:
            self.fail(
                item, "entity is missing required _class; add it", "required-field"
            )
            return None
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v.strip() for v in values):
            self.fail(
                item,
                f"entity _class must be a class name or a list of them, found {value!r}",
                "required-field",
                "_class",
            )
            return None
        return tuple(values)

    def tool_metadata(self, item: SourceDict) -> dict | None:
        metadata = item.get(TOOL_METADATA_KEY, {})
        if not isinstance(metadata, dict):
            self.fail(
                item,
                f"{TOOL_METADATA_KEY} must be a mapping such as '{{protect: true}}'",
                "tool-metadata",
                TOOL_METADATA_KEY,
            )
            return None
        for name, value in metadata.items():
            expected = TOOL_METADATA_FIELDS.get(name)
            if expected is None or not isinstance(value, expected):
                known = ", ".join(TOOL_METADATA_FIELDS)
                self.fail(
                    item,
                    f"invalid {TOOL_METADATA_KEY} field {name}: {value!r}; "
                    f"known fields: {known} (true or false)",
                    "tool-metadata",
                    TOOL_METADATA_KEY,
                )
                return None
        return dict(metadata)

    def read_relationship(self, item: Any) -> None:
        if not isinstance(item, dict):
            self.fail(
                item,
                f"a relationship must be a mapping, found {_kind(item)}",
                "entity-shape",
            )
            return
        verb = self.identity_field(item, "_class", "relationship")
        ends = {"from": EntityRef(), "to": EntityRef()}
        valid = verb is not None
        for field_name, (end, attribute) in END_FIELDS.items():
            if field_name not in item:
                continue
            value = item[field_name]
            if not isinstance(value, str) or not value:
                self.fail(
                    item,
                    f"relationship {field_name} must be a non-empty string, found {value!r}",
                    "required-field",
                    field_name,
                )
                valid = False
            setattr(ends[end], attribute, value)
        for end in ("from", "to"):
            valid = self.check_end(item, end, ends[end]) and valid
        key = self.optional_string(item, "_key")
        type_ = self.optional_string(item, "_type")
        if not valid or key is False or type_ is False:
            return
        properties = {
            name: value
            for name, value in item.items()
            if name not in END_FIELDS and name not in ("_key", "_type", "_class")
        }
        self.relationships.append(
            Relationship(
                key=key,
                type=type_,
                verb=verb,
                from_ref=ends["from"],
                to_ref=ends["to"],
                properties=properties,
                location=self.location(item),
                property_positions=item.key_positions,
            )
        )

    def check_end(self, item: SourceDict, end: str, ref: EntityRef) -> bool:
        prefix = f"_{end}Entity"
        if ref.key is None and ref.id is None:
            self.fail(
                item,
                f"relationship is missing {prefix}Key (or {prefix}Id for an entity "
                "outside the inventory); add it",
                "required-field",
            )
            return False
        if ref.key is not None and ref.id is not None:
            self.fail(
                item,
                f"relationship gives both {prefix}Key and {prefix}Id; keep one",
                "relationship-end",
                f"{prefix}Id",
            )
            return False
        if (ref.source is None) != (ref.scope is None) and ref.id is None:
            self.fail(
                item,
                f"relationship must give {prefix}Source and {prefix}Scope together "
                "to name an entity of another scope",
                "relationship-end",
            )
            return False
        return True

    def optional_string(self, item: SourceDict, name: str) -> str | None | bool:
        """Return the string, None when absent, or False when it is invalid."""
        if name not in item:
            return None
        value = item[name]
        if isinstance(value, str) and value.strip():
            return value
        self.fail(
            item,
            f"relationship {name} must be a non-empty string, found {value!r}",
            "required-field",
            name,
        )
        return False


def _kind(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return type(value).__name__
    return repr(value)


def relationship_type(verb: str, from_type: str, to_type: str) -> str:
    """Build a relationship ``_type`` the way J1's integration SDK does.

    The SDK (``generateRelationshipType`` in ``@jupiterone/integration-sdk-core``)
    drops the leading ``_``-separated segments that ``to_type`` shares with
    ``from_type``, keeping at least its last one, except that a one-segment
    ``to_type`` equal to ``from_type``'s first segment is dropped entirely:
    ``acme_account`` HAS ``acme`` gives ``acme_account_has_``. That quirk is kept
    so that our keys match what the SDK would produce.
    """
    from_parts = from_type.split("_")
    to_parts = to_type.split("_")
    shared = 0
    while True:
        if shared < len(from_parts) and to_parts[shared] == from_parts[shared]:
            shared += 1
        else:
            break
        if shared >= len(to_parts) - 1:
            break
    return f"{from_type}_{verb.lower()}_{'_'.join(to_parts[shared:])}"


def relationship_key(verb: str, from_key: str, to_key: str) -> str:
    """Build a relationship ``_key`` as the SDK does: ``from|verb|to``."""
    return f"{from_key}|{verb.lower()}|{to_key}"


def resolve_relationships(
    relationships: list[Relationship], entity_types: dict[str, str]
) -> list[Diagnostic]:
    """Fill in each relationship's default ``_key`` and ``_type``.

    ``entity_types`` maps the inventory's entity keys to their ``_type``. A
    relationship to an entity outside the inventory has no known ``_type`` at
    that end, so it must give its own ``_type``.
    """
    diagnostics = []
    for relationship in relationships:
        from_ref, to_ref = relationship.from_ref, relationship.to_ref
        if relationship.key is None:
            relationship.key = relationship_key(
                relationship.verb, from_ref.key or from_ref.id, to_ref.key or to_ref.id
            )
        if relationship.type is not None:
            continue
        from_type = None if from_ref.is_external else entity_types.get(from_ref.key)
        to_type = None if to_ref.is_external else entity_types.get(to_ref.key)
        if from_type is None or to_type is None:
            if from_ref.is_external or to_ref.is_external:
                diagnostics.append(
                    error(
                        relationship.location,
                        f"relationship {relationship.key!r} points at an entity outside "
                        "the inventory, so its _type cannot be derived; add _type",
                        "relationship-type",
                    )
                )
            continue
        relationship.type = relationship_type(relationship.verb, from_type, to_type)
    return diagnostics
