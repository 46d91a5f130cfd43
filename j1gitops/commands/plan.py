"""``j1gitops plan``: validate the inventory, read the scope, print the diff.

With ``--out FILE`` the plan is also saved for ``apply FILE``. The deletion
guards run on every plan. When one fires, the plan is still printed, so that a
pull request comment shows what would be deleted. Then nothing is saved and the
command exits with ``GuardError``'s code.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from j1gitops import __version__
from j1gitops.config import CONFIG_FILE, Config, load_config
from j1gitops.console import make_console
from j1gitops.diagnostics import sort_diagnostics
from j1gitops.errors import GuardError, UsageError, ValidationFailed
from j1gitops.pipeline import (
    CheckedInventory,
    check_inventory,
    missing_external_diagnostics,
    open_target,
    paused_garbage_collection,
)
from j1gitops.plan.guards import (
    Violation,
    check_guards,
    mark_protected,
    protected_entities,
    read_base_revision,
    strictest_limits,
    unread_violations,
    unreadable_violation,
)
from j1gitops.plan.model import Plan
from j1gitops.plan.planfile import (
    SavedPlan,
    digest_desired,
    digest_live,
    git_output,
    read_git_state,
    write_plan_file,
)
from j1gitops.plan.planner import compute_plan
from j1gitops.targets.base import DesiredState, LiveState, Target
from j1gitops.views.diagnostics import render_text
from j1gitops.views.json_view import render_plan_json
from j1gitops.views.markdown import ReviewContext, render_plan_markdown
from j1gitops.views.text import render_plan_text

PLAN_FORMATS = ("text", "markdown", "json")
EXIT_CHANGES = 2
# The revision whose protect markers count when --base-ref is not given.
DEFAULT_BASE_REF = "HEAD"


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
    allow_empty: bool = False
    # Git revision whose inventory also marks entities protected (None: HEAD).
    base_ref: str | None = None
    # Where readers of the Markdown view find the full plan, such as a CI run.
    details_url: str | None = None

    def recorded(self) -> dict:
        """Return the options that decide the plan, as a saved plan records them."""
        return {
            "paths": list(self.paths),
            "config": self.config_path,
            "target": self.target,
            "local_path": self.local_path,
            "strict": self.strict,
            "base_ref": self.base_ref,
            "allow_deletes": self.allow_deletes,
            "allow_empty": self.allow_empty,
        }


@dataclass
class PlanOutcome:
    """A computed plan and everything it was computed from."""

    config: Config
    checked: CheckedInventory
    plan: Plan
    desired: DesiredState
    target: Target
    live: LiveState = field(default_factory=LiveState)
    violations: list[Violation] = field(default_factory=list)


def report_diagnostics(diagnostics: list, color: str = "auto") -> None:
    """Print diagnostics to stderr, one line each."""
    if diagnostics:
        sys.stderr.write(render_text(diagnostics))


def build_plan(options: PlanOptions) -> PlanOutcome:
    """Read and validate the inventory, read the target's scope, diff, run the guards.

    Raises ``ValidationFailed`` when any file failed to load or validate, before
    the target is read, so that a broken file can never turn into deletions.
    Guard violations are returned in the outcome, not raised.
    """
    if options.format not in PLAN_FORMATS:
        raise UsageError(
            f"invalid --format {options.format!r}; use one of {', '.join(PLAN_FORMATS)}"
        )
    config = load_config(options.config_path)
    checked = check_inventory(config, options.paths or None, options.strict)
    if not checked.ok:
        raise ValidationFailed(_failure_message(checked), checked.diagnostics)
    _check_base_ref(config, options.base_ref)
    target = open_target(config, options.target, options.local_path)
    try:
        outcome = _plan_against(target, config, checked, options)
    except BaseException:
        target.close()
        raise
    return outcome


def build_plan_reporting(options: PlanOptions) -> PlanOutcome:
    """Run ``build_plan``, printing the diagnostics of a failed validation."""
    try:
        return build_plan(options)
    except ValidationFailed as exc:
        report_diagnostics(exc.diagnostics, options.color)
        raise


def _plan_against(target, config, checked, options: PlanOptions) -> PlanOutcome:
    external = missing_external_diagnostics(checked.inventory, target)
    if external:
        raise ValidationFailed(
            f"{len(external)} relationship end(s) not found in the target",
            sort_diagnostics(checked.diagnostics + external),
        )
    with paused_garbage_collection():
        live = target.read(config.scope)
        plan, desired = compute_plan(checked.inventory, live, config.scope, target.name)
    violations = _run_guards(config, checked, plan, desired, options)
    return PlanOutcome(config, checked, plan, desired, target, live, violations)


def _check_base_ref(config: Config, base_ref: str | None) -> None:
    if base_ref is None:
        return
    found = git_output(
        config.root, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}"
    )
    if found is None:
        raise UsageError(
            f"invalid --base-ref {base_ref!r}: no such git commit in {config.root}; "
            "fetch it (actions/checkout needs fetch-depth: 0) or leave the option out"
        )


def _run_guards(config, checked, plan: Plan, desired, options) -> list[Violation]:
    protected = protected_entities(checked.inventory)
    limits = strictest_limits(config.deletes, None)
    base = None
    if plan.counts().delete:
        paths = options.paths or config.inventory
        revision = options.base_ref or DEFAULT_BASE_REF
        base = read_base_revision(config, paths, revision)
        for warning in base.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        protected = {**base.protected, **protected}
        limits = strictest_limits(config.deletes, base.deletes, revision)
    mark_protected(plan, protected)
    violations = []
    if base is not None:
        if base.unreadable is not None:
            violations.append(unreadable_violation(base.unreadable))
        violations += unread_violations(plan, base.unread_files, revision)
    return violations + check_guards(
        plan,
        limits,
        len(desired.entities) + len(desired.relationships),
        allow_deletes=options.allow_deletes,
        allow_empty=options.allow_empty,
        protected=protected,
    )


def _failure_message(checked: CheckedInventory) -> str:
    errors = len(checked.errors)
    files = len(checked.failed_files)
    if errors:
        return f"validation failed with {errors} error(s); nothing was planned"
    return f"{files} file(s) failed to load; nothing was planned"


def enforce_guards(violations: list[Violation], consequence: str) -> None:
    """Raise ``GuardError`` when any guard fired, printing each one when several did."""
    if not violations:
        return
    if len(violations) == 1:
        raise GuardError(f"{violations[0].message}; {consequence}")
    for violation in violations:
        sys.stderr.write(f"error: {violation.message} [{violation.rule}]\n")
    raise GuardError(f"{len(violations)} deletion guards fired; {consequence}")


def inventory_paths(config: Config, options: PlanOptions) -> list[str]:
    """Return the paths whose git status decides whether the plan was made dirty."""
    paths = list(options.paths or config.inventory)
    return paths + [os.path.relpath(config.path or CONFIG_FILE, config.root)]


def review_context(outcome: PlanOutcome, options: PlanOptions) -> ReviewContext:
    git = read_git_state(outcome.config.root, inventory_paths(outcome.config, options))
    return ReviewContext(
        violations=[violation.message for violation in outcome.violations],
        commit=git.commit,
        dirty=git.dirty,
        tool_version=__version__,
        plan_file=options.out,
        details_url=options.details_url,
    )


def render_plan(
    plan: Plan, form: str, color: str, context: ReviewContext | None = None
) -> None:
    """Write the plan to stdout in the requested view."""
    if form == "json":
        sys.stdout.write(render_plan_json(plan))
    elif form == "markdown":
        sys.stdout.write(render_plan_markdown(plan, context))
    else:
        make_console(color).print(render_plan_text(plan), end="")
    sys.stdout.flush()


def target_location(target: Target) -> str | None:
    """Name where the target's data lives: the store file, or the J1 account id."""
    path = getattr(target, "path", None)
    if path is not None:
        return str(path)
    account = getattr(getattr(target, "settings", None), "account_id", None)
    return f"account {account}" if account else None


def save_plan(outcome: PlanOutcome, options: PlanOptions, path: str) -> None:
    """Write the saved plan that ``apply FILE`` checks and executes."""
    config = outcome.config
    saved = SavedPlan(
        plan=outcome.plan,
        options=options.recorded(),
        live=digest_live(outcome.live),
        desired=digest_desired(outcome.desired),
        git=read_git_state(config.root, inventory_paths(config, options)),
        target_location=target_location(outcome.target),
    )
    try:
        write_plan_file(path, saved)
    except OSError as exc:
        raise UsageError(
            f"cannot write the plan to {path}: {exc.strerror}; check --out"
        ) from exc
    sys.stderr.write(
        f"Saved the plan to {path}. To apply exactly this plan, run: "
        f"j1gitops apply {path}\n"
    )


def _check_out_path(options: PlanOptions) -> None:
    """Reject a plan file inside the inventory, where the next plan would read it."""
    config = load_config(options.config_path)
    out = Path(options.out).resolve()
    roots = options.paths or [
        os.path.join(config.root, path) for path in config.inventory
    ]
    for root in roots:
        if out.is_relative_to(Path(root).resolve()):
            raise UsageError(
                f"--out {options.out} is inside the inventory path {root}, where the "
                "next plan would read it as inventory; save the plan outside it"
            )


def run_plan(options: PlanOptions) -> int:
    """Run ``plan`` and return 0, or 2 for changes with ``--detailed-exitcode``."""
    if options.out:
        _check_out_path(options)
    outcome = build_plan_reporting(options)
    try:
        report_diagnostics(outcome.checked.diagnostics, options.color)
        context = None
        if options.format == "markdown":
            context = review_context(outcome, options)
        render_plan(outcome.plan, options.format, options.color, context)
        consequence = (
            "no plan was saved" if options.out else "this plan cannot be applied"
        )
        enforce_guards(outcome.violations, consequence)
        if options.out:
            save_plan(outcome, options, options.out)
    finally:
        outcome.target.close()
    if options.detailed_exitcode and outcome.plan.has_changes:
        return EXIT_CHANGES
    return 0
