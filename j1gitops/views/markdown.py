"""The plan as Markdown for a pull request comment."""

from __future__ import annotations

from collections import Counter

from j1gitops.plan.model import Action, Change, Kind, Plan
from j1gitops.views.values import format_value

ACTION_TITLES = {Action.DELETE: "Delete", Action.CREATE: "Create", Action.UPDATE: "Update"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_table(plan: Plan) -> list[str]:
    counts = Counter((change.action, change.kind, change.type) for change in plan.changes)
    lines = ["| Action | Kind | `_type` | Count |", "|---|---|---|---:|"]
    for (action, kind, type_), count in sorted(
        counts.items(), key=lambda item: (list(Action).index(item[0][0]), item[0][1:])
    ):
        lines.append(
            f"| {ACTION_TITLES[action]} | {kind.value} | `{_cell(type_)}` | {count} |"
        )
    return lines


def change_lines(change: Change) -> list[str]:
    symbol = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}[change.action]
    where = f" ({change.source})" if change.source else ""
    lines = [f"{symbol} {change.kind.value} {change.key}{where}: {change.reason}"]
    if change.action is Action.UPDATE:
        for prop in change.properties:
            mark = {"added": "+", "changed": "~", "removed": "-"}[prop.change]
            if prop.change == "changed":
                value = f"{format_value(prop.before)} -> {format_value(prop.after)}"
            else:
                value = format_value(prop.after if prop.change == "added" else prop.before)
            lines.append(f"    {mark} {prop.name}: {value}")
    return lines


def render_plan_markdown(plan: Plan) -> str:
    title = f"### j1gitops plan for scope `{plan.scope}` ({plan.target})"
    if not plan.has_changes:
        return f"{title}\n\n**No changes.** The target matches the inventory.\n"
    parts = [title, ""]
    deletes = plan.counts().delete
    if deletes:
        parts += [f"> [!WARNING]\n> This plan **deletes {deletes}** object(s) from J1.", ""]
    parts += [f"**{plan.summary()}**", ""] + summary_table(plan) + [""]
    by_group: dict[tuple, list[Change]] = {}
    for change in plan.changes:
        by_group.setdefault((change.action, change.kind, change.type), []).append(change)
    for (action, kind, type_), changes in by_group.items():
        noun = "entities" if kind is Kind.ENTITY else "relationships"
        parts.append(
            f"<details><summary>{ACTION_TITLES[action]} {len(changes)} {noun} "
            f"of type <code>{type_}</code></summary>\n"
        )
        parts.append("```diff")
        for change in changes:
            parts += change_lines(change)
        parts += ["```", "</details>", ""]
    return "\n".join(parts) + "\n"
