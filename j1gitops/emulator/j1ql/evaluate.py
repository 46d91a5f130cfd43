"""Run a parsed J1QL query over the emulator's store.

A query yields paths: a starting entity, then for each ``THAT`` one
relationship and the entity at its other end. WHERE filters paths, ORDER BY
sorts them, and SKIP and LIMIT count starting entities: in the words of J1's
reference, they "only apply to the starting entities of traversal". Without RETURN the
result is the list of starting entities; RETURN TREE gives every entity and
relationship on the paths; other RETURNs give one table row per path.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from j1gitops.emulator.j1ql.ast import (
    BooleanExpression,
    Comparison,
    DateNow,
    FieldRef,
    Literal,
    Query,
    Regex,
    Step,
    Traversal,
    ValueSet,
    Variable,
)
from j1gitops.emulator.j1ql.compare import compare
from j1gitops.emulator.j1ql.lexer import J1QLSyntaxError


@dataclass(frozen=True)
class EntityHint:
    """The values the starting step's filters pin down, so the source can narrow its read."""

    source: str | None = None
    scope: str | None = None
    ids: tuple[str, ...] | None = None


class GraphSource(Protocol):
    """Entities and relationships in J1's JSON shape, as the store returns them."""

    def entities(self, hint: EntityHint, include_deleted: bool) -> Iterable[dict]: ...

    def entities_by_id(self, ids: Iterable[str], include_deleted: bool) -> dict: ...

    def relationships_touching(
        self, ids: Iterable[str], include_deleted: bool
    ) -> list[dict]: ...


@dataclass
class QueryResult:
    kind: str  # list, table or tree
    entities: list[dict] = field(default_factory=list)  # list and tree
    relationships: list[dict] = field(default_factory=list)  # tree
    rows: list[dict] = field(default_factory=list)  # table


class Evaluator:
    def __init__(
        self,
        source: GraphSource,
        variables: dict[str, Any] | None = None,
        include_deleted: bool = False,
        project=None,
    ):
        self.source = source
        self.variables = variables or {}
        self.include_deleted = include_deleted
        self.now_ms = int(time.time() * 1000)
        # Turns one entity or relationship into table columns (see render.py).
        self.project = project

    def run(self, query: Query) -> QueryResult:
        labels = _labels(query)
        _check_selectors(query, labels)
        paths = [(entity,) for entity in self.start(query.start)]
        for traversal in query.traversals:
            paths = self.traverse(paths, traversal)
        if query.where is not None:
            paths = [p for p in paths if self.matches(query.where, p, labels)]
        if query.order_by:
            paths = self.sort(paths, query.order_by, labels)
        paths = _page_by_start(paths, query.skip, query.limit)
        return self.result(query, paths, labels)

    # Steps

    def start(self, step: Step) -> list[dict]:
        hint = self.hint(step.filters)
        return [
            entity
            for entity in self.source.entities(hint, self.include_deleted)
            if self.step_matches(step, entity)
        ]

    def step_matches(self, step: Step, entity: dict) -> bool:
        if not step.matches_any:
            classes = _as_list(entity.get("_class"))
            if not (
                any(name in classes for name in step.classes)
                or entity.get("_type") in step.types
            ):
                return False
        return step.filters is None or self.matches(step.filters, entity, None)

    def traverse(self, paths: list[tuple], traversal: Traversal) -> list[tuple]:
        current = {path[-1]["_id"] for path in paths if path[-1] is not None}
        touching: dict[str, list[dict]] = {}
        for relationship in self.source.relationships_touching(
            current, self.include_deleted
        ):
            for end in {relationship["_fromEntityId"], relationship["_toEntityId"]}:
                touching.setdefault(end, []).append(relationship)
        others = {
            _other_end(r, end)
            for end, rels in touching.items()
            if end in current
            for r in rels
        }
        entities = self.source.entities_by_id(others, self.include_deleted)
        extended = []
        for path in paths:
            found = self.neighbours(path[-1], traversal, touching, entities)
            if traversal.negated:
                if not found:
                    extended.append((*path, None, None))
            else:
                extended.extend((*path, r, e) for r, e in found)
        return extended

    def neighbours(self, entity, traversal, touching, entities) -> list[tuple]:
        if entity is None:
            return []
        found = []
        for relationship in touching.get(entity["_id"], []):
            if (
                traversal.verbs
                and relationship["_class"].upper() not in traversal.verbs
            ):
                continue
            if not _direction_matches(relationship, entity["_id"], traversal.direction):
                continue
            other = entities.get(_other_end(relationship, entity["_id"]))
            if other is not None and self.step_matches(traversal.step, other):
                found.append((relationship, other))
        return found

    # Filters

    def hint(self, filters) -> EntityHint:
        pinned: dict[str, Any] = {}
        comparisons = filters.operands if _is_and(filters) else (filters,)
        for item in comparisons:
            if isinstance(item, Comparison) and item.operator == "=":
                value = self.bind(item.value, None)
                pinned.setdefault(item.field.name, value)
        ids = pinned.get("_id")
        if isinstance(ids, str):
            ids = (ids,)
        elif isinstance(ids, ValueSet) and ids.any_of:
            ids = tuple(value for value in ids.values if isinstance(value, str))
        else:
            ids = None
        return EntityHint(
            source=_string_or_none(pinned.get("_source")),
            scope=_string_or_none(pinned.get("_scope")),
            ids=ids,
        )

    def matches(self, expression, target, labels) -> bool:
        if isinstance(expression, BooleanExpression):
            results = (
                self.matches(item, target, labels) for item in expression.operands
            )
            return all(results) if expression.operator == "AND" else any(results)
        stored = self.lookup(expression.field, target, labels)
        expected = self.bind(expression.value, (target, labels))
        if isinstance(expected, tuple):  # another selector's values
            return (
                any(compare(stored, expression.operator, value) for value in expected)
                if expected
                else compare(stored, expression.operator, None)
            )
        return compare(stored, expression.operator, expected)

    def lookup(self, ref: FieldRef, target, labels):
        obj = target if labels is None else target[labels[ref.alias]]
        if obj is None:
            return None
        return obj.get(ref.name)

    def bind(self, value, context):
        if isinstance(value, Literal):
            return value.value
        if isinstance(value, Variable):
            if value.name not in self.variables:
                raise J1QLSyntaxError(f"the variable ${{{value.name}}} has no value")
            return self.variables[value.name]
        if isinstance(value, DateNow):
            return self.now_ms + value.offset_ms
        if isinstance(value, ValueSet):
            return ValueSet(
                tuple(self.bind(v, context) for v in value.values), value.any_of
            )
        if isinstance(value, FieldRef):
            if context is None:
                raise J1QLSyntaxError("a selector cannot be a value in WITH")
            found = self.lookup(value, *context)
            return tuple(_as_list(found)) if found is not None else ()
        if isinstance(value, Regex):
            return value
        raise J1QLSyntaxError(f"unsupported value {value!r}")

    # Results

    def sort(self, paths, order_by, labels) -> list[tuple]:
        for ref, descending in reversed(order_by):
            present = [p for p in paths if self.lookup(ref, p, labels) is not None]
            absent = [p for p in paths if self.lookup(ref, p, labels) is None]
            present.sort(
                key=lambda p: _sort_key(self.lookup(ref, p, labels)), reverse=descending
            )
            paths = present + absent
        return paths

    def result(self, query: Query, paths: list[tuple], labels) -> QueryResult:
        if query.tree:
            return QueryResult(
                "tree",
                entities=_distinct(o for p in paths for o in p[0::2]),
                relationships=_distinct(o for p in paths for o in p[1::2]),
            )
        if query.returns is None:
            return QueryResult("list", entities=_distinct(p[0] for p in paths))
        rows = [self.row(query, path, labels) for path in paths]
        if query.unique:
            rows = _distinct_rows(rows)
        return QueryResult("table", rows=rows)

    def row(self, query: Query, path: tuple, labels) -> dict:
        row: dict[str, Any] = {}
        for item in query.returns:
            obj = path[labels[item.alias]]
            if item.property == "*":
                columns = self.project(obj) if obj is not None else {}
                row.update({f"{item.alias}.{name}": v for name, v in columns.items()})
            elif item.property is None:
                row[item.key] = self.project(obj) if obj is not None else None
            else:
                columns = self.project(obj) if obj is not None else {}
                row[item.key] = columns.get(item.property)
        return row


def _labels(query: Query) -> dict[str, int]:
    """Map each alias, or unaliased target word, to its position in a path."""
    labels: dict[str, int] = {}
    if query.start.label:
        labels[query.start.label] = 0
    for number, traversal in enumerate(query.traversals):
        if traversal.label:
            labels.setdefault(traversal.label, 2 * number + 1)
        if traversal.step.label:
            labels.setdefault(traversal.step.label, 2 * number + 2)
    return labels


def _check_selectors(query: Query, labels: dict[str, int]) -> None:
    names = [item.alias for item in query.returns or []]
    names += [ref.alias for ref, _ in query.order_by]
    names += list(_where_aliases(query.where))
    for name in names:
        if name not in labels:
            raise J1QLSyntaxError(f"the selector {name!r} is not defined in the query")


def _where_aliases(expression) -> Iterable[str]:
    if expression is None:
        return
    if isinstance(expression, BooleanExpression):
        for item in expression.operands:
            yield from _where_aliases(item)
        return
    yield expression.field.alias
    if isinstance(expression.value, FieldRef):
        yield expression.value.alias


def _page_by_start(
    paths: list[tuple], skip: int | None, limit: int | None
) -> list[tuple]:
    if skip is None and limit is None:
        return paths
    order = list(dict.fromkeys(path[0]["_id"] for path in paths))
    end = None if limit is None else (skip or 0) + limit
    kept = set(order[skip or 0 : end])
    return [path for path in paths if path[0]["_id"] in kept]


def _direction_matches(relationship: dict, entity_id: str, direction: str) -> bool:
    if direction == "out":
        return relationship["_fromEntityId"] == entity_id
    if direction == "in":
        return relationship["_toEntityId"] == entity_id
    return True


def _other_end(relationship: dict, entity_id: str) -> str:
    if relationship["_fromEntityId"] == entity_id:
        return relationship["_toEntityId"]
    return relationship["_fromEntityId"]


def _is_and(filters) -> bool:
    return isinstance(filters, BooleanExpression) and filters.operator == "AND"


def _string_or_none(value) -> str | None:
    return value if isinstance(value, str) else None


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _sort_key(value):
    first = value[0] if isinstance(value, list) and value else value
    return (0, first, "") if isinstance(first, (int, float)) else (1, 0, str(first))


def _distinct(objects: Iterable[dict | None]) -> list[dict]:
    seen: dict[str, dict] = {}
    for obj in objects:
        if obj is not None:
            seen.setdefault(obj["_id"], obj)
    return list(seen.values())


def _distinct_rows(rows: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
    for row in rows:
        seen.setdefault(json.dumps(row, sort_keys=True, default=str), row)
    return list(seen.values())
