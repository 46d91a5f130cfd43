"""``j1gitops validate``: check the inventory files without touching a target."""

from __future__ import annotations

import sys

from j1gitops.config import load_config
from j1gitops.errors import UsageError
from j1gitops.pipeline import check_inventory
from j1gitops.views.diagnostics import DIAGNOSTIC_FORMATS, render


def run_validate(
    paths: list[str],
    *,
    config_path: str | None = None,
    strict: bool | None = None,
    form: str = "text",
) -> int:
    """Print every finding, sorted; return 1 when any is an error."""
    if form not in DIAGNOSTIC_FORMATS:
        raise UsageError(
            f"invalid --format {form!r}; use one of {', '.join(DIAGNOSTIC_FORMATS)}"
        )
    config = load_config(config_path)
    checked = check_inventory(config, paths or None, strict)
    sys.stdout.write(render(checked.diagnostics, form))
    errors = len(checked.errors)
    warnings = len(checked.diagnostics) - errors
    inventory = checked.inventory
    if form == "text":
        sys.stderr.write(
            f"{len(inventory.files)} file(s), {len(inventory.entities)} entities, "
            f"{len(inventory.relationships)} relationships: {errors} error(s), "
            f"{warnings} warning(s).\n"
        )
    return 1 if errors or checked.failed_files else 0
