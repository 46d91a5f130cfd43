"""Validation of an inventory against J1's platform rules and its data model.

``validate_inventory`` is the entry point; ``normalize_dates`` is the date
conversion that planning applies too; ``list_classes`` and ``describe_class``
serve the ``schemas`` command.
"""

from j1gitops.validation.catalog import describe_class, list_classes
from j1gitops.validation.dates import normalize_dates
from j1gitops.validation.settings import ValidationSettings
from j1gitops.validation.validator import validate_inventory

__all__ = [
    "ValidationSettings",
    "describe_class",
    "list_classes",
    "normalize_dates",
    "validate_inventory",
]
