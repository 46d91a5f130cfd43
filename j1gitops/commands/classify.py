"""``j1gitops classify``: suggest classes and a starter mapping for an export."""

from __future__ import annotations

import shlex
import sys
from typing import Annotated

import typer

from j1gitops.errors import UsageError


def _is_json(path: str, records: str | None) -> bool:
    return records is not None or path.lower().endswith(".json")


def run_classify(
    path: str,
    *,
    class_name: str | None = None,
    records: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    top: int = 5,
    output: str | None = None,
) -> int:
    """Print the report to stdout; write the starter mapping to ``output``."""
    # These load the data-model schemas, so they are imported only when run.
    from j1gitops.importers.csvfile import read_csv
    from j1gitops.importers.jsonrecords import read_json_records
    from j1gitops.importers.output import check_not_source
    from j1gitops.importers.profile import profile_table
    from j1gitops.importers.report import render_mapping, render_report
    from j1gitops.importers.starter import suggest
    from j1gitops.inventory.writer import write_text_atomic

    if top < 1:
        raise UsageError(f"invalid --top {top}; give 1 or more")
    if _is_json(path, records):
        table = read_json_records(path, records, encoding)
    else:
        table = read_csv(path, delimiter, encoding)
    check_not_source(output, path)
    profile = profile_table(table)
    if profile.rows == 0:
        raise UsageError(f"{path}: no rows to classify; the file has a header only")
    suggestion = suggest(profile, class_name, top)
    command = _import_command(path, records, output)
    sys.stdout.write(render_report(suggestion))
    if output is not None:
        write_text_atomic(output, render_mapping(suggestion, command, records))
        print(
            f"\nWrote the starter mapping to {output}; review it, then run:",
            file=sys.stderr,
        )
        print(f"  {command}", file=sys.stderr)
    return 0


def _import_command(path: str, records: str | None, output: str | None) -> str:
    kind = "json" if _is_json(path, records) else "csv"
    parts = ["j1gitops", "import", kind, path, "--mapping", output or "MAPPING.yaml"]
    parts += ["-o", "inventory/IMPORTED.yaml"]
    return shlex.join(parts)


def classify(
    file: Annotated[str, typer.Argument(help="CSV or JSON export to classify.")],
    class_name: Annotated[
        str | None,
        typer.Option(
            "--class",
            help="Map to this class instead of the best; several: Device,Host.",
        ),
    ] = None,
    records: Annotated[
        str | None,
        typer.Option("--records", help="JSON: dotted path of the array of records."),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option("--delimiter", help="CSV field delimiter (default: sniffed)."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Encoding of the file (default: UTF-8)."),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Number of classes to list.")] = 5,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write a starter mapping file here."),
    ] = None,
) -> int:
    """Suggest the classes, properties and keys for an export, and a starter mapping."""
    return run_classify(
        file,
        class_name=class_name,
        records=records,
        delimiter=delimiter,
        encoding=encoding,
        top=top,
        output=output,
    )


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)
