"""The plan as Markdown for a pull request comment.

The comment starts with a hidden marker (``<!-- j1gitops:plan scope=... -->``)
that a workflow searches for to update its one comment in place. Then come the
guard violations, a warning when anything is deleted, the summary line, a table
by action and ``_type``, a Mermaid graph, and the changes per action and type in
collapsible sections (deletes first, and open). The whole comment stays within
``limit`` characters. What does not fit is left out, and a note names what was
left out and where the full plan is.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

from j1gitops.plan.model import ACTION_ORDER, Action, Change, Kind, Plan
from j1gitops.views.mermaid import render_mermaid
from j1gitops.views.values import format_value

# GitHub rejects an issue or pull request comment longer than 65,536 characters.
COMMENT_LIMIT = 65_536
MARKER_PREFIX = "<!-- j1gitops:plan"
MAX_TABLE_ROWS = 100
MAX_VIOLATIONS = 20
ACTION_TITLES = {
    Action.DELETE: "Delete",
    Action.CREATE: "Create",
    Action.UPDATE: "Update",
}
SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}


@dataclass
class ReviewContext:
    """Facts about a plan that are not part of it, shown around it."""

    violations: list[str] = field(default_factory=list)
    commit: str | None = None
    dirty: bool | None = None
    tool_version: str | None = None
    plan_file: str | None = None
    details_url: str | None = None


def text_length(text: str) -> int:
    """Count UTF-16 code units: never fewer than the characters GitHub counts."""
    return len(text.encode("utf-16-le")) // 2


def comment_marker(scope: str) -> str:
    return f"{MARKER_PREFIX} scope={quote(scope, safe='')} -->"


def _code(text: str) -> str:
    """Write ``text`` as inline code, with a fence longer than any backticks in it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def _row_order(action: Action, kind: Kind, type_: str) -> tuple:
    return (ACTION_ORDER[action], kind is not Kind.ENTITY, type_)


def summary_table(plan: Plan) -> list[str]:
    counts = Counter(
        (change.action, change.kind, change.type) for change in plan.changes
    )
    rows = sorted(counts.items(), key=lambda item: _row_order(*item[0]))
    lines = ["| Action | Kind | `_type` | Count |", "|---|---|---|---:|"]
    for (action, kind, type_), count in rows[:MAX_TABLE_ROWS]:
        lines.append(
            f"| {ACTION_TITLES[action]} | {kind.value} | {_cell(_code(type_))} | {count} |"
        )
    if len(rows) > MAX_TABLE_ROWS:
        left = sum(count for _, count in rows[MAX_TABLE_ROWS:])
        lines.append(f"| | | {len(rows) - MAX_TABLE_ROWS} more rows | {left} |")
    return lines


def _violation_lines(violations: list[str]) -> list[str]:
    if not violations:
        return []
    title = _plural(len(violations), "deletion guard", "deletion guards")
    lines = ["> [!CAUTION]", f"> **This plan cannot be applied: {title} fired.**"]
    lines += [f"> - {message}" for message in violations[:MAX_VIOLATIONS]]
    if len(violations) > MAX_VIOLATIONS:
        lines.append(f"> - and {len(violations) - MAX_VIOLATIONS} more")
    return lines + [""]


def _delete_banner(plan: Plan) -> list[str]:
    entities = plan.counts(Kind.ENTITY).delete
    relationships = plan.counts(Kind.RELATIONSHIP).delete
    if not entities and not relationships:
        return []
    total = _plural(entities + relationships, "object", "objects")
    return [
        "> [!WARNING]",
        f"> **This plan deletes {total}**: "
        f"{_plural(entities, 'entity', 'entities')} and "
        f"{_plural(relationships, 'relationship', 'relationships')}.",
        "",
    ]


def _head(plan: Plan, context: ReviewContext) -> str:
    lines = [
        comment_marker(plan.scope),
        f"### j1gitops plan for scope {_code(plan.scope)} (target {_code(plan.target)})",
        "",
    ]
    lines += _violation_lines(context.violations)
    if not plan.has_changes:
        lines += [
            "**No changes.** The target matches the inventory: "
            f"{plan.unchanged_entities} entities and "
            f"{plan.unchanged_relationships} relationships unchanged.",
        ]
        return "\n".join(lines) + "\n"
    lines += _delete_banner(plan)
    lines += [f"**{plan.summary()}**", ""] + summary_table(plan)
    lines += [
        "",
        f"Unchanged: {plan.unchanged_entities} entities, "
        f"{plan.unchanged_relationships} relationships.",
        "",
    ]
    return "\n".join(lines) + "\n"


def _footer(context: ReviewContext) -> str:
    parts = []
    if context.commit:
        state = " with uncommitted changes" if context.dirty else ""
        parts.append(f"Planned at commit {_code(context.commit[:12])}{state}")
    if context.plan_file:
        parts.append(f"saved plan {_code(context.plan_file)}")
    if context.tool_version:
        parts.append(f"j1gitops {context.tool_version}")
    if not parts:
        return ""
    return "\n---\n<sub>" + " · ".join(parts) + "</sub>\n"


def _property_lines(change: Change) -> list[str]:
    if change.action is Action.UPDATE:
        lines = []
        for prop in change.properties:
            if prop.change != "added":
                lines.append(f"-     {prop.name} = {format_value(prop.before)}")
            if prop.change != "removed":
                lines.append(f"+     {prop.name} = {format_value(prop.after)}")
        return lines
    shown = (change.after if change.action is Action.CREATE else change.before) or {}
    symbol = SYMBOLS[change.action]
    return [
        f"{symbol}     {name} = {format_value(shown[name])}"
        for name in sorted(shown)
        if name not in ("_key", "_type")
    ]


def change_block(change: Change) -> str:
    """Write one change as lines of a ``diff`` block: a header, then properties."""
    where = f" ({change.source})" if change.source else ""
    protected = " [protected]" if change.protected else ""
    header = f"{SYMBOLS[change.action]} {change.key}{where}: {change.reason}{protected}"
    return "\n".join([header, *_property_lines(change)]) + "\n"


def _fence(blocks: list[str]) -> str:
    longest = max(
        (len(run) for block in blocks for run in re.findall(r"`+", block)), default=0
    )
    return "`" * max(3, longest + 1)


def _group_text(
    action: Action, kind: Kind, type_: str, blocks: list[str], total: int
) -> str:
    noun = "entities" if kind is Kind.ENTITY else "relationships"
    noun = noun if total != 1 else kind.value
    shown = f" ({len(blocks)} shown)" if len(blocks) < total else ""
    opening = "<details open>" if action is Action.DELETE else "<details>"
    fence = _fence(blocks)
    return (
        f"{opening}<summary>{ACTION_TITLES[action]} {total} {noun} of type "
        f"<code>{html.escape(type_)}</code>{shown}</summary>\n\n"
        f"{fence}diff\n{''.join(blocks)}{fence}\n\n</details>\n\n"
    )


def _graph_text(plan: Plan) -> str:
    graph = render_mermaid(plan)
    note = ""
    if not graph.complete:
        note = (
            f"The graph shows {graph.shown_entities} of {graph.total_entities} changed "
            f"entities and {graph.shown_relationships} of {graph.total_relationships} "
            "changed relationships.\n\n"
        )
    return (
        "<details><summary>Graph of the changed entities and relationships</summary>"
        f"\n\n```mermaid\n{graph.source}\n```\n\n{note}</details>\n\n"
    )


class _Body:
    """The sections after the head, added while they fit in the budget."""

    def __init__(self, budget: int):
        self.remaining = budget
        self.parts: list[str] = []
        self.left_out: Counter = Counter()
        self.graph_left_out = False
        # Once one change is left out, so are all after it: the comment shows a
        # prefix of the plan, which lists deletes first.
        self.cut = False

    def add(self, text: str) -> bool:
        size = text_length(text)
        if size > self.remaining:
            return False
        self.parts.append(text)
        self.remaining -= size
        return True

    def add_group(self, key: tuple, changes: list[Change]) -> None:
        """Add the changes of one group that fit, and count the others as left out."""
        action, kind, type_ = key
        worst = _group_text(action, kind, type_, [], len(changes) + 1)
        room = self.remaining - text_length(worst)
        blocks = []
        for change in changes:
            block = change_block(change)
            if self.cut or text_length(block) > room:
                self.cut = True
                break
            blocks.append(block)
            room -= text_length(block)
        # A longer fence (for backticks in values) can still overflow: drop blocks.
        while blocks and not self.add(
            _group_text(action, kind, type_, blocks, len(changes))
        ):
            blocks.pop()
            self.cut = True
        self.left_out[action] += len(changes) - len(blocks)


def _groups(plan: Plan) -> dict[tuple, list[Change]]:
    groups: dict[tuple, list[Change]] = {}
    for change in plan.changes:
        groups.setdefault((change.action, change.kind, change.type), []).append(change)
    return groups


def _where_full_plan(context: ReviewContext) -> str:
    if context.details_url:
        return f"the plan artifact of [the workflow run]({context.details_url})"
    if context.plan_file:
        return f"{_code(context.plan_file)}; run `j1gitops show {context.plan_file}`"
    return "the output of `j1gitops plan`"


def _cut_note(
    total: int,
    left_out: Counter,
    graph_left_out: bool,
    context: ReviewContext,
    limit: int,
) -> str:
    omitted = sum(left_out.values())
    counts = ", ".join(
        f"{left_out[action]} to {action.value}"
        for action in (Action.DELETE, Action.CREATE, Action.UPDATE)
    )
    graph = ", without the graph" if graph_left_out else ""
    return (
        "> [!NOTE]\n"
        f"> This comment shows {total - omitted} of {total} changes{graph}, to stay "
        f"within {limit:,} characters (GitHub rejects comments over "
        f"{COMMENT_LIMIT:,}). Left out: {omitted} changes ({counts}). The full plan "
        f"is in {_where_full_plan(context)}.\n"
    )


def render_plan_markdown(
    plan: Plan, context: ReviewContext | None = None, limit: int = COMMENT_LIMIT
) -> str:
    """Render the comment, at most ``limit`` UTF-16 code units long.

    The graph is kept only when it takes at most a quarter of the room left after
    the head, because the changes matter more to a reviewer than the picture.
    """
    context = context or ReviewContext()
    head, foot = _head(plan, context), _footer(context)
    if not plan.has_changes:
        return head + foot
    total = len(plan.changes)
    worst_note = _cut_note(
        total, Counter({a: total for a in Action}), True, context, limit
    )
    room = limit - text_length(head) - text_length(foot) - text_length(worst_note)
    graph = _graph_text(plan)
    keep_graph = text_length(graph) <= room // 4
    body = _Body(room - text_length(graph) if keep_graph else room)
    body.graph_left_out = not keep_graph
    for key, changes in _groups(plan).items():
        body.add_group(key, changes)
    note = ""
    if body.graph_left_out or sum(body.left_out.values()):
        note = _cut_note(total, body.left_out, body.graph_left_out, context, limit)
    parts = ([graph] if keep_graph else []) + body.parts
    return head + "".join(parts) + note + foot
