"""Rich tables of the data-model classes, for the ``schemas`` command."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from j1gitops.validation import schemas
from j1gitops.validation.catalog import describe_class, list_classes


def classes_table() -> Table:
    """Build a table of every class with its parent and required-property count."""
    table = Table(title=f"J1 data model {schemas.data_model_version()}: entity classes")
    table.add_column("class", style="bold")
    table.add_column("parent")
    table.add_column("required", justify="right")
    for row in list_classes():
        table.add_row(row.name, row.parent or "", str(row.required))
    return table


def class_table(name: str, strict: bool = False) -> Table:
    """Build a table of one class's properties.

    A required property that may be null shows as "yes, or null" under
    ``strict``; by default validation lets it be omitted, so it shows as "no".
    Raises UsageError for an unknown class.
    """
    table = Table(title=f"{name} (J1 data model {schemas.data_model_version()})")
    for column in ("property", "type", "required", "format", "description"):
        table.add_column(column, overflow="fold")
    for row in describe_class(name):
        # Patterns and descriptions contain brackets, which rich reads as markup.
        table.add_row(
            escape(row.property),
            escape(row.type),
            _required_text(row.required, row.nullable, strict),
            escape(row.format),
            escape(row.description),
        )
    return table


def _required_text(required: bool, nullable: bool, strict: bool) -> str:
    if not required:
        return "no"
    if not nullable:
        return "yes"
    return "yes, or null" if strict else "no (may be null)"
