"""Compute the plan: the diff between the inventory and the live state of a scope.

Both sides become J1 upload objects (``_key``, ``_type``, ``_class``, the ends of
relationships, and properties), pass through ``j1gitops.normalize``, and are then
compared by ``_key``. Identity is J1's: within a scope an entity or relationship
is its ``_key``, so moving an entity to another file changes nothing.
"""

from __future__ import annotations

from typing import Any

from j1gitops.inventory.model import Entity, EntityRef, Inventory, Relationship
from j1gitops.normalize import canonical_classes, canonical_properties, values_equal
from j1gitops.plan.model import Action, Change, Kind, Plan, PropertyChange
from j1gitops.targets.base import DesiredState, LiveState

# Relationship fields that name where its ends are.
END_FIELDS = ("_fromEntityKey", "_toEntityKey", "_fromEntityId", "_toEntityId")
SCOPED_END_FIELDS = (
    "_fromEntitySource",
    "_fromEntityScope",
    "_toEntitySource",
    "_toEntityScope",
)


def entity_object(entity: Entity) -> dict[str, Any]:
    """Return the entity as J1 upload JSON, without the tool's own metadata."""
    obj: dict[str, Any] = {
        "_key": entity.key,
        "_type": entity.type,
        "_class": entity.classes[0]
        if len(entity.classes) == 1
        else list(entity.classes),
    }
    obj.update(canonical_properties(entity.properties))
    return obj


def _end_fields(prefix: str, ref: EntityRef) -> dict[str, str]:
    if ref.id is not None:
        return {f"_{prefix}EntityId": ref.id}
    fields = {f"_{prefix}EntityKey": ref.key}
    if ref.scope is not None:
        fields[f"_{prefix}EntitySource"] = ref.source or "api"
        fields[f"_{prefix}EntityScope"] = ref.scope
    return fields


def relationship_object(relationship: Relationship) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "_key": relationship.key,
        "_type": relationship.type,
        "_class": relationship.verb,
    }
    obj.update(_end_fields("from", relationship.from_ref))
    obj.update(_end_fields("to", relationship.to_ref))
    obj.update(canonical_properties(relationship.properties))
    return obj


def desired_state(inventory: Inventory) -> DesiredState:
    """Return the upload that makes a scope hold exactly the inventory."""
    return DesiredState(
        entities=[entity_object(entity) for entity in inventory.entities],
        relationships=[relationship_object(r) for r in inventory.relationships],
    )


def _live_entity(obj: dict) -> dict[str, Any]:
    """Strip J1's system metadata from an entity read back from a target."""
    type_ = obj.get("_type")
    if isinstance(type_, list):  # J1QL returns an entity's _type as a list
        type_ = type_[0] if len(type_) == 1 else type_
    classes = canonical_classes(obj.get("_class") or [])
    result: dict[str, Any] = {
        "_key": obj.get("_key"),
        "_type": type_,
        "_class": classes[0] if len(classes) == 1 else list(classes),
    }
    result.update(
        canonical_properties({k: v for k, v in obj.items() if not k.startswith("_")})
    )
    return result


def _live_relationship(obj: dict, scope: str) -> dict[str, Any]:
    """Strip system metadata from a relationship, keeping its ends in upload form.

    An end inside the scope is named by key alone, as the inventory names it.
    An end elsewhere keeps its source and scope, and its ``_id``.
    """
    result: dict[str, Any] = {
        "_key": obj.get("_key"),
        "_type": obj.get("_type"),
        "_class": obj.get("_class"),
    }
    for end in ("from", "to"):
        key = obj.get(f"_{end}EntityKey")
        source = obj.get(f"_{end}EntitySource") or "api"
        end_scope = obj.get(f"_{end}EntityScope") or scope
        if key is not None and source == "api" and end_scope == scope:
            result[f"_{end}EntityKey"] = key
        else:
            result[f"_{end}EntityId"] = obj.get(f"_{end}EntityId")
            result[f"_{end}EntityKey"] = key
            result[f"_{end}EntitySource"] = source
            result[f"_{end}EntityScope"] = end_scope
    result.update(
        canonical_properties({k: v for k, v in obj.items() if not k.startswith("_")})
    )
    return result


def _ends_match(desired: dict, live: dict) -> bool:
    """Compare the ends of a relationship, whichever form the inventory names them in."""
    for end in ("from", "to"):
        expected_id = desired.get(f"_{end}EntityId")
        if expected_id is not None:
            if live.get(f"_{end}EntityId") != expected_id:
                return False
            continue
        for suffix in ("Key", "Source", "Scope"):
            field_name = f"_{end}Entity{suffix}"
            if desired.get(field_name) != live.get(field_name):
                return False
    return True


def property_changes(
    before: dict, after: dict, ignore: tuple = ()
) -> list[PropertyChange]:
    """Compare two objects field by field: added, changed and removed properties."""
    changes = []
    for name in sorted(set(before) | set(after)):
        if name in ignore:
            continue
        if name not in before:
            changes.append(PropertyChange(name, "added", None, after[name]))
        elif name not in after:
            changes.append(PropertyChange(name, "removed", before[name], None))
        elif not values_equal(before[name], after[name]):
            changes.append(PropertyChange(name, "changed", before[name], after[name]))
    return changes


def _class_key(value: Any) -> tuple:
    return canonical_classes(value) if value is not None else ()


def _entity_changes(inventory: Inventory, desired: list[dict], live: list[dict]):
    live_by_key = {obj.get("_key"): obj for obj in live}
    changes, unchanged = [], 0
    for entity, after in zip(inventory.entities, desired, strict=True):
        stored = live_by_key.pop(entity.key, None)
        source = f"{entity.location.file}:{entity.location.line}"
        if stored is None:
            changes.append(
                Change(
                    Kind.ENTITY,
                    Action.CREATE,
                    entity.key,
                    entity.type,
                    "not in the target",
                    after=after,
                    source=source,
                    protected=entity.protected,
                )
            )
            continue
        before = _live_entity(stored)
        diff = property_changes(before, after, ignore=("_class",))
        if _class_key(before["_class"]) != _class_key(after["_class"]):
            diff.insert(
                0,
                PropertyChange("_class", "changed", before["_class"], after["_class"]),
            )
        if not diff:
            unchanged += 1
            continue
        changes.append(
            Change(
                Kind.ENTITY,
                Action.UPDATE,
                entity.key,
                entity.type,
                "properties differ",
                before=before,
                after=after,
                properties=diff,
                source=source,
                id=stored.get("_id"),
                protected=entity.protected,
            )
        )
    for key, stored in sorted(live_by_key.items(), key=lambda item: str(item[0])):
        before = _live_entity(stored)
        changes.append(
            Change(
                Kind.ENTITY,
                Action.DELETE,
                key,
                str(before["_type"]),
                "not in the inventory",
                before=before,
                id=stored.get("_id"),
            )
        )
    return changes, unchanged


def _relationship_changes(
    inventory: Inventory, desired: list[dict], live: list[dict], scope: str
):
    live_by_key = {obj.get("_key"): obj for obj in live}
    changes, unchanged = [], 0
    for relationship, after in zip(inventory.relationships, desired, strict=True):
        stored = live_by_key.pop(relationship.key, None)
        source = f"{relationship.location.file}:{relationship.location.line}"
        if stored is None:
            changes.append(
                Change(
                    Kind.RELATIONSHIP,
                    Action.CREATE,
                    relationship.key,
                    relationship.type,
                    "not in the target",
                    after=after,
                    source=source,
                )
            )
            continue
        before = _live_relationship(stored, scope)
        ignore = END_FIELDS + SCOPED_END_FIELDS
        diff = property_changes(before, after, ignore=ignore)
        if not _ends_match(after, before):
            for name in END_FIELDS + SCOPED_END_FIELDS:
                if name in after and not values_equal(before.get(name), after[name]):
                    diff.append(
                        PropertyChange(name, "changed", before.get(name), after[name])
                    )
        if not diff:
            unchanged += 1
            continue
        changes.append(
            Change(
                Kind.RELATIONSHIP,
                Action.UPDATE,
                relationship.key,
                relationship.type,
                "properties differ",
                before=before,
                after=after,
                properties=diff,
                source=source,
                id=stored.get("_id"),
            )
        )
    for key, stored in sorted(live_by_key.items(), key=lambda item: str(item[0])):
        before = _live_relationship(stored, scope)
        changes.append(
            Change(
                Kind.RELATIONSHIP,
                Action.DELETE,
                key,
                str(before["_type"]),
                "not in the inventory",
                before=before,
                id=stored.get("_id"),
            )
        )
    return changes, unchanged


def compute_plan(
    inventory: Inventory, live: LiveState, scope: str, target: str
) -> tuple[Plan, DesiredState]:
    """Diff the inventory against the live state; return the plan and the upload."""
    desired = desired_state(inventory)
    entity_changes, unchanged_entities = _entity_changes(
        inventory, desired.entities, live.entities
    )
    relationship_changes, unchanged_relationships = _relationship_changes(
        inventory, desired.relationships, live.relationships, scope
    )
    plan = Plan(
        scope=scope,
        target=target,
        changes=entity_changes + relationship_changes,
        unchanged_entities=unchanged_entities,
        unchanged_relationships=unchanged_relationships,
        live_entities=len(live.entities),
        live_relationships=len(live.relationships),
    )
    return plan, desired
