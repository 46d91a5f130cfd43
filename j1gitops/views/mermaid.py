"""A Mermaid flowchart of the changed entities and the changed relationships.

Nodes are the entities the plan creates, updates or deletes, plus the ends of
changed relationships (drawn plain when they do not change). The graph is
bounded by a number of nodes and edges, taken in plan order, so deletes come
first. ``MermaidGraph`` counts what was left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from j1gitops.plan.model import Action, Change, Kind, Plan

MAX_NODES = 40
MAX_EDGES = 60

SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}
ARROWS = {Action.CREATE: "-->", Action.UPDATE: "==>", Action.DELETE: "-.->"}
CLASS_STYLES = (
    "classDef create fill:#dafbe1,stroke:#1a7f37,color:#1f2328",
    "classDef update fill:#fff8c5,stroke:#9a6700,color:#1f2328",
    "classDef delete fill:#ffebe9,stroke:#cf222e,color:#1f2328,stroke-dasharray:4 3",
    "classDef unchanged fill:#f6f8fa,stroke:#8c959f,color:#1f2328",
)
# Mermaid reads these characters as syntax inside a quoted label, so they are
# written as its entity codes (``#35;`` is the decimal code of ``#``).
_LABEL_ESCAPES = (
    ("#", "#35;"),
    ('"', "#quot;"),
    ("<", "#lt;"),
    (">", "#gt;"),
    ("`", "#96;"),
    ("\n", " "),
    ("\r", " "),
)


@dataclass
class MermaidGraph:
    """The flowchart source and how many changed objects it shows."""

    source: str
    shown_entities: int
    total_entities: int
    shown_relationships: int
    total_relationships: int

    @property
    def complete(self) -> bool:
        return (
            self.shown_entities == self.total_entities
            and self.shown_relationships == self.total_relationships
        )


def escape_label(text: str) -> str:
    for plain, code in _LABEL_ESCAPES:
        text = text.replace(plain, code)
    return text


class _Builder:
    def __init__(self, max_nodes: int, max_edges: int):
        self.max_nodes = max_nodes
        self.max_edges = max_edges
        # Each end's node: its id, the lines of its label, and its class.
        self.nodes: dict[str, tuple[str, tuple[str, ...], str]] = {}
        self.edges: list[str] = []

    def add_node(self, end: str, label: tuple[str, ...], style: str) -> str | None:
        if end in self.nodes:
            return self.nodes[end][0]
        if len(self.nodes) >= self.max_nodes:
            return None
        node_id = f"n{len(self.nodes)}"
        self.nodes[end] = (node_id, label, style)
        return node_id

    def add_entity(self, change: Change) -> bool:
        label = (f"{SYMBOLS[change.action]} {change.type}", change.key)
        return self.add_node(change.key, label, change.action.value) is not None

    def add_relationship(self, change: Change) -> bool:
        if len(self.edges) >= self.max_edges:
            return False
        ends = [_end_name(change, side) for side in ("from", "to")]
        missing = [end for end in ends if end not in self.nodes]
        if len(self.nodes) + len(missing) > self.max_nodes:
            return False
        ids = [self.add_node(end, (end,), "unchanged") for end in ends]
        verb = str((change.after or change.before or {}).get("_class", change.type))
        label = escape_label(f"{SYMBOLS[change.action]} {verb}")
        self.edges.append(f'  {ids[0]} {ARROWS[change.action]}|"{label}"| {ids[1]}')
        return True

    def source(self) -> str:
        lines = ["flowchart LR"]
        for node_id, label, _ in self.nodes.values():
            text = "<br/>".join(escape_label(part) for part in label)
            lines.append(f'  {node_id}["{text}"]')
        lines += self.edges
        lines += [f"  {style}" for style in CLASS_STYLES]
        for style in ("create", "update", "delete", "unchanged"):
            members = [
                node_id for node_id, _, kind in self.nodes.values() if kind == style
            ]
            if members:
                lines.append(f"  class {','.join(members)} {style}")
        return "\n".join(lines)


def _end_name(change: Change, side: str) -> str:
    """Name one end of a relationship by its ``_key``, or its ``_id`` when external."""
    obj = change.after or change.before or {}
    key = obj.get(f"_{side}EntityKey")
    if key is not None:
        return str(key)
    return f"_id {obj.get(f'_{side}EntityId')}"


def render_mermaid(
    plan: Plan, max_nodes: int = MAX_NODES, max_edges: int = MAX_EDGES
) -> MermaidGraph:
    """Build the flowchart. Entity changes claim nodes before relationship ends do."""
    builder = _Builder(max_nodes, max_edges)
    entities = [c for c in plan.changes if c.kind is Kind.ENTITY]
    relationships = [c for c in plan.changes if c.kind is Kind.RELATIONSHIP]
    shown_entities = sum(1 for change in entities if builder.add_entity(change))
    shown_relationships = sum(
        1 for change in relationships if builder.add_relationship(change)
    )
    return MermaidGraph(
        builder.source(),
        shown_entities,
        len(entities),
        shown_relationships,
        len(relationships),
    )
