"""The text and JSON views of a plan, against golden files.

Set ``J1GITOPS_UPDATE_GOLDEN=1`` to rewrite the golden files after a deliberate change.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from rich.console import Console

from j1gitops.plan.model import Action, Change, Kind, Plan, PropertyChange
from j1gitops.views.json_view import render_plan_json
from j1gitops.views.text import render_plan_text

GOLDEN = Path(__file__).parent / "golden"


def sample_plan() -> Plan:
    return Plan(
        scope="acme",
        target="local",
        changes=[
            Change(
                Kind.ENTITY,
                Action.UPDATE,
                "employee:carla.mendes",
                "acme_employee",
                "properties differ",
                source="inventory/people.yaml:31",
                id="id-1",
                properties=[
                    PropertyChange("phone", "added", None, "+1 555 0100"),
                    PropertyChange("title", "changed", "Engineer", "CISO"),
                    PropertyChange("fax", "removed", "+1 555 0199", None),
                ],
            ),
            Change(
                Kind.ENTITY,
                Action.CREATE,
                "laptop:mbp-0001",
                "acme_laptop",
                "not in the target",
                source="inventory/devices.yaml:5",
                after={
                    "_key": "laptop:mbp-0001",
                    "_type": "acme_laptop",
                    "_class": "Device",
                    "name": "mbp-0001",
                    "tags": ["a", "[b]"],
                },
            ),
            Change(
                Kind.RELATIONSHIP,
                Action.DELETE,
                "a|has|b",
                "acme_a_has_b",
                "not in the inventory",
                id="id-2",
                before={
                    "_key": "a|has|b",
                    "_type": "acme_a_has_b",
                    "_class": "HAS",
                    "_fromEntityKey": "a",
                    "_toEntityKey": "b",
                },
            ),
        ],
        unchanged_entities=40,
        unchanged_relationships=12,
    )


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("J1GITOPS_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def render_plain(plan: Plan) -> str:
    buffer = io.StringIO()
    Console(
        file=buffer, no_color=True, color_system=None, width=100, soft_wrap=True
    ).print(render_plan_text(plan), end="")
    return buffer.getvalue()


def test_text_view_golden():
    check_golden("plan.txt", render_plain(sample_plan()))


def test_text_view_deletes_first_and_warned():
    text = render_plain(sample_plan())
    assert text.index("- delete relationship") < text.index("+ create entity")
    assert "WARNING: 1 object(s) will be deleted from the target" in text
    assert text.rstrip().endswith("Plan: 1 to create, 1 to update, 1 to delete.")


def test_text_view_no_changes():
    text = render_plain(Plan(scope="acme", target="local", unchanged_entities=3))
    assert text.endswith("No changes.\n")


def test_text_view_colour_only_when_asked():
    buffer = io.StringIO()
    Console(file=buffer, force_terminal=True, color_system="standard").print(
        render_plan_text(sample_plan())
    )
    assert "\x1b[" in buffer.getvalue()
    assert "\x1b[" not in render_plain(sample_plan())


def test_json_view_golden():
    text = render_plan_json(sample_plan())
    document = json.loads(text)
    assert document["format_version"] == 1
    assert [c["action"] for c in document["changes"]] == ["delete", "create", "update"]
    check_golden("plan.json", text)
