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
from dataclasses import dataclass, field, replace

from j1gitops.config import CONFIG_FILE, Config, DeleteGuard, load_config
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
    entities, its delete limits (None outside git), and what could not be read.
    """

    protected: dict
    deletes: DeleteGuard | None = None
    # A warning for each part read with defaults in its place.
    warnings: tuple[str, ...] = ()
    # Set when the inventory at the revision could not be listed, so that its
    # protected entities are unknown.
    unreadable: str | None = None
    # The text of each file that failed to load at the revision and mentions
    # the protect marker, by path: any entity it names may be protected.
    unread_files: dict[str, str] = field(default_factory=dict)


def read_base_revision(config: Config, paths: list[str], revision: str) -> BaseRevision:
    """Read the inventory and config as they were at a git revision.

    The revision's inventory files, config file and data files are written to a
    temporary folder, and templates there are rendered with that config's
    ``vars`` and ``data``. The config is looked for at the working tree's config
    path and at ``j1gitops.yaml``, so that removing or renaming it in the change
    does not hide it. A revision without a config had the default limits and
    inventory path; an invalid one gives the default limits with a warning.
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
        base_config, warnings = _config_at(config, root, commit, prefix, folder)
        base_config = replace(base_config, root=folder)
        # The revision's own inventory paths count too, so that moving the
        # inventory (or planning another path) cannot drop its markers.
        paths = _relative_paths(
            root, list(dict.fromkeys(paths + base_config.inventory))
        )
        names = _tree_names(root, commit, paths) if paths else []
        if names is None:
            unreadable = f"git could not list {', '.join(paths)} at {revision}"
            return BaseRevision({}, base_config.deletes, warnings, unreadable)
        for name in names:
            _export_blob(root, commit, name, prefix, folder)
        for path in _relative_paths(root, list(base_config.data.values())):
            for name in _tree_names(root, commit, [path]) or []:
                _export_blob(root, commit, name, prefix, folder)
        read = read_inventory(
            paths, root=folder, render_template=template_renderer(base_config)
        )
        unread = _marked_texts(folder, read.failed_files)
    protected = protected_entities(read.inventory, revision)
    return BaseRevision(protected, base_config.deletes, warnings, None, unread)


def _marked_texts(folder: str, paths: list[str]) -> dict[str, str]:
    """Return the text of each file that mentions the protect marker."""
    # NOTE: a template that failed to render names its entities' keys only in
    # its data files, so its markers stay unknown; CI validates every revision
    # before it merges, so a file that fails at the base should be rare.
    texts = {}
    for path in paths:
        try:
            with open(
                os.path.join(folder, path), encoding="utf-8", errors="replace"
            ) as handle:
                text = handle.read()
        except OSError:
            continue
        if "protect" in text:
            texts[path] = text
    return texts


def _tree_names(root: str, commit: str, paths: list[str]) -> list[str] | None:
    """Return the repository paths of the files under ``paths`` in ``commit``,
    or None when git fails. Paths are literal, never git pathspec magic."""
    listing = git_output(
        root, "--literal-pathspecs", "ls-tree", "-r", "-z", "--full-name",
        "--name-only", commit, "--", *paths,
    )  # fmt: skip
    if listing is None:
        return None
    return [name for name in listing.split("\0") if name]


def _config_at(
    config: Config, root: str, commit: str, prefix: str, folder: str
) -> tuple[Config, tuple[str, ...]]:
    """Return the config as of ``commit``, read from files under ``folder``,
    and any warning about it.

    The working tree's ``vars`` and ``data`` stand in for those of an invalid
    config, so that templates at the revision still render.
    """
    candidates = [CONFIG_FILE]
    if config.path is not None:
        working = os.path.abspath(config.path)
        candidates.insert(0, os.path.relpath(working, os.path.abspath(root)))
    for relative in dict.fromkeys(os.path.normpath(path) for path in candidates):
        names = _tree_names(root, commit, [relative]) or []
        if not names:
            continue
        for name in names:
            _export_blob(root, commit, name, prefix, folder)
        try:
            return load_config(os.path.join(folder, relative)), ()
        except ConfigError as exc:
            warning = (
                f"the config at the base revision is invalid ({exc}), so the "
                "default delete limits stand in for its own"
            )
            return replace(config, deletes=DeleteGuard()), (warning,)
    return Config(), ()


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


@dataclass(frozen=True)
class Limits:
    """The delete limits that a plan is held to, and where each comes from."""

    max_count: int | None = None
    max_percent: float | None = None
    # The limits that the base revision sets lower than the working tree does.
    from_base: frozenset[str] = frozenset()
    revision: str = ""


def strictest_limits(
    current: DeleteGuard, base: DeleteGuard | None, revision: str = ""
) -> Limits:
    """Return the lower of each limit of the working tree and the base revision.

    Each side gets the default first. When one side leaves a limit out, the
    other side's value applies.
    """
    mine = effective_limits(current)
    if base is None:
        return Limits(mine.max_count, mine.max_percent)
    theirs = effective_limits(base)
    count = _lower(mine.max_count, theirs.max_count)
    percent = _lower(mine.max_percent, theirs.max_percent)
    from_base = {
        name
        for name, applied, own in (
            ("max_count", count, mine.max_count),
            ("max_percent", percent, mine.max_percent),
        )
        if applied is not None and applied != own
    }
    return Limits(count, percent, frozenset(from_base), revision)


def _lower(first: float | None, second: float | None) -> float | None:
    if first is None or second is None:
        return second if first is None else first
    return min(first, second)


def check_guards(
    plan: Plan,
    limits: DeleteGuard | Limits,
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
        if isinstance(limits, DeleteGuard):
            limits = strictest_limits(limits, None)
        violations += _limit_violations(plan, limits, live_objects)
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


def _limit_violations(plan: Plan, limits: Limits, live_objects: int) -> list:
    deletes = plan.counts().delete
    if deletes == 0:
        return []
    violations = []
    if limits.max_count is not None and deletes > limits.max_count:
        violations.append(
            Violation(
                "max-count",
                f"the plan deletes {deletes} objects, more than the limit of "
                f"{limits.max_count} ({_limit_name(limits, 'max_count')}); review "
                "the deletes and pass --allow-deletes if they are intended",
            )
        )
    percent = 100.0 * deletes / live_objects
    if limits.max_percent is not None and percent > limits.max_percent:
        violations.append(
            Violation(
                "max-percent",
                f"the plan deletes {deletes} of the {live_objects} objects in scope "
                f"{plan.scope!r} ({percent:.0f}%), more than the limit of "
                f"{limits.max_percent:g}% ({_limit_name(limits, 'max_percent')}); "
                "review the deletes and pass --allow-deletes if they are intended",
            )
        )
    return violations


def _limit_name(limits: Limits, name: str) -> str:
    if name not in limits.from_base:
        return f"deletes.{name}"
    return (
        f"deletes.{name} at {limits.revision}; a limit raised in this change "
        "applies once it is merged"
    )


def unread_violations(
    plan: Plan, unread: dict[str, str], revision: str
) -> list[Violation]:
    """Return a guard for each deleted entity that a file named, which failed to
    load at the base revision and mentions the protect marker."""
    violations = []
    for change in plan.by_action(Action.DELETE):
        if change.kind is not Kind.ENTITY or change.protected:
            continue
        for path, text in unread.items():
            if change.key in text:
                violations.append(
                    Violation(
                        "protected",
                        f"{path} failed to load at {revision} and names the "
                        f"deleted entity {change.type} {change.key!r}, so whether "
                        "it is protected is unknown; fix that file on the base "
                        "branch first, then delete the entity",
                    )
                )
                break
    return violations


def unreadable_violation(reason: str) -> Violation:
    """Return the guard that fires when the base revision's inventory cannot be
    read, because its protected entities are then unknown."""
    return Violation(
        "protected",
        f"{reason}, so the protected entities there are unknown; check the "
        "inventory paths in j1gitops.yaml, or pass another --base-ref",
    )
