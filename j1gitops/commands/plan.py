"""``j1gitops plan``: validate the inventory, read the scope, print the diff."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from j1gitops.config import Config, load_config
from j1gitops.console import make_console
from j1gitops.diagnostics import sort_diagnostics
from j1gitops.errors import UsageError, ValidationFailed
from j1gitops.pipeline import (
    CheckedInventory,
    check_inventory,
    missing_external_diagnostics,
    open_target,
)
from j1gitops.plan.model import Plan
from j1gitops.plan.planner import compute_plan
from j1gitops.targets.base import DesiredState, Target
from j1gitops.views.diagnostics import render_text
from j1gitops.views.json_view import render_plan_json
from j1gitops.views.markdown import render_plan_markdown
from j1gitops.views.text import render_plan_text

PLAN_FORMATS = ("text", "markdown", "json")
EXIT_CHANGES = 2


@dataclass
class PlanOptions:
    paths: list[str] = field(default_factory=list)
    config_path: str | None = None
    target: str | None = None
    local_path: str | None = None
    format: str = "text"
    color: str = "auto"
    detailed_exitcode: bool = False
    strict: bool | None = None
    out: str | None = None
    allow_deletes: bool = False


@dataclass
class PlanOutcome:
    """A computed plan and everything it was computed from."""

    config: Config
    checked: CheckedInventory
    plan: Plan
    desired: DesiredState
    target: Target


def report_diagnostics(diagnostics: list, color: str = "auto") -> None:
    """Print diagnostics to stderr, one line each."""
    if diagnostics:
        sys.stderr.write(render_text(diagnostics))


def build_plan(options: PlanOptions) -> PlanOutcome:
    """Read and validate the inventory, read the target's scope, and diff them.

    Raises ``ValidationFailed`` when any file failed to load or validate, before
    the target is read, so that a broken file can never turn into deletions.
    """
    if options.format not in PLAN_FORMATS:
        raise UsageError(
            f"invalid --format {options.format!r}; use one of {', '.join(PLAN_FORMATS)}"
        )
    config = load_config(options.config_path)
    checked = check_inventory(config, options.paths or None, options.strict)
    if not checked.ok:
        raise ValidationFailed(_failure_message(checked), checked.diagnostics)
    target = open_target(config, options.target, options.local_path)
    try:
        external = missing_external_diagnostics(checked.inventory, target)
        if external:
            diagnostics = sort_diagnostics(checked.diagnostics + external)
            raise ValidationFailed(
                f"{len(external)} relationship end(s) not found in the target",
                diagnostics,
            )
        live = target.read(config.scope)
        plan, desired = compute_plan(checked.inventory, live, config.scope, target.name)
    except BaseException:
        target.close()
        raise
    return PlanOutcome(config, checked, plan, desired, target)


def _failure_message(checked: CheckedInventory) -> str:
    errors = len(checked.errors)
    files = len(checked.failed_files)
    if errors:
        return f"validation failed with {errors} error(s); nothing was planned"
    return f"{files} file(s) failed to load; nothing was planned"


def render_plan(plan: Plan, form: str, color: str) -> None:
    """Write the plan to stdout in the requested view."""
    if form == "json":
        sys.stdout.write(render_plan_json(plan))
    elif form == "markdown":
        sys.stdout.write(render_plan_markdown(plan))
    else:
        make_console(color).print(render_plan_text(plan), end="")
    sys.stdout.flush()


def run_plan(options: PlanOptions) -> int:
    """Run ``plan``; return 0, or 2 for changes with ``--detailed-exitcode``."""
    try:
        outcome = build_plan(options)
    except ValidationFailed as exc:
        report_diagnostics(exc.diagnostics, options.color)
        raise
    try:
        report_diagnostics(outcome.checked.diagnostics, options.color)
        render_plan(outcome.plan, options.format, options.color)
    finally:
        outcome.target.close()
    if options.detailed_exitcode and outcome.plan.has_changes:
        return EXIT_CHANGES
    return 0
