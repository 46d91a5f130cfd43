"""``j1gitops apply``: plan, show the plan, confirm, and synchronize the scope."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from j1gitops.commands.plan import PlanOptions, PlanOutcome, build_plan, render_plan
from j1gitops.commands.plan import report_diagnostics
from j1gitops.console import progress_printer
from j1gitops.errors import TargetError, UsageError, ValidationFailed
from j1gitops.plan.model import Kind, Plan
from j1gitops.targets.base import ApplyResult


@dataclass
class ApplyOptions(PlanOptions):
    auto_approve: bool = False
    quiet: bool = False


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


def apply_outcome(outcome: PlanOutcome, options: ApplyOptions) -> int:
    """Apply a computed plan to its target, reporting on stdout; return the exit code."""
    plan = outcome.plan
    if not plan.has_changes:
        sys.stdout.write("No changes. Nothing to apply.\n")
        return 0
    if not options.auto_approve:
        if not sys.stdin.isatty():
            raise UsageError(
                "apply needs confirmation: run it on a terminal, or pass --auto-approve"
            )
        if not confirm(plan):
            sys.stderr.write("Apply cancelled; nothing was changed.\n")
            return 1
    progress = progress_printer(options.quiet)
    result = outcome.target.apply(outcome.config.scope, outcome.desired, progress)
    sys.stdout.write(result_summary(plan, result))
    for problem in result.errors:
        sys.stderr.write(f"error: {problem}\n")
    if not result.succeeded:
        raise TargetError(
            f"apply finished with status {result.status} and {result.error_count} "
            f"error(s); the job id is {result.job_id or 'none'}. Run plan to see what "
            "is left, fix the cause, and apply again"
        )
    counts = plan.counts()
    sys.stdout.write(
        f"Apply complete: {counts.create} created, {counts.update} updated, "
        f"{counts.delete} deleted.\n"
    )
    return 0


def run_apply(options: ApplyOptions) -> int:
    try:
        outcome = build_plan(options)
    except ValidationFailed as exc:
        report_diagnostics(exc.diagnostics)
        raise
    try:
        report_diagnostics(outcome.checked.diagnostics)
        render_plan(outcome.plan, options.format, options.color)
        return apply_outcome(outcome, options)
    finally:
        outcome.target.close()
