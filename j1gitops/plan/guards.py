"""Deletion guards: checks that stop a plan from deleting objects by mistake.

- An entity marked ``_j1gitops: {protect: true}`` may not be deleted. The marker
  counts when it is in the inventory on disk or in the inventory at a git base
  revision (``HEAD`` unless ``--base-ref`` names another), so deleting an entity together with
  its marker still fails. Templates at the base revision are rendered with the
  config's ``vars`` and ``data`` files as of that revision too, so deleting a
  data row does not remove a marker that the template adds. To delete a protected entity, remove the marker in a
  commit of its own first. Like Terraform's ``prevent_destroy``, no option
  overrides this guard.
- A plan may delete at most ``deletes.max_count`` objects and at most
  ``deletes.max_percent`` of the objects (entities plus relationships) that the
  scope holds. When the config sets neither, the limit is 20 percent. The
  stricter of the working tree's limits and the base revision's applies, so a
  pull request cannot raise the limits that guard its own plan.
  ``--allow-deletes`` lifts both limits.
- An inventory that is empty for a scope that holds objects would delete all of
  them, which is usually a wrong path. Only ``--allow-empty`` permits that plan.

The guards only compute; the commands decide how to report a violation.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, replace

from j1gitops.config import Config, DeleteGuard, load_config
from j1gitops.errors import ConfigError
from j1gitops.inventory.model import Inventory
from j1gitops.inventory.reader import read_inventory
from j1gitops.pipeline import template_renderer
from j1gitops.plan.model import Action, Kind, Plan
from j1gitops.plan.planfile import git_output

DEFAULT_MAX_PERCENT = 20.0


@dataclass(frozen=True)
class Violation:
    """One guard that fired. ``rule`` is ``protected``, ``max-count``,
    ``max-percent`` or ``empty``."""

    rule: str
    message: str


def protected_entities(inventory: Inventory, revision: str | None = None) -> dict:
    """Return the protected entities' keys, each with where the marker is."""
    suffix = f" at {revision}" if revision else ""
    return {
        entity.key: f"{entity.location.file}:{entity.location.line}{suffix}"
        for entity in inventory.entities
        if entity.protected
    }


@dataclass(frozen=True)
class BaseRevision:
    """The state that the guards read at the git base revision: its protected
    entities, and its delete limits (None when its config could not be read)."""

    protected: dict
    deletes: DeleteGuard | None = None


def read_base_revision(config: Config, paths: list[str], revision: str) -> BaseRevision:
    """Read the inventory and config as they were at a git revision.

    The revision's inventory files, config file and data files are written to a
    temporary folder, and templates there are rendered with that config's
    ``vars`` and ``data``. When the config file is missing or invalid at the
    revision, the working tree's config is used with the revision's data files.
    Returns no protected entities outside a git work tree or when the revision
    does not exist. Files that failed to load at that revision protect nothing.
    """
    root = config.root
    commit = git_output(
        root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"
    )
    if commit is None:
        return BaseRevision({})
    commit = commit.strip()
    prefix = (git_output(root, "rev-parse", "--show-prefix") or "").strip()
    with tempfile.TemporaryDirectory(prefix="j1gitops-base-") as folder:
        base_config, own = _config_at(config, root, commit, prefix, folder)
        deletes = base_config.deletes if own else None
        # The revision's own inventory paths count too, so that moving the
        # inventory (or planning another path) cannot drop its markers.
        paths = _relative_paths(
            root, list(dict.fromkeys(paths + base_config.inventory))
        )
        if not paths:
            return BaseRevision({}, deletes)
        for name in _tree_names(root, commit, paths):
            _export_blob(root, commit, name, prefix, folder)
        # NOTE: a file that fails to load at the revision protects nothing; CI
        # validates every revision before it merges, so this should be rare.
        for path in _relative_paths(root, list(base_config.data.values())):
            for name in _tree_names(root, commit, [path]):
                _export_blob(root, commit, name, prefix, folder)
        read = read_inventory(
            paths, root=folder, render_template=template_renderer(base_config)
        )
    return BaseRevision(protected_entities(read.inventory, revision), deletes)


def _tree_names(root: str, commit: str, paths: list[str]) -> list[str]:
    """Return the repository paths of the files under ``paths`` in ``commit``."""
    listing = git_output(
        root, "ls-tree", "-r", "-z", "--full-name", "--name-only", commit, "--", *paths
    )
    return [name for name in (listing or "").split("\0") if name]


def _config_at(
    config: Config, root: str, commit: str, prefix: str, folder: str
) -> tuple[Config, bool]:
    """Return the config as of ``commit``, with ``folder`` as its root, and
    whether it was read at ``commit`` (else it is the working tree's)."""
    if config.path is not None:
        relative = os.path.relpath(os.path.abspath(config.path), os.path.abspath(root))
        for name in _tree_names(root, commit, [relative]):
            _export_blob(root, commit, name, prefix, folder)
        exported = os.path.join(folder, relative)
        if os.path.isfile(exported):
            try:
                return replace(load_config(exported), root=folder), True
            except ConfigError:
                pass
    return replace(config, root=folder), False


def _relative_paths(root: str, paths: list[str]) -> list[str]:
    """Return the paths relative to ``root``, leaving out those outside it."""
    base = os.path.abspath(root)
    relative = []
    for path in paths:
        full = os.path.abspath(os.path.join(base, path))
        if full == base or full.startswith(base + os.sep):
            relative.append(os.path.relpath(full, base))
    return relative


def _export_blob(root: str, commit: str, name: str, prefix: str, folder: str) -> None:
    """Write one file of ``commit`` under ``folder``, at its path below ``root``.

    The bytes are copied unchanged, so data files in encodings other than UTF-8
    read as they do in the working tree.
    """
    if not name.startswith(prefix):
        return
    try:
        completed = subprocess.run(
            ["git", "cat-file", "blob", f"{commit}:{name}"],
            cwd=root,
            capture_output=True,
            check=False,
        )
    except OSError:
        return
    if completed.returncode != 0:
        return
    path = os.path.join(folder, name[len(prefix) :])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(completed.stdout)


def mark_protected(plan: Plan, protected: dict) -> None:
    """Set ``Change.protected`` on every entity delete whose key is protected."""
    for change in plan.by_action(Action.DELETE):
        if change.kind is Kind.ENTITY and change.key in protected:
            change.protected = True


def effective_limits(limits: DeleteGuard) -> DeleteGuard:
    """Return the configured limits, or the default when the config sets none."""
    if limits.max_count is None and limits.max_percent is None:
        return DeleteGuard(max_count=None, max_percent=DEFAULT_MAX_PERCENT)
    return limits


def strictest_limits(current: DeleteGuard, base: DeleteGuard | None) -> DeleteGuard:
    """Return the lower of each limit of the working tree and the base revision.

    Each side gets the default first. When one side leaves a limit out, the
    other side's value applies.
    """
    if base is None:
        return effective_limits(current)
    mine, theirs = effective_limits(current), effective_limits(base)
    return DeleteGuard(
        max_count=_lower(mine.max_count, theirs.max_count),
        max_percent=_lower(mine.max_percent, theirs.max_percent),
    )


def _lower(first: float | None, second: float | None) -> float | None:
    if first is None or second is None:
        return second if first is None else first
    return min(first, second)


def check_guards(
    plan: Plan,
    limits: DeleteGuard,
    desired_objects: int,
    *,
    allow_deletes: bool = False,
    allow_empty: bool = False,
    protected: dict | None = None,
) -> list[Violation]:
    """Return every guard the plan violates, protected entities first."""
    violations = _protected_violations(plan, protected or {})
    live_objects = plan.live_entities + plan.live_relationships
    if desired_objects == 0 and live_objects > 0:
        if not allow_empty:
            violations.append(_empty_violation(plan))
        return violations
    if not allow_deletes:
        violations += _limit_violations(plan, effective_limits(limits), live_objects)
    return violations


def _protected_violations(plan: Plan, protected: dict) -> list[Violation]:
    violations = []
    for change in plan.by_action(Action.DELETE):
        if change.kind is Kind.ENTITY and (change.protected or change.key in protected):
            where = protected.get(change.key, "the plan")
            violations.append(
                Violation(
                    "protected",
                    f"the plan deletes protected entity {change.type} {change.key!r} "
                    f"(marked in {where}); remove its '_j1gitops: {{protect: true}}' "
                    "in a commit of its own first, then delete the entity",
                )
            )
    return violations


def _empty_violation(plan: Plan) -> Violation:
    return Violation(
        "empty",
        f"the inventory is empty, but scope {plan.scope!r} contains "
        f"{plan.live_entities} entities and {plan.live_relationships} relationships, "
        "so the plan deletes all of them; check the inventory paths, or pass "
        "--allow-empty to empty the scope",
    )


def _limit_violations(plan: Plan, limits: DeleteGuard, live_objects: int) -> list:
    deletes = plan.counts().delete
    if deletes == 0:
        return []
    violations = []
    if limits.max_count is not None and deletes > limits.max_count:
        violations.append(
            Violation(
                "max-count",
                f"the plan deletes {deletes} objects, more than the limit of "
                f"{limits.max_count} (deletes.max_count); review the deletes and pass "
                "--allow-deletes if they are intended",
            )
        )
    percent = 100.0 * deletes / live_objects
    if limits.max_percent is not None and percent > limits.max_percent:
        violations.append(
            Violation(
                "max-percent",
                f"the plan deletes {deletes} of the {live_objects} objects in scope "
                f"{plan.scope!r} ({percent:.0f}%), more than the limit of "
                f"{limits.max_percent:g}% (deletes.max_percent); review the deletes "
                "and pass --allow-deletes if they are intended",
            )
        )
    return violations
