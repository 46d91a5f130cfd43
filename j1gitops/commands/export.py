"""``j1gitops export``: write a target's entities and relationships of a scope as
inventory files."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from j1gitops.config import Config, load_config
from j1gitops.errors import UsageError
from j1gitops.pipeline import open_target

EXPORT_FORMATS = ("yaml", "sdk-graph")
DEFAULT_GRAPH_FOLDER = ".j1-integration"
# Folders that the missing --output message suggests, first choice first.
SUGGESTED_FOLDERS = (
    "exported",
    "exported-inventory",
    os.path.join(os.pardir, "exported"),
)


@dataclass
class ExportOptions:
    output: str | None = None
    format: str = "yaml"
    config_path: str | None = None
    target: str | None = None
    local_path: str | None = None
    scope: str | None = None
    force: bool = False


def _check_format(options: ExportOptions) -> None:
    if options.format not in EXPORT_FORMATS:
        raise UsageError(
            f"invalid --format {options.format!r}; use one of {', '.join(EXPORT_FORMATS)}"
        )


def _output_folder(options: ExportOptions, config: Config) -> str:
    if options.output:
        return options.output
    if options.format == "sdk-graph":
        return DEFAULT_GRAPH_FOLDER
    raise UsageError(
        "missing --output: name a new folder for the inventory files, such as "
        f"--output {_suggested_folder(config)}, outside the inventory paths "
        f"({', '.join(config.inventory)}), because plan would read the exported "
        "objects a second time there"
    )


def _suggested_folder(config: Config) -> str:
    """Return the first of ``SUGGESTED_FOLDERS`` outside every inventory path."""
    inventory = [Path(config.root, path).resolve() for path in config.inventory]
    for folder in SUGGESTED_FOLDERS:
        resolved = Path(folder).resolve()
        if not any(resolved.is_relative_to(path) for path in inventory):
            return folder
    return SUGGESTED_FOLDERS[-1]


def _check_local_path(options: ExportOptions, config: Config) -> None:
    """Raise UsageError for a --local-path that does not exist.

    The local target reads a missing file as an empty store, which would
    report only that the scope has no entities. A relative path is relative
    to the config's folder, as ``open_target`` reads it.
    """
    if options.local_path is None:
        return
    if os.path.exists(os.path.join(config.root, options.local_path)):
        return
    raise UsageError(
        f"invalid --local-path: {options.local_path} does not exist; give the "
        "SQLite file that 'j1gitops apply' wrote (the config's local.path)"
    )


def _check_free(folder: str, options: ExportOptions) -> None:
    """Raise UsageError for a folder that contains files already, unless --force."""
    from j1gitops.importers.sdkgraph import EXPORT_STEP, GRAPH_FOLDER

    if options.format == "sdk-graph":
        folder = os.path.join(folder, GRAPH_FOLDER, EXPORT_STEP)
    if options.force or not os.path.isdir(folder) or not os.listdir(folder):
        return
    raise UsageError(
        f"{folder} already contains files; export into a new or empty folder, or pass "
        "--force to replace files of the same names"
    )


def run_export(options: ExportOptions) -> int:
    """Read the scope from the target and write one file per ``_type``."""
    # The exporters load the data-model schemas, so they are imported only here.
    from j1gitops.importers.live import (
        export_entities,
        export_relationships,
        yaml_layout,
    )
    from j1gitops.importers.sdkgraph import graph_layout
    from j1gitops.inventory.writer import UnwritableValue, write_tree_atomic

    _check_format(options)
    config = load_config(options.config_path)
    folder = _output_folder(options, config)
    _check_free(folder, options)
    scope = options.scope or config.scope
    if (options.target or config.target) == "local":
        _check_local_path(options, config)
    target = open_target(config, options.target, options.local_path)
    try:
        live = target.read(scope)
    finally:
        target.close()
    entities = export_entities(live)
    relationships = export_relationships(live, scope)
    if not entities and not relationships:
        raise UsageError(
            f"scope {scope!r} has no entities or relationships in the {target.name} "
            "target; check --scope, --target and --local-path"
        )
    layout = yaml_layout if options.format == "yaml" else graph_layout
    try:
        files = layout(entities, relationships)
    except UnwritableValue as exc:
        raise UsageError(f"cannot export scope {scope!r}: {exc}") from None
    write_tree_atomic(folder, files)
    print(
        f"Exported {len(entities)} entities and {len(relationships)} relationships "
        f"of scope {scope!r} to {len(files)} file(s) under {folder}.",
        file=sys.stderr,
    )
    return 0


def export(
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Folder to write (sdk-graph default: .j1-integration).",
        ),
    ] = None,
    form: Annotated[
        str, typer.Option("--format", help="yaml (inventory files) or sdk-graph.")
    ] = "yaml",
    config: Annotated[
        str | None,
        typer.Option("--config", help="Config file (default: ./j1gitops.yaml)."),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", help="Target to read: local or jupiterone."),
    ] = None,
    local_path: Annotated[
        str | None,
        typer.Option(
            "--local-path",
            help="SQLite file of the local target (default from config).",
        ),
    ] = None,
    scope: Annotated[
        str | None,
        typer.Option("--scope", help="Scope to export (default from config)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write into a folder that contains files already."
        ),
    ] = False,
) -> int:
    """Write a target's entities and relationships of a scope, one file per _type."""
    return run_export(
        ExportOptions(
            output=output,
            format=form,
            config_path=config,
            target=target,
            local_path=local_path,
            scope=scope,
            force=force,
        )
    )


def register(app: typer.Typer) -> None:
    app.command("export")(export)
