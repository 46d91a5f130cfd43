"""``j1gitops apply``: apply a saved plan, or plan, confirm and apply in one go.

``apply FILE`` with a file written by ``plan --out`` applies exactly that plan,
without a prompt, as Terraform does: giving the file is the approval. It first
re-reads the inventory and the scope and raises ``StalePlanError`` when either
differs from what the plan was computed from, so a plan applied twice is
rejected the second time instead of being applied again.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from j1gitops.commands.plan import (
    PlanOptions,
    PlanOutcome,
    build_plan_reporting,
    enforce_guards,
    render_plan,
    report_diagnostics,
    target_location,
)
from j1gitops.console import progress_printer
from j1gitops.errors import StalePlanError, TargetError, UsageError
from j1gitops.plan.model import Kind, Plan
from j1gitops.plan.planfile import (
    SavedPlan,
    describe_differences,
    digest_desired,
    digest_live,
    is_plan_file,
    read_plan_file,
)
from j1gitops.secrets import redact
from j1gitops.targets.base import ApplyResult

# Options that change what is planned, so a saved plan cannot be combined with them.
PLAN_CHANGING_OPTIONS = {
    "config_path": "--config",
    "target": "--target",
    "local_path": "--local-path",
    "strict": "--strict/--no-strict",
    "allow_deletes": "--allow-deletes",
    "allow_empty": "--allow-empty",
    "base_ref": "--base-ref",
}


@dataclass
class ApplyOptions(PlanOptions):
    auto_approve: bool = False
    quiet: bool = False
    # A saved plan to apply; ``run_apply`` also finds one given as the only path.
    plan_file: str | None = None


def confirm(plan: Plan) -> bool:
    """Ask on the terminal; anything but ``yes`` cancels."""
    sys.stderr.write(
        f"\nApply these changes to scope {plan.scope!r} ({plan.target})?\n"
        "Only 'yes' will be accepted: "
    )
    sys.stderr.flush()
    answer = sys.stdin.readline().strip()
    return answer == "yes"


def expected_counts(plan: Plan) -> dict[str, int]:
    """Return the counts J1 should report for the plan, under J1's counter names."""
    entities = plan.counts(Kind.ENTITY)
    relationships = plan.counts(Kind.RELATIONSHIP)
    return {
        "numEntitiesCreated": entities.create,
        "numEntitiesUpdated": entities.update,
        "numEntitiesDeleted": entities.delete,
        "numRelationshipsCreated": relationships.create,
        "numRelationshipsUpdated": relationships.update,
        "numRelationshipsDeleted": relationships.delete,
    }


def result_summary(plan: Plan, result: ApplyResult) -> str:
    """Compare what the target reports with what the plan expected, one row a counter."""
    rows = ["", f"{'counter':<28} {'planned':>8} {'reported':>9}"]
    for name, planned in expected_counts(plan).items():
        reported = result.counts.get(name, 0)
        marker = "" if reported == planned else "  (differs)"
        rows.append(f"{name:<28} {planned:>8} {reported:>9}{marker}")
    rows.append(f"{'errors':<28} {0:>8} {result.error_count:>9}")
    return "\n".join(rows) + "\n"


def _approved(plan: Plan, options: ApplyOptions) -> bool:
    if options.auto_approve or options.plan_file:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            "apply needs confirmation: run it on a terminal, pass --auto-approve, "
            "or apply a saved plan (plan --out FILE, then apply FILE)"
        )
    return confirm(plan)


def apply_outcome(outcome: PlanOutcome, options: ApplyOptions) -> int:
    """Apply a computed plan to its target, reporting on stdout; return the exit code."""
    plan = outcome.plan
    if not plan.has_changes:
        sys.stdout.write("No changes. Nothing to apply.\n")
        return 0
    if not _approved(plan, options):
        sys.stderr.write("Apply cancelled; nothing was changed.\n")
        return 1
    progress = progress_printer(options.quiet)
    result = outcome.target.apply(outcome.config.scope, outcome.desired, progress)
    sys.stdout.write(result_summary(plan, result))
    for problem in result.errors:
        sys.stderr.write(redact(f"error: {problem}\n"))
    if not result.succeeded:
        errors = f" and {result.error_count} error(s)" if result.error_count else ""
        raise TargetError(
            f"apply finished with status {result.status}{errors}; the job id is "
            f"{result.job_id or 'none'}. Run plan to see what is left, fix the "
            "cause, and apply again"
        )
    counts = plan.counts()
    sys.stdout.write(
        f"Apply complete: {counts.create} created, {counts.update} updated, "
        f"{counts.delete} deleted.\n"
    )
    return 0


def _find_plan_file(options: ApplyOptions) -> ApplyOptions:
    """Move a saved plan given as the only path into ``plan_file``."""
    plans = [path for path in options.paths if is_plan_file(path)]
    if not plans:
        return options
    if len(options.paths) > 1 or options.plan_file:
        raise UsageError(
            f"a saved plan ({plans[0]}) must be the only argument of apply; "
            "inventory paths are fixed by the plan"
        )
    options.plan_file, options.paths = plans[0], []
    return options


def _replayed_options(saved: SavedPlan, options: ApplyOptions) -> ApplyOptions:
    """Return the options the plan was made with, rejecting any that would change it."""
    defaults = ApplyOptions()
    given = [
        flag
        for name, flag in PLAN_CHANGING_OPTIONS.items()
        if getattr(options, name) != getattr(defaults, name)
    ]
    if given or options.paths:
        names = ", ".join(given + (["inventory paths"] if options.paths else []))
        raise UsageError(
            f"{names} cannot be combined with a saved plan, because the plan file "
            "fixes them; run plan again with the options you want"
        )
    recorded = saved.options
    return ApplyOptions(
        paths=list(recorded.get("paths") or []),
        config_path=recorded.get("config"),
        target=recorded.get("target"),
        local_path=recorded.get("local_path"),
        strict=recorded.get("strict"),
        base_ref=recorded.get("base_ref"),
        allow_deletes=bool(recorded.get("allow_deletes")),
        allow_empty=bool(recorded.get("allow_empty")),
        color=options.color,
        quiet=options.quiet,
        plan_file=options.plan_file,
    )


def stale_reason(saved: SavedPlan, outcome: PlanOutcome) -> str | None:
    """Say how the inventory, config or scope differs from the plan, or return None."""
    plan = outcome.plan
    if (plan.scope, plan.target) != (saved.plan.scope, saved.plan.target):
        return (
            f"it was made for scope {saved.plan.scope!r} on target {saved.plan.target}, "
            f"but the config now names scope {plan.scope!r} on target {plan.target}"
        )
    location = target_location(outcome.target)
    if location != saved.target_location:
        return f"it was made against {saved.target_location}, not {location}"
    desired = digest_desired(outcome.desired)
    if desired.digest != saved.desired.digest:
        changes = describe_differences(saved.desired, desired)
        return f"the inventory on disk no longer matches the plan ({changes})"
    live = digest_live(outcome.live)
    if live.digest != saved.live.digest:
        changes = describe_differences(saved.live, live)
        return (
            f"scope {plan.scope!r} in the target changed since the plan was made "
            f"({changes})"
        )
    # The checksum only catches accidents, since anyone can recompute it. The
    # changes must be the ones that the same inventory and scope give now, so
    # that an edited file cannot show reviewers other changes than apply makes.
    if _comparable_changes(plan) != _comparable_changes(saved.plan):
        return (
            "its changes are not the ones this inventory and scope give; the file "
            "was edited or made by another version"
        )
    return None


def _comparable_changes(plan: Plan) -> list[dict]:
    """Return the plan's changes without their source lines, which may move."""
    rows = []
    for change in plan.changes:
        row = change.to_dict()
        row.pop("source", None)
        rows.append(row)
    return rows


def apply_saved_plan(options: ApplyOptions) -> int:
    """Check a saved plan against the inventory and the scope, then apply it."""
    saved, _ = read_plan_file(options.plan_file)
    replayed = _replayed_options(saved, options)
    outcome = build_plan_reporting(replayed)
    try:
        report_diagnostics(outcome.checked.diagnostics, options.color)
        # NOTE: nothing locks the scope between this check and the apply, so a
        # write by another tool in that window (seconds) is not detected.
        reason = stale_reason(saved, outcome)
        if reason:
            raise StalePlanError(f"plan is stale: {reason}; run plan again")
        enforce_guards(outcome.violations, "nothing was applied")
        if saved.plan.has_changes:
            sys.stdout.write(
                f"Applying the saved plan {options.plan_file}. {saved.plan.summary()}\n"
            )
        return apply_outcome(outcome, replayed)
    finally:
        outcome.target.close()


def run_apply(options: ApplyOptions) -> int:
    """Run ``apply``: of a saved plan when one is given, else of a fresh plan."""
    options = _find_plan_file(options)
    if options.plan_file:
        return apply_saved_plan(options)
    outcome = build_plan_reporting(options)
    try:
        report_diagnostics(outcome.checked.diagnostics, options.color)
        render_plan(outcome.plan, options.format, options.color)
        enforce_guards(outcome.violations, "nothing was applied")
        return apply_outcome(outcome, options)
    finally:
        outcome.target.close()
