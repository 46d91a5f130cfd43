"""Write what an importer reads as one inventory file, whole or not at all."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from io import StringIO
from typing import IO, Protocol

from j1gitops.errors import LoadError, UsageError
from j1gitops.inventory.writer import UnwritableValue, atomic_output, write_document


class Importer(Protocol):
    """The interface that the CSV, JSON and SDK-graph importers share."""

    relationships: list[dict]

    def entities(self) -> Iterable[dict]:
        """Yield entities; ``relationships`` is complete once they are all read."""


@dataclass
class ImportCounts:
    entities: int
    relationships: int


def check_not_source(output: str | None, source: str, option: str = "-o") -> None:
    """Raise UsageError when ``output`` is the file being read."""
    if output is None or not os.path.exists(output):
        return
    try:
        same = os.path.samefile(output, source)
    except OSError:
        return
    if same:
        raise UsageError(
            f"{option} {output} is the file being read; write to another file, "
            "such as inventory/imported.yaml"
        )


def write_import(importer: Importer, output: str | None, source: str) -> ImportCounts:
    """Write the importer's entities and relationships to ``output`` (stdout when
    None). Nothing is written when reading fails or no row is valid."""
    check_not_source(output, source)
    if output is None:
        buffer = StringIO()
        counts = _write(importer, buffer, source)
        sys.stdout.write(buffer.getvalue())
        sys.stdout.flush()
        return counts
    with atomic_output(output) as handle:
        return _write(importer, handle, source)


def _write(importer: Importer, handle: IO[str], source: str) -> ImportCounts:
    try:
        entities, relationships = write_document(
            handle, importer.entities(), importer.relationships
        )
    except UnwritableValue as exc:
        raise LoadError(f"{source}: {exc}; fix the value in the source") from None
    if entities == 0 and relationships == 0:
        raise LoadError(
            f"{source}: no rows to import (the file has a header but no data rows); "
            "add rows, or check that the right file and delimiter were used"
        )
    return ImportCounts(entities, relationships)
