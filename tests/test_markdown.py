"""The Markdown view for pull request comments, and its Mermaid graph.

Golden files are under ``tests/golden``; set ``J1GITOPS_UPDATE_GOLDEN=1`` to
rewrite them after a deliberate change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from j1gitops.plan.model import Action, Change, Kind, Plan, PropertyChange
from j1gitops.views.markdown import (
    COMMENT_LIMIT,
    ReviewContext,
    comment_marker,
    render_plan_markdown,
    text_length,
)
from j1gitops.views.mermaid import escape_label, render_mermaid

GOLDEN = Path(__file__).parent / "golden"
CONTEXT = ReviewContext(
    commit="3f2c1b0a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a",
    dirty=False,
    tool_version="0.1.0",
    plan_file="plan.json",
)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("J1GITOPS_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def employee(action: Action, key: str, **fields) -> Change:
    reasons = {
        Action.CREATE: "not in the target",
        Action.UPDATE: "properties differ",
        Action.DELETE: "not in the inventory",
    }
    return Change(Kind.ENTITY, action, key, "acme_employee", reasons[action], **fields)


def relationship(action: Action, source: str, verb: str, target: str) -> Change:
    obj = {
        "_key": f"{source}|{verb.lower()}|{target}",
        "_type": f"acme_employee_{verb.lower()}_policy",
        "_class": verb,
        "_fromEntityKey": source,
        "_toEntityKey": target,
    }
    side = {"after": obj} if action is Action.CREATE else {"before": obj}
    reason = "not in the target" if action is Action.CREATE else "not in the inventory"
    return Change(Kind.RELATIONSHIP, action, obj["_key"], obj["_type"], reason, **side)


def sample_plan() -> Plan:
    return Plan(
        scope="acme-widgets-inventory",
        target="local",
        changes=[
            employee(
                Action.UPDATE,
                "employee:carla.mendes",
                source="inventory/people.yaml:31",
                properties=[
                    PropertyChange("title", "changed", "Security Engineer", "CISO"),
                    PropertyChange("phone", "added", None, "+1 555 0100"),
                ],
            ),
            employee(
                Action.CREATE,
                "employee:dana.li",
                source="inventory/people.yaml:60",
                after={
                    "_key": "employee:dana.li",
                    "_type": "acme_employee",
                    "_class": "Person",
                    "name": "Dana Li",
                    "email": ["dana.li@acme-widgets.example"],
                },
            ),
            employee(
                Action.DELETE,
                "employee:erin.park",
                protected=True,
                before={
                    "_key": "employee:erin.park",
                    "_type": "acme_employee",
                    "_class": "Person",
                    "name": "Erin Park",
                },
            ),
            relationship(
                Action.DELETE, "employee:erin.park", "APPROVED", "policy:acceptable-use"
            ),
            relationship(
                Action.CREATE, "employee:dana.li", "APPROVED", "policy:acceptable-use"
            ),
        ],
        unchanged_entities=40,
        unchanged_relationships=12,
        live_entities=42,
        live_relationships=13,
    )


def large_plan(count: int) -> Plan:
    changes = [
        employee(
            Action.CREATE,
            f"employee:person-{number:05d}",
            source=f"inventory/people.yaml:{number * 9 + 2}",
            after={
                "_key": f"employee:person-{number:05d}",
                "_type": "acme_employee",
                "_class": "Person",
                "name": f"Person {number}",
                "title": "Engineer",
            },
        )
        for number in range(count)
    ]
    changes.append(employee(Action.DELETE, "employee:zz-leaver", before={"name": "Z"}))
    return Plan(scope="acme", target="local", changes=changes, live_entities=1)


def test_markdown_golden():
    check_golden("plan.md", render_plan_markdown(sample_plan(), CONTEXT))


def test_markdown_no_changes_golden():
    plan = Plan(scope="acme", target="jupiterone", unchanged_entities=3)
    check_golden("plan-no-changes.md", render_plan_markdown(plan, CONTEXT))


def test_markdown_guard_golden():
    context = ReviewContext(
        violations=[
            "the plan deletes protected entity acme_employee 'employee:erin.park'"
        ],
        commit="3f2c1b0a9d8e7f6a",
        dirty=True,
    )
    check_golden("plan-guard.md", render_plan_markdown(sample_plan(), context))


def test_markdown_cut_off_golden():
    context = ReviewContext(
        details_url="https://ci.example/runs/7", tool_version="0.1.0"
    )
    text = render_plan_markdown(large_plan(30), context, limit=3000)
    assert text_length(text) <= 3000
    check_golden("plan-cut.md", text)


def test_marker_first_line():
    text = render_plan_markdown(sample_plan())
    assert text.splitlines()[0] == "<!-- j1gitops:plan scope=acme-widgets-inventory -->"
    assert (
        comment_marker("a scope --> x")
        == "<!-- j1gitops:plan scope=a%20scope%20--%3E%20x -->"
    )


def test_deletes_first_and_counted():
    text = render_plan_markdown(sample_plan())
    assert "> **This plan deletes 2 objects**: 1 entity and 1 relationship." in text
    assert "**Plan: 2 to create, 1 to update, 2 to delete.**" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    assert rows[0] == "| Delete | entity | `acme_employee` | 1 |"
    assert rows[1] == "| Delete | relationship | `acme_employee_approved_policy` | 1 |"
    assert text.index("<details open><summary>Delete 1 entity") < text.index(
        "<details><summary>Create 1 entity"
    )
    assert "- employee:erin.park: not in the inventory [protected]" in text


def test_large_plan_stays_under_comment_limit():
    plan = large_plan(5000)
    text = render_plan_markdown(plan, ReviewContext(plan_file="plan.json"))
    assert text_length(text) <= COMMENT_LIMIT
    shown = re.search(r"This comment shows (\d+) of 5001 changes", text)
    assert shown is not None
    assert 0 < int(shown.group(1)) < 5001
    assert "Left out: " in text
    assert "The full plan is in `plan.json`; run `j1gitops show plan.json`." in text
    assert "- employee:zz-leaver" in text  # the delete comes first, so it is kept


def test_limit_counts_utf16_units():
    plan = large_plan(400)
    for change in plan.changes:
        if change.after:
            change.after["name"] = "\U0001f600" * 50
    text = render_plan_markdown(plan, limit=20_000)
    assert len(text.encode("utf-16-le")) // 2 <= 20_000


def test_backticks_in_values_keep_the_fence():
    change = employee(
        Action.CREATE,
        "employee:ticks",
        after={"_key": "employee:ticks", "note": "```` four ticks"},
    )
    text = render_plan_markdown(Plan(scope="s", target="local", changes=[change]))
    assert "`````diff\n" in text


def test_mermaid_graph_nodes_and_edges():
    graph = render_mermaid(sample_plan())
    assert graph.complete
    lines = graph.source.splitlines()
    assert lines[0] == "flowchart LR"
    assert '  n0["- acme_employee<br/>employee:erin.park"]' in lines
    assert '  n3["policy:acceptable-use"]' in lines
    assert '  n0 -.->|"- APPROVED"| n3' in lines
    assert '  n1 -->|"+ APPROVED"| n3' in lines
    assert "  class n3 unchanged" in lines


def test_mermaid_graph_is_bounded():
    plan = large_plan(100)
    graph = render_mermaid(plan, max_nodes=10)
    assert not graph.complete
    assert (graph.shown_entities, graph.total_entities) == (10, 101)
    text = render_plan_markdown(plan)
    assert "The graph shows 40 of 101 changed entities" in text


def test_mermaid_label_escapes():
    assert (
        escape_label('a "b" <c> #d `e`') == "a #quot;b#quot; #lt;c#gt; #35;d #96;e#96;"
    )
