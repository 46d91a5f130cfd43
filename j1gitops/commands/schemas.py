"""``j1gitops schemas [CLASS]``: the data-model classes, or one class's properties."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from j1gitops.console import make_console
from j1gitops.errors import UsageError

SCHEMA_FORMATS = ("text", "json")


def run_schemas(name: str | None, *, strict: bool = False, form: str = "text") -> int:
    """Print the class list, or the properties of class ``name``."""
    from j1gitops.validation import describe_class, list_classes
    from j1gitops.validation.describe import class_table, classes_table

    if form not in SCHEMA_FORMATS:
        raise UsageError(f"invalid --format {form!r}; use text or json")
    if form == "json":
        rows = list_classes() if name is None else describe_class(name)
        json.dump([row._asdict() for row in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    table = classes_table() if name is None else class_table(name, strict=strict)
    make_console().print(table)
    return 0


def register(app: typer.Typer) -> None:
    @app.command()
    def schemas(
        name: Annotated[
            str | None,
            typer.Argument(help="A class, such as Device; omit to list all."),
        ] = None,
        strict: Annotated[
            bool,
            typer.Option(
                "--strict", help="Show required-but-nullable properties as required."
            ),
        ] = False,
        form: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    ) -> int:
        """List the J1 data-model classes, or show one class's properties."""
        return run_schemas(name, strict=strict, form=form)
