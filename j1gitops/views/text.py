"""The plan as text for a terminal, in Terraform's style: ``+`` create, ``~`` update,
``-`` delete, with every changed property. Colour comes from rich and is left out
when the output is not a terminal or ``--color never`` is given."""

from __future__ import annotations

from rich.text import Text

from j1gitops.plan.model import Action, Change, Kind, Plan
from j1gitops.views.values import format_value

SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}
STYLES = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red"}
PROPERTY_STYLES = {"added": "green", "changed": "yellow", "removed": "red"}
PROPERTY_SYMBOLS = {"added": "+", "changed": "~", "removed": "-"}


def render_plan_text(plan: Plan) -> Text:
    """Build the whole text view; the caller prints it with or without colour."""
    output = Text()
    if not plan.has_changes:
        output.append(
            f"The target ({plan.target}) already matches the inventory for scope "
            f"{plan.scope!r}: {plan.unchanged_entities} entities and "
            f"{plan.unchanged_relationships} relationships unchanged.\n\n"
        )
        output.append("No changes.\n", style="bold")
        return output
    output.append(
        f"j1gitops will make these changes in scope {plan.scope!r} "
        f"(target {plan.target}):\n"
    )
    deletes = plan.counts().delete
    if deletes:
        output.append(
            f"\nWARNING: {deletes} object(s) will be deleted from the target.\n",
            style="bold red",
        )
    for change in plan.changes:
        output.append("\n")
        _append_change(output, change)
    output.append(
        f"\nUnchanged: {plan.unchanged_entities} entities, "
        f"{plan.unchanged_relationships} relationships.\n"
    )
    output.append(plan.summary() + "\n", style="bold")
    return output


def _append_change(output: Text, change: Change) -> None:
    style = STYLES[change.action]
    kind = "entity" if change.kind is Kind.ENTITY else "relationship"
    output.append(
        f"  {SYMBOLS[change.action]} {change.action.value} {kind} ", style=style
    )
    output.append(f"{change.type} {change.key!r}", style="bold")
    where = f" ({change.source})" if change.source else ""
    output.append(f"{where}: {change.reason}")
    if change.protected:
        output.append(" [protected]", style="bold red")
    output.append("\n")
    if change.action is Action.UPDATE:
        for prop in change.properties:
            _append_property(output, prop.change, prop.name, prop.before, prop.after)
        return
    shown = change.after if change.action is Action.CREATE else change.before
    mark = "added" if change.action is Action.CREATE else "removed"
    # The header line already names the key and type; the class comes first.
    names = sorted(name for name in shown or {} if name not in ("_key", "_type"))
    names.sort(key=lambda name: name != "_class")
    for name in names:
        value = shown[name]
        _append_property(
            output, mark, name, value if mark == "removed" else None, value
        )


def _append_property(output: Text, change: str, name: str, before, after) -> None:
    output.append(
        f"      {PROPERTY_SYMBOLS[change]} {name}", style=PROPERTY_STYLES[change]
    )
    if change == "changed":
        output.append(f": {format_value(before)} -> {format_value(after)}\n")
    elif change == "added":
        output.append(f" = {format_value(after)}\n")
    else:
        output.append(f" = {format_value(before)}\n")
