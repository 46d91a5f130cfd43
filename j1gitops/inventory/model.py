"""The entity and relationship types that the inventory is read into.

Field names follow J1: ``key`` is ``_key``, ``type`` is ``_type``, ``classes`` is
``_class`` (always a tuple here; J1 accepts a string or a list). ``properties``
contains every other property, flat, exactly as J1 would store it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from j1gitops.diagnostics import Location

# The tool's own per-entity metadata key. J1 rejects or ignores properties that
# start with "_", so this key can never collide with a real property, and it is
# stripped before anything is uploaded.
TOOL_METADATA_KEY = "_j1gitops"


@dataclass
class Entity:
    key: str
    type: str
    classes: tuple[str, ...]
    properties: dict[str, Any]
    location: Location
    # Line and column of each property's key in the source, for diagnostics.
    property_positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Tool metadata from the ``_j1gitops`` mapping (for example ``protect: true``).
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def protected(self) -> bool:
        return self.metadata.get("protect") is True

    def property_location(self, name: str) -> Location:
        position = self.property_positions.get(name)
        if position is None:
            return self.location
        return Location(self.location.file, position[0], position[1])

    def label(self) -> str:
        """Return how messages name this entity: its type and key."""
        return f"{self.type} {self.key!r}"


@dataclass
class EntityRef:
    """One end of a relationship: an entity of the inventory by key, or an external one.

    An end is external when it names an ``_id`` (``_fromEntityId``), or a key with
    a ``source`` and ``scope`` of its own (``_fromEntitySource`` and
    ``_fromEntityScope``) that differ from this inventory's.
    """

    key: str | None = None
    id: str | None = None
    source: str | None = None
    scope: str | None = None

    @property
    def is_external(self) -> bool:
        return self.id is not None or self.scope is not None or self.source is not None

    def describe(self) -> str:
        if self.id is not None:
            return f"_id {self.id!r}"
        if self.scope is not None or self.source is not None:
            return f"_key {self.key!r} in {self.source or 'api'}:{self.scope}"
        return f"_key {self.key!r}"


@dataclass
class Relationship:
    key: str
    type: str
    verb: str  # the relationship's _class, one verb such as HAS
    from_ref: EntityRef
    to_ref: EntityRef
    properties: dict[str, Any]
    location: Location
    property_positions: dict[str, tuple[int, int]] = field(default_factory=dict)

    def property_location(self, name: str) -> Location:
        position = self.property_positions.get(name)
        if position is None:
            return self.location
        return Location(self.location.file, position[0], position[1])

    def label(self) -> str:
        return f"relationship {self.key!r}"


@dataclass
class Inventory:
    """Every entity and relationship read from the inventory files, in file order."""

    entities: list[Entity] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def entity_index(self) -> dict[str, Entity]:
        """Return entities by ``_key``; on duplicates the first one wins."""
        index: dict[str, Entity] = {}
        for entity in self.entities:
            index.setdefault(entity.key, entity)
        return index
