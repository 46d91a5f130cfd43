"""Point what was read from a template's output back at the template.

``OutputMap`` stores, for every output line, the template line it came from and
the data record the template had read last when the line ended. Positions in
the loaded documents and in the loader's diagnostics are rewritten to template
lines. Columns stay those of the output line, so they differ from the
template's where an expression comes earlier on the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from j1gitops.diagnostics import Diagnostic, Location, error
from j1gitops.inventory.yamlload import LoadedFile, SourceDict, SourceList


@dataclass
class OutputMap:
    path: str
    lines: list[int]  # template line of each output line, first output line first
    records: list[str | None]  # last data record read when each output line ended

    def template_line(self, line: int) -> int:
        return self.lines[min(max(line, 1), len(self.lines)) - 1]

    def record(self, line: int) -> str | None:
        if 1 <= line <= len(self.records):
            return self.records[line - 1]
        return None

    def position(self, position: tuple[int, int]) -> tuple[int, int]:
        return self.template_line(position[0]), position[1]

    def describe(self, line: int, last_line: int | None = None) -> str:
        """Return ``template:line (data record)`` for output lines ``line`` to
        ``last_line``, naming the record read last by the end of ``last_line``."""
        record = self.record(last_line or line)
        detail = f"data record {record}" if record else f"output line {line}"
        return f"{self.path}:{self.template_line(line)} ({detail})"


def remap_loaded(loaded: LoadedFile, output: OutputMap) -> None:
    """Rewrite the positions of ``loaded`` from output lines to template lines."""
    seen: set[int] = set()
    for document in loaded.documents:
        _remap_node(document, output, seen)
    loaded.document_positions = [output.position(p) for p in loaded.document_positions]
    loaded.diagnostics = [_remap_diagnostic(d, output) for d in loaded.diagnostics]


def _remap_node(node: Any, output: OutputMap, seen: set[int]) -> None:
    if id(node) in seen or not isinstance(node, (SourceDict, SourceList)):
        return
    seen.add(id(node))
    node.position = output.position(node.position)
    if isinstance(node, SourceDict):
        node.key_positions = {
            key: output.position(position)
            for key, position in node.key_positions.items()
        }
        children = node.values()
    else:
        children = node
    for child in children:
        _remap_node(child, output, seen)


def _remap_diagnostic(diagnostic: Diagnostic, output: OutputMap) -> Diagnostic:
    line = diagnostic.location.line
    record = output.record(line)
    detail = f"; data record {record}" if record else ""
    return Diagnostic(
        Location(output.path, output.template_line(line), diagnostic.location.column),
        diagnostic.severity,
        f"{diagnostic.message} (in the template's output line {line}{detail})",
        diagnostic.rule,
    )


def _object_lists(documents: list) -> list[tuple[str, list]]:
    found = []
    for document in documents:
        if isinstance(document, list):
            found.append(("entity", document))
        elif isinstance(document, dict):
            for kind, name in (
                ("entity", "entities"),
                ("relationship", "relationships"),
            ):
                if isinstance(document.get(name), list):
                    found.append((kind, document[name]))
    return found


def _object_key(kind: str, item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    names = ("_key", "entityKey") if kind == "entity" else ("_key",)
    for name in names:
        if isinstance(item.get(name), str):
            return item[name]
    return None


def take_duplicates(loaded: LoadedFile, output: OutputMap) -> list[Diagnostic]:
    """Report and remove every object whose ``_key`` an earlier object of the
    same output already used, naming the data records of both.

    Runs before ``remap_loaded``, on output-line positions. The later object is
    removed so that the inventory's own duplicate check does not report it
    again with two identical template locations. The error fails the file.
    """
    found = []
    first: dict[tuple[str, str], str] = {}
    for kind, items in _object_lists(loaded.documents):
        unique = []
        for index, item in enumerate(items):
            key = _object_key(kind, item)
            if key is None:
                unique.append(item)
                continue
            line = item.position[0]
            where = output.describe(line, _last_line(items, index, output))
            if (kind, key) in first:
                found.append(
                    _duplicate(kind, key, line, where, first[(kind, key)], output)
                )
                continue
            first[(kind, key)] = where
            unique.append(item)
        items[:] = unique
    return found


def _last_line(items: list, index: int, output: OutputMap) -> int:
    """Return the last output line of ``items[index]``: the line before the next
    item, or the last line of the output for the last item."""
    for following in items[index + 1 :]:
        if isinstance(following, (SourceDict, SourceList)):
            return max(following.position[0] - 1, items[index].position[0])
    return len(output.lines)


def _duplicate(
    kind: str, key: str, line: int, where: str, earlier: str, output: OutputMap
) -> Diagnostic:
    return error(
        Location(output.path, output.template_line(line), 1),
        f"{kind} _key {key!r} comes from {where} and from {earlier}; a _key must "
        "be unique within the scope, so change the data or the template's key",
        f"duplicate-{kind}-key",
    )
