"""``j1gitops import csv|json|sdk-graph``: turn an export into inventory YAML."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

# The importers load the data-model schemas, so they are imported when a command
# runs, not when the CLI starts.
if TYPE_CHECKING:
    from j1gitops.importers.mapping import Mapping
    from j1gitops.importers.output import ImportCounts
    from j1gitops.importers.table import Table


@dataclass
class ImportOptions:
    """The options of ``import csv`` and ``import json``; None means not given."""

    path: str
    classes: str | None = None
    type: str | None = None
    key: str | None = None
    maps: list[str] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)
    mapping_path: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    list_separator: str | None = None
    records: str | None = None
    output: str | None = None


def build_mapping(options: ImportOptions) -> Mapping:
    """Read the mapping file, if any, and apply the command-line options over it."""
    from j1gitops.importers.mapping import Mapping, apply_options, load_mapping

    mapping = load_mapping(options.mapping_path) if options.mapping_path else Mapping()
    return apply_options(
        mapping,
        classes=options.classes,
        type=options.type,
        key=options.key,
        delimiter=options.delimiter,
        encoding=options.encoding,
        records=options.records,
        list_separator=options.list_separator,
        maps=options.maps,
        sets=options.sets,
    )


def import_table(table: Table, mapping: Mapping, output: str | None) -> int:
    """Convert the table's rows and write them; report the counts on stderr."""
    from j1gitops.importers.entities import EntityImporter
    from j1gitops.importers.output import write_import
    from j1gitops.importers.relationships import (
        RelationshipImporter,
        is_relationship_table,
    )

    if is_relationship_table(table):
        importer = RelationshipImporter(table, mapping)
    else:
        importer = EntityImporter(table, mapping)
    counts = write_import(importer, output, table.path)
    if importer.skipped_columns:
        skipped = ", ".join(importer.skipped_columns)
        print(f"Skipped J1 metadata columns: {skipped}.", file=sys.stderr)
    report(counts, f"{table.path} ({table.description})", output)
    return 0


def report(counts: ImportCounts, source: str, output: str | None) -> None:
    print(
        f"Imported {_count(counts.entities, 'entity', 'entities')} and "
        f"{_count(counts.relationships, 'relationship', 'relationships')} from "
        f"{source} to {output or 'stdout'}.",
        file=sys.stderr,
    )


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def run_import_csv(options: ImportOptions) -> int:
    """Run ``import csv``; return 0, or raise an error naming the bad input."""
    from j1gitops.importers.csvfile import read_csv

    mapping = build_mapping(options)
    table = read_csv(options.path, mapping.delimiter, mapping.encoding)
    return import_table(table, mapping, options.output)


def run_import_json(options: ImportOptions) -> int:
    """Run ``import json``; return 0, or raise an error naming the bad input."""
    from j1gitops.importers.jsonrecords import read_json_records

    mapping = build_mapping(options)
    table = read_json_records(options.path, mapping.records, mapping.encoding)
    return import_table(table, mapping, options.output)


def run_import_sdk_graph(directory: str, output: str | None = None) -> int:
    """Run ``import sdk-graph``: entities and relationships of an SDK graph folder."""
    from j1gitops.importers.output import write_import
    from j1gitops.importers.sdkgraph import GraphImporter

    importer = GraphImporter(directory)
    counts = write_import(importer, output, directory)
    if importer.skipped_columns:
        skipped = ", ".join(importer.skipped_columns)
        print(f"Skipped J1 metadata properties: {skipped}.", file=sys.stderr)
    if importer.skipped_mapped:
        print(
            f"Skipped {importer.skipped_mapped} mapped relationships (_mapping), "
            "which an inventory cannot hold.",
            file=sys.stderr,
        )
    report(counts, directory, output)
    return 0


import_app = typer.Typer(
    name="import",
    help="Turn an export (CSV, JSON or an SDK graph) into inventory YAML.",
    no_args_is_help=True,
)

ClassOption = Annotated[
    str | None,
    typer.Option("--class", help="Data-model class of the entities (comma-separated)."),
]
TypeOption = Annotated[
    str | None, typer.Option("--type", help="_type of the entities.")
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key", help="Column that contains each _key, or a pattern: '{site}-{serial}'."
    ),
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map", help="COLUMN=property; COLUMN= drops the column. Repeatable."
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="property=VALUE for every entity; VALUE may be a pattern."
    ),
]
MappingOption = Annotated[
    str | None,
    typer.Option("--mapping", help="YAML mapping file; options override it."),
]
EncodingOption = Annotated[
    str | None,
    typer.Option("--encoding", help="Encoding of the file (default: UTF-8)."),
]
SeparatorOption = Annotated[
    str | None,
    typer.Option(
        "--list-separator", help="Splits a value for an array property (default ',')."
    ),
]
OutputOption = Annotated[
    str | None,
    typer.Option("--output", "-o", help="YAML file to write (default: stdout)."),
]


@import_app.command("csv")
def import_csv(
    file: Annotated[str, typer.Argument(help="CSV file to import.")],
    classes: ClassOption = None,
    type_: TypeOption = None,
    key: KeyOption = None,
    maps: MapOption = None,
    sets: SetOption = None,
    mapping: MappingOption = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter", help="Field delimiter (default: sniffed among , ; tab |)."
        ),
    ] = None,
    encoding: EncodingOption = None,
    list_separator: SeparatorOption = None,
    output: OutputOption = None,
) -> int:
    """Import a CSV file: one entity per row, or J1's relationship CSV format."""
    return run_import_csv(
        ImportOptions(
            path=file,
            classes=classes,
            type=type_,
            key=key,
            maps=maps or [],
            sets=sets or [],
            mapping_path=mapping,
            delimiter=delimiter,
            encoding=encoding,
            list_separator=list_separator,
            output=output,
        )
    )


@import_app.command("json")
def import_json(
    file: Annotated[str, typer.Argument(help="JSON file to import (an API dump).")],
    records: Annotated[
        str | None,
        typer.Option(
            "--records", help="Dotted path of the array of records: data.items."
        ),
    ] = None,
    classes: ClassOption = None,
    type_: TypeOption = None,
    key: KeyOption = None,
    maps: MapOption = None,
    sets: SetOption = None,
    mapping: MappingOption = None,
    encoding: EncodingOption = None,
    list_separator: SeparatorOption = None,
    output: OutputOption = None,
) -> int:
    """Import the records of a JSON document: one entity per record."""
    return run_import_json(
        ImportOptions(
            path=file,
            classes=classes,
            type=type_,
            key=key,
            maps=maps or [],
            sets=sets or [],
            mapping_path=mapping,
            encoding=encoding,
            list_separator=list_separator,
            records=records,
            output=output,
        )
    )


@import_app.command("sdk-graph")
def import_sdk_graph(
    directory: Annotated[
        str,
        typer.Argument(help="The SDK's .j1-integration folder, or its graph folder."),
    ],
    output: OutputOption = None,
) -> int:
    """Import the graph that 'j1-integration collect' wrote."""
    return run_import_sdk_graph(directory, output)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
