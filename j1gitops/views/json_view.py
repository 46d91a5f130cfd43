"""The plan as JSON: the plan's own data, with its format version first."""

from __future__ import annotations

import json

from j1gitops.plan.model import Plan


def render_plan_json(plan: Plan) -> str:
    return (
        json.dumps(plan.to_dict(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    )


def render_saved_plan_json(document: dict) -> str:
    """Render a saved plan file's document: the plan with the facts it was made from."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
