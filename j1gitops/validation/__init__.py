"""Validation of an inventory against J1's platform rules and its data model.

``validate_inventory`` is the entry point; ``normalize_dates`` is the date
conversion that planning applies too; ``list_classes`` and ``describe_class``
serve the ``schemas`` command.

The names are loaded when first used, so that the importers, which need only
the schemas, do not load jsonschema.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from j1gitops.validation.catalog import describe_class, list_classes
    from j1gitops.validation.dates import normalize_dates
    from j1gitops.validation.settings import ValidationSettings
    from j1gitops.validation.validator import validate_inventory

_HOMES = {
    "ValidationSettings": "settings",
    "describe_class": "catalog",
    "list_classes": "catalog",
    "normalize_dates": "dates",
    "validate_inventory": "validator",
}
__all__ = [
    "ValidationSettings",
    "describe_class",
    "list_classes",
    "normalize_dates",
    "validate_inventory",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
