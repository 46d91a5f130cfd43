"""The plan: pure data, computed once and rendered by every view.

Nothing here does I/O. A ``Plan`` serialises to JSON (``to_dict``) and back
(``from_dict``); the saved-plan file wraps that with the facts needed to check
that the plan still applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

PLAN_FORMAT_VERSION = 1


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Kind(str, Enum):
    ENTITY = "entity"
    RELATIONSHIP = "relationship"


# The order in which views list changes: deletes first, so that reviewers see them.
ACTION_ORDER = {Action.DELETE: 0, Action.CREATE: 1, Action.UPDATE: 2}


@dataclass
class PropertyChange:
    """One property of an updated object: ``added``, ``changed`` or ``removed``."""

    name: str
    change: str
    before: Any = None
    after: Any = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "change": self.change,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class Change:
    """One object to create, update or delete.

    ``before`` is the object as the target stores it (without system metadata) and
    ``after`` as the inventory wants it; a create has no ``before`` and a delete
    no ``after``. ``reason`` says in words why the action was planned.
    """

    kind: Kind
    action: Action
    key: str
    type: str
    reason: str
    before: dict | None = None
    after: dict | None = None
    properties: list[PropertyChange] = field(default_factory=list)
    # Where the object is defined in the inventory ("inventory/people.yaml:12"),
    # or None for a delete.
    source: str | None = None
    # The target's ``_id`` of the object, for updates and deletes.
    id: str | None = None
    protected: bool = False

    def sort_key(self) -> tuple:
        return (
            ACTION_ORDER[self.action],
            self.kind != Kind.ENTITY,
            self.type,
            self.key,
        )

    def to_dict(self) -> dict:
        return {
            "kind": self.kind.value,
            "action": self.action.value,
            "key": self.key,
            "type": self.type,
            "reason": self.reason,
            "id": self.id,
            "source": self.source,
            "protected": self.protected,
            "before": self.before,
            "after": self.after,
            "properties": [p.to_dict() for p in self.properties],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Change:
        return cls(
            kind=Kind(data["kind"]),
            action=Action(data["action"]),
            key=data["key"],
            type=data["type"],
            reason=data["reason"],
            before=data.get("before"),
            after=data.get("after"),
            properties=[PropertyChange(**p) for p in data.get("properties", [])],
            source=data.get("source"),
            id=data.get("id"),
            protected=data.get("protected", False),
        )


@dataclass
class Counts:
    create: int = 0
    update: int = 0
    delete: int = 0

    @property
    def total(self) -> int:
        return self.create + self.update + self.delete


@dataclass
class Plan:
    """The changes that make a scope contain exactly the inventory."""

    scope: str
    target: str
    changes: list[Change] = field(default_factory=list)
    unchanged_entities: int = 0
    unchanged_relationships: int = 0
    # The size of the scope before the plan: what the target held.
    live_entities: int = 0
    live_relationships: int = 0

    def __post_init__(self) -> None:
        self.changes.sort(key=Change.sort_key)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def counts(self, kind: Kind | None = None) -> Counts:
        counts = Counts()
        for change in self.changes:
            if kind is None or change.kind is kind:
                setattr(
                    counts,
                    change.action.value,
                    getattr(counts, change.action.value) + 1,
                )
        return counts

    def by_action(self, action: Action) -> list[Change]:
        return [change for change in self.changes if change.action is action]

    def summary(self) -> str:
        """Return the summary line, a stable public interface that CI may match on."""
        if not self.changes:
            return "No changes."
        counts = self.counts()
        return (
            f"Plan: {counts.create} to create, {counts.update} to update, "
            f"{counts.delete} to delete."
        )

    def to_dict(self) -> dict:
        counts = self.counts()
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "scope": self.scope,
            "target": self.target,
            "summary": {
                "create": counts.create,
                "update": counts.update,
                "delete": counts.delete,
                "unchanged_entities": self.unchanged_entities,
                "unchanged_relationships": self.unchanged_relationships,
                "live_entities": self.live_entities,
                "live_relationships": self.live_relationships,
            },
            "changes": [change.to_dict() for change in self.changes],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        summary = data.get("summary", {})
        return cls(
            scope=data["scope"],
            target=data["target"],
            changes=[Change.from_dict(c) for c in data.get("changes", [])],
            unchanged_entities=summary.get("unchanged_entities", 0),
            unchanged_relationships=summary.get("unchanged_relationships", 0),
            live_entities=summary.get("live_entities", 0),
            live_relationships=summary.get("live_relationships", 0),
        )
