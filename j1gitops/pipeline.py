"""The steps that validate, plan and apply share: read, validate, open a target."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from j1gitops.config import Config
from j1gitops.diagnostics import Diagnostic, Location, error, sort_diagnostics
from j1gitops.errors import UsageError
from j1gitops.inventory.model import Inventory
from j1gitops.inventory.reader import read_inventory
from j1gitops.targets.base import Target


@dataclass
class CheckedInventory:
    """The inventory after reading and validation, with every finding."""

    inventory: Inventory
    diagnostics: list[Diagnostic] = field(default_factory=list)
    failed_files: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.failed_files


def template_renderer(config: Config):
    """Return the renderer for ``*.j2`` inventory files, or None when unavailable."""
    try:
        from j1gitops.templates import make_renderer
    except ImportError:
        return None
    return make_renderer(config)


def check_inventory(
    config: Config, paths: list[str] | None = None, strict: bool | None = None
) -> CheckedInventory:
    """Read the inventory files and validate them; nothing here touches a target."""
    with paused_garbage_collection():
        return _check_inventory(config, paths, strict)


@contextmanager
def paused_garbage_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building large object graphs.

    Reading 100,000 entities creates millions of objects but no reference cycles
    that need collecting. With the collector running, its repeated full scans of
    the growing heap cost as much as the parsing itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_inventory(
    config: Config, paths: list[str] | None, strict: bool | None
) -> CheckedInventory:
    read = read_inventory(
        # Paths on the command line are relative to the working directory, and
        # the config's relative to the config file's folder.
        [os.path.abspath(path) for path in paths] if paths else config.inventory,
        root=config.root,
        render_template=template_renderer(config),
    )
    diagnostics = list(read.diagnostics)
    if not read.inventory.files and not read.diagnostics:
        where = ", ".join(paths or config.inventory)
        diagnostics.append(warning_no_files(where))
    diagnostics += validate_inventory(read.inventory, config, strict)
    return CheckedInventory(
        read.inventory, sort_diagnostics(diagnostics), read.failed_files
    )


def validate_inventory(
    inventory: Inventory, config: Config, strict: bool | None
) -> list[Diagnostic]:
    """Convert ISO dates, then run J1's platform rules and the data-model schemas."""
    from j1gitops.validation import ValidationSettings
    from j1gitops.validation import validate_inventory as run_validation

    settings = ValidationSettings(
        strict=config.validation.strict if strict is None else strict,
        data_model_level=config.validation.data_model,
        class_levels=config.validation.classes,
        scope=config.scope,
    )
    return run_validation(inventory, settings)


def warning_no_files(where: str) -> Diagnostic:
    from j1gitops.diagnostics import warning

    return warning(
        Location(where),
        "no *.yaml, *.yml or *.json inventory files found; the desired state is empty",
        "no-files",
    )


def open_target(
    config: Config, name: str | None = None, local_path: str | None = None
) -> Target:
    """Open the target that the options or the config name."""
    target = name or config.target
    if target == "local":
        from j1gitops.targets.local import LocalTarget

        path = local_path or config.local_path
        if not os.path.isabs(path):
            path = os.path.join(config.root, path)
        return LocalTarget(path)
    if target == "jupiterone":
        from j1gitops.targets.jupiterone import JupiterOneTarget

        return JupiterOneTarget.from_environment()
    raise UsageError(f"unknown target {target!r}; use local or jupiterone")


def missing_external_diagnostics(
    inventory: Inventory, target: Target
) -> list[Diagnostic]:
    """Check that every relationship end outside the inventory exists in the target."""
    refs = []
    owners = []
    for relationship in inventory.relationships:
        for ref in (relationship.from_ref, relationship.to_ref):
            if ref.is_external:
                refs.append(ref)
                owners.append(relationship)
    if not refs:
        return []
    missing = {id(ref) for ref in target.missing_external(refs)}
    return [
        error(
            relationship.location,
            f"{relationship.label()} points at {ref.describe()}, which does not exist "
            f"in the target; create that entity first or fix the reference",
            "external-not-found",
        )
        for ref, relationship in zip(refs, owners, strict=True)
        if id(ref) in missing
    ]
