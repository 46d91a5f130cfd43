"""Find the inventory files and read them into one ``Inventory``."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from j1gitops.diagnostics import Diagnostic, Location, error, warning
from j1gitops.inventory.dialects import DocumentReader, resolve_relationships
from j1gitops.inventory.model import Inventory
from j1gitops.inventory.yamlload import LoadedFile, load_file

INVENTORY_SUFFIXES = (".yaml", ".yml", ".json")
TEMPLATE_SUFFIXES = (".yaml.j2", ".yml.j2", ".json.j2")

# Renders one template file to the text of a YAML or JSON document. The templates
# module provides it; the reader only knows the signature.
TemplateRenderer = Callable[[str, str], LoadedFile]


@dataclass
class ReadResult:
    inventory: Inventory
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Files with at least one error that kept them from being read completely.
    # A plan must never turn a file that failed to load into deletions.
    failed_files: list[str] = field(default_factory=list)


def is_inventory_file(name: str, with_templates: bool = True) -> bool:
    if name.endswith(INVENTORY_SUFFIXES):
        return True
    return with_templates and name.endswith(TEMPLATE_SUFFIXES)


def discover_files(
    paths: Iterable[str], root: str = "."
) -> tuple[list[str], list[Diagnostic]]:
    """Return every inventory file under ``paths`` in a stable (sorted) order.

    Hidden files and folders (names starting with ".") are skipped. A path
    given explicitly must exist.
    """
    found: set[str] = set()
    diagnostics = []
    for given in paths:
        path = Path(root, given) if not os.path.isabs(given) else Path(given)
        if path.is_file():
            found.add(_display(path, root))
            continue
        if not path.is_dir():
            diagnostics.append(
                error(
                    Location(str(given)),
                    f"inventory path {given!r} does not exist; check the path or the "
                    "'inventory' list in j1gitops.yaml",
                    "io",
                )
            )
            continue
        for directory, files in _walk(path, root, diagnostics):
            for name in files:
                if name.startswith(".") or not is_inventory_file(name):
                    _warn_if_skipped(Path(directory, name), root, diagnostics)
                    continue
                file = Path(directory, name)
                problem = _unreadable_reason(file, root)
                if problem is None:
                    found.add(_display(file, root))
                else:
                    shown = Path(os.path.relpath(file, root)).as_posix()
                    diagnostics.append(error(Location(shown), problem, "io"))
    return sorted(found, key=lambda p: Path(p).as_posix()), diagnostics


def _walk(path: Path, root: str, diagnostics: list[Diagnostic]):
    """Walk a folder like ``os.walk``, following symlinked folders inside the root.

    Hidden folders are skipped. A symlinked folder that leaves the root is
    reported, not read, and each real folder is visited once, so a link loop ends.
    """
    root_path = Path(root).resolve()
    seen: set[Path] = set()
    for directory, folders, files in os.walk(path, followlinks=True):
        real = Path(directory).resolve()
        if real in seen:
            folders[:] = []
            continue
        seen.add(real)
        kept = []
        for name in folders:
            folder = Path(directory, name)
            if name.startswith("."):
                continue
            if folder.is_symlink() and not folder.resolve().is_relative_to(root_path):
                shown = Path(os.path.relpath(folder, root)).as_posix()
                diagnostics.append(
                    error(
                        Location(shown),
                        "symlinked folder points outside the repository; j1gitops "
                        "reads only files inside it, so replace the link",
                        "io",
                    )
                )
                continue
            kept.append(name)
        folders[:] = kept
        yield directory, files


def _warn_if_skipped(file: Path, root: str, diagnostics: list[Diagnostic]) -> None:
    """Warn about a file that looks like inventory but is not read.

    Its entities would otherwise look deleted in the plan, with no hint why.
    """
    name = file.name
    lowered = name.lower()
    looks_like_inventory = lowered.endswith(INVENTORY_SUFFIXES + TEMPLATE_SUFFIXES)
    if not looks_like_inventory:
        return
    if name.startswith("."):
        reason = "hidden files (names starting with '.') are not read"
    else:
        reason = "only lower-case .yaml, .yml, .json and .j2 suffixes are read"
    shown = Path(os.path.relpath(file, root)).as_posix()
    diagnostics.append(
        warning(
            Location(shown), f"file is skipped: {reason}; rename it", "skipped-file"
        )
    )


def _unreadable_reason(file: Path, root: str) -> str | None:
    """Say why a file found in an inventory folder must not be read, or None.

    A pull request can add symlinks: one that points outside the repository, or
    at a device such as /dev/zero, could make the plan read secrets of the CI
    machine or never finish.
    """
    if file.is_symlink():
        target = file.resolve()
        if not target.is_relative_to(Path(root).resolve()):
            return (
                "symlink points outside the repository; j1gitops reads only files "
                "inside it, so replace the link with the file"
            )
    try:
        mode = file.stat().st_mode
    except OSError as exc:
        return f"cannot read file: {exc.strerror}"
    if not stat.S_ISREG(mode):
        return "not a regular file (a device, socket or FIFO); remove it"
    return None


def _display(path: Path, root: str) -> str:
    """Show paths relative to the root when they are under it, as POSIX paths."""
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def read_inventory(
    paths: Iterable[str],
    root: str = ".",
    render_template: TemplateRenderer | None = None,
) -> ReadResult:
    """Load every inventory file under ``paths`` and read its documents."""
    files, diagnostics = discover_files(paths, root)
    result = ReadResult(Inventory(files=files), diagnostics)
    for display in files:
        full = os.path.join(root, display) if not os.path.isabs(display) else display
        if display.endswith(TEMPLATE_SUFFIXES):
            if render_template is None:
                result.diagnostics.append(
                    error(
                        Location(display),
                        "templates are not supported here",
                        "template",
                    )
                )
                result.failed_files.append(display)
                continue
            loaded = render_template(full, display)
        else:
            loaded = load_file(full, display)
        add_loaded_file(result, loaded)
    entity_types = {entity.key: entity.type for entity in result.inventory.entities}
    result.diagnostics.extend(
        resolve_relationships(result.inventory.relationships, entity_types)
    )
    return result


def add_loaded_file(result: ReadResult, loaded: LoadedFile) -> None:
    """Read the documents of one loaded file into ``result``."""
    result.diagnostics.extend(loaded.diagnostics)
    reader = DocumentReader(loaded.path)
    for document, position in zip(
        loaded.documents, loaded.document_positions, strict=True
    ):
        reader.read_document(document, position)
    result.diagnostics.extend(reader.diagnostics)
    if loaded.failed or any(d.is_error for d in reader.diagnostics):
        result.failed_files.append(loaded.path)
    result.inventory.entities.extend(reader.entities)
    result.inventory.relationships.extend(reader.relationships)
