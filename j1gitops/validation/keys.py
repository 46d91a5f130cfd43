"""Rules across the whole inventory: unique ``_key`` values, relationship ends."""

from __future__ import annotations

from j1gitops.diagnostics import Diagnostic, Location, error
from j1gitops.inventory.model import EntityRef, Inventory, Relationship


def check_duplicate_keys(inventory: Inventory, scope: str) -> list[Diagnostic]:
    """Report every entity or relationship whose ``_key`` was used before it.

    Entities and relationships are checked separately. Each finding sits at the
    later occurrence and names the location of the first.
    """
    where = f"scope {scope!r}" if scope else "the scope"
    found = []
    for kind, items in (
        ("entity", inventory.entities),
        ("relationship", inventory.relationships),
    ):
        first: dict[str, Location] = {}
        for item in items:
            if item.key is None:
                continue
            earlier = first.get(item.key)
            if earlier is None:
                first[item.key] = item.location
                continue
            found.append(
                error(
                    item.location,
                    f"{kind} _key {item.key!r} is used at {item.location} and at "
                    f"{earlier}; a _key must be unique within {where}, so change "
                    "one of them",
                    f"duplicate-{kind}-key",
                )
            )
    return found


def check_ends(relationship: Relationship, entity_keys: set[str]) -> list[Diagnostic]:
    """Report relationship ends that name no entity of the inventory."""
    found = []
    for end, ref in (("from", relationship.from_ref), ("to", relationship.to_ref)):
        if ref.is_external or ref.key in entity_keys:
            continue
        found.append(
            error(
                relationship.property_location(f"_{end}EntityKey"),
                _dangling_message(relationship, end, ref),
                "dangling-relationship",
            )
        )
    return found


def _dangling_message(relationship: Relationship, end: str, ref: EntityRef) -> str:
    prefix = f"_{end}Entity"
    return (
        f"{relationship.label()}: {prefix}Key {ref.key!r} is not an entity of this "
        f"inventory; fix the key, add the entity, or give {prefix}Id, or "
        f"{prefix}Source and {prefix}Scope, for an entity outside the inventory"
    )
