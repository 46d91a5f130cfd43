"""The J1QL syntax tree, named after the nodes of J1's own parser where known.

J1's ``@jupiterone/query-language-parser`` gives each step ``classes``,
``types`` and a ``direction`` of ``out``, ``in`` or ``both``; the emulator
keeps those names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldRef:
    """A property: ``name`` on the current step (WITH), or ``alias.name`` (WHERE)."""

    name: str
    alias: str | None = None


@dataclass(frozen=True)
class Literal:
    value: Any  # str, int, float, bool, or None for ``undefined``/``null``


@dataclass(frozen=True)
class Variable:
    """A ``${name}`` placeholder, bound from the ``variables`` of the request."""

    name: str


@dataclass(frozen=True)
class Regex:
    pattern: str
    flags: str


@dataclass(frozen=True)
class DateNow:
    """``date.now`` plus ``offset_ms`` (negative for ``date.now - 1 day``)."""

    offset_ms: int = 0


@dataclass(frozen=True)
class ValueSet:
    """The shorthand ``= ('a' OR 'b')`` (``any_of``) or ``= ('a' AND 'b')``."""

    values: tuple
    any_of: bool


Value = Literal | Variable | Regex | DateNow | ValueSet | FieldRef


@dataclass(frozen=True)
class Comparison:
    field: FieldRef
    operator: str  # = != > < >= <= ~= ^= $= !~= !^= !$=
    value: Value


@dataclass(frozen=True)
class BooleanExpression:
    operator: str  # AND or OR
    operands: tuple


Expression = Comparison | BooleanExpression


@dataclass
class Step:
    """One entity step: ``FIND <target> WITH <filters> AS <alias>``."""

    classes: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    filters: Expression | None = None
    alias: str | None = None

    @property
    def matches_any(self) -> bool:
        return not self.classes and not self.types

    @property
    def label(self) -> str | None:
        """Return the name a selector may use without an alias (``User._type``)."""
        if self.alias:
            return self.alias
        names = self.classes + self.types
        return names[0] if len(names) == 1 else None


@dataclass
class Traversal:
    """``THAT [!]<VERB> [>>|<<] [AS alias] <step>``."""

    step: Step
    verbs: list[str] = field(default_factory=list)  # upper case; empty means any
    negated: bool = False
    direction: str = "both"  # out, in or both
    alias: str | None = None

    @property
    def label(self) -> str | None:
        if self.alias:
            return self.alias
        return self.verbs[0] if len(self.verbs) == 1 else None


@dataclass(frozen=True)
class ReturnItem:
    """``alias.property``, ``alias.*`` (property ``*``) or ``alias`` (property None)."""

    alias: str
    property: str | None
    name: str | None = None  # from ``AS name``

    @property
    def key(self) -> str:
        if self.name:
            return self.name
        return self.alias if self.property is None else f"{self.alias}.{self.property}"


@dataclass
class Query:
    start: Step
    traversals: list[Traversal] = field(default_factory=list)
    unique: bool = False
    where: Expression | None = None
    returns: list[ReturnItem] | None = None
    tree: bool = False
    order_by: list[tuple[FieldRef, bool]] = field(default_factory=list)  # (ref, desc)
    skip: int | None = None
    limit: int | None = None
