"""J1's integration SDK graph directory, read and written.

``j1-integration collect`` writes ``.j1-integration/graph/<step>/entities/*.json``
and ``.../relationships/*.json``, each file ``{"entities": [...]}`` or
``{"relationships": [...]}``; ``j1-integration sync`` and ``visualize`` read
every ``*.json`` under ``graph/`` (``@jupiterone/integration-sdk-runtime``,
``iterateParsedGraphFiles``, and ``integration-sdk-cli``'s visualization).

Reading drops each entity's ``_rawData`` (the provider's raw response, which an
inventory does not hold) and skips mapped relationships (``_mapping``), which
name their target by a filter rather than a ``_key``. It also skips J1 system
metadata such as ``_id``, ``_scope`` or ``_version`` (every ``_`` property but
those in ``ENTITY_FIELDS`` and ``RELATIONSHIP_FIELDS``), as the CSV importer
does, and lists the skipped names in ``skipped_columns``. Writing puts one file per
``_type`` under one step folder and no ``index/`` folder, which sync and
visualize do not read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from j1gitops.errors import LoadError
from j1gitops.importers.csvfile import decode, read_bytes
from j1gitops.importers.jsonrecords import too_deep
from j1gitops.inventory.writer import ordered_keys

GRAPH_FOLDER = "graph"
EXPORT_STEP = "j1gitops-export"
DROPPED_ENTITY_FIELDS = ("_rawData",)
# The underscore properties that an inventory object keeps.
ENTITY_FIELDS = ("_key", "_type", "_class")
RELATIONSHIP_FIELDS = (
    *ENTITY_FIELDS,
    "_fromEntityKey",
    "_toEntityKey",
    "_fromEntityId",
    "_toEntityId",
    "_fromEntitySource",
    "_fromEntityScope",
    "_toEntitySource",
    "_toEntityScope",
)
_UNSAFE_FILE_CHARACTERS = re.compile(r"[^a-z0-9_-]")
# A lower-cased _type that is a valid file name unchanged on every common file
# system: not hidden, no path separators, no characters that Windows rejects.
_PLAIN_STEM = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
_WINDOWS_DEVICE_NAMES = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{n}" for n in range(1, 10)]
    + [f"lpt{n}" for n in range(1, 10)]
)
MAX_STEM_TEXT = 100


def graph_root(directory: str) -> Path:
    """Return the graph folder: ``DIR/graph`` when it exists, else ``DIR`` itself."""
    path = Path(directory)
    if not path.is_dir():
        raise LoadError(
            f"{directory} is not a folder; give the SDK's .j1-integration folder "
            "or its graph folder"
        )
    nested = path / GRAPH_FOLDER
    return nested if nested.is_dir() else path


def graph_files(root: Path) -> list[Path]:
    files = sorted(p for p in root.rglob("*.json") if p.is_file())
    if not files:
        raise LoadError(
            f"{root}: no *.json files found; run 'j1-integration collect' first, "
            "or give the folder that holds graph/"
        )
    return files


@dataclass
class GraphImporter:
    """Read a graph directory; ``entities()`` yields its entities in file order."""

    directory: str
    relationships: list[dict] = field(default_factory=list)
    skipped_mapped: int = 0
    entity_count: int = 0
    skipped_columns: list[str] = field(default_factory=list)

    def entities(self) -> Iterator[dict]:
        first_file: dict[str, str] = {}
        relationship_files: dict[str, str] = {}
        for path in graph_files(graph_root(self.directory)):
            document = _load(path)
            for entity in _items(document, "entities", path):
                entity = self._without_metadata(entity, ENTITY_FIELDS)
                _check_unique(entity, path, first_file, "entity")
                self.entity_count += 1
                yield entity
            for relationship in _items(document, "relationships", path):
                if "_mapping" in relationship:
                    self.skipped_mapped += 1
                    continue
                relationship = self._without_metadata(relationship, RELATIONSHIP_FIELDS)
                _check_unique(relationship, path, relationship_files, "relationship")
                self.relationships.append(relationship)

    def _without_metadata(self, item: dict, kept_fields: tuple[str, ...]) -> dict:
        """Copy ``item`` without the ``_`` properties not in ``kept_fields``, and
        add the names of the skipped ones, except ``_rawData``, to
        ``skipped_columns``."""
        result = {}
        for name, value in item.items():
            if not name.startswith("_") or name in kept_fields:
                result[name] = value
            elif name not in DROPPED_ENTITY_FIELDS and name not in self.skipped_columns:
                self.skipped_columns.append(name)
        return result


def _load(path: Path) -> dict:
    text = decode(read_bytes(str(path)), str(path), None)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}; collect the "
            "graph again"
        ) from None
    except RecursionError:
        raise too_deep(str(path)) from None
    if not isinstance(document, dict):
        raise LoadError(
            f"{path}: a graph file must be an object with 'entities' or "
            "'relationships'; remove files that are not graph data"
        )
    return document


def _items(document: dict, name: str, path: Path) -> list[dict]:
    items = document.get(name) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise LoadError(f"{path}: '{name}' must be an array of objects")
    for index, item in enumerate(items):
        if not isinstance(item.get("_key"), str):
            raise LoadError(
                f"{path}:{name}[{index}]: _key is missing or not a string; every "
                "graph object needs a _key"
            )
    return items


def _check_unique(item: dict, path: Path, first: dict[str, str], kind: str) -> None:
    where = f"{path}:{item['_key']}"
    earlier = first.get(item["_key"])
    if earlier is not None:
        raise LoadError(
            f"{where}: duplicate {kind} _key {item['_key']!r}, also in {earlier}; "
            "the graph holds two objects with one _key, so remove one of them"
        )
    first[item["_key"]] = str(path)


def file_stems(types: Iterable[str]) -> dict[str, str]:
    """Map each ``_type`` to a file name stem that no other type of ``types`` gets.

    A type whose lower-case form is plain (letters, digits, ``_`` and ``-``,
    starting with a letter or digit, at most 100 characters, not a Windows
    device name) gets that form, so ``AWS_Instance`` becomes ``aws_instance``.
    When several types share one lower-case form, only the type already in
    lower case keeps it. Every other type gets a readable stem, a ``.`` and 12
    hex digits of the type's SHA-256, such as ``_hidden.<digits>`` for
    ``.hidden``. Plain stems contain no ``.``, so the two kinds never meet, and
    no two stems differ only in case, so a case-insensitive file system keeps
    every file.
    """
    stems: dict[str, str] = {}
    plain: dict[str, list[str]] = {}
    for type_ in sorted(set(types)):
        lowered = type_.lower()
        if _PLAIN_STEM.fullmatch(lowered) and lowered not in _WINDOWS_DEVICE_NAMES:
            plain.setdefault(lowered, []).append(type_)
        else:
            stems[type_] = _hashed_stem(type_)
    for lowered, group in plain.items():
        for type_ in group:
            if type_ == lowered or len(group) == 1:
                stems[type_] = lowered
            else:
                stems[type_] = _hashed_stem(type_)
    _check_distinct(stems)
    return stems


def _hashed_stem(type_: str) -> str:
    readable = _UNSAFE_FILE_CHARACTERS.sub("_", type_.lower())[:MAX_STEM_TEXT]
    digest = hashlib.sha256(type_.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{readable or 'untyped'}.{digest[:12]}"


def _check_distinct(stems: dict[str, str]) -> None:
    # Two hashed stems meet only when 48 bits of SHA-256 agree; writing both
    # types into one file would merge them, so that case is an error.
    owners: dict[str, str] = {}
    for type_, stem in stems.items():
        other = owners.setdefault(stem, type_)
        if other != type_:
            raise LoadError(
                f"the types {other!r} and {type_!r} map to one file name {stem!r}; "
                "rename one of the types"
            )


def graph_json(name: str, objects: list[dict]) -> str:
    """Return one graph file: ``{name: [...]}``, keys in the writer's order."""
    ordered = [{key: obj[key] for key in ordered_keys(obj)} for obj in objects]
    return json.dumps({name: ordered}, indent=2, ensure_ascii=False) + "\n"


def graph_layout(entities: list[dict], relationships: list[dict]) -> dict[str, str]:
    """Return the files of a graph folder (relative path -> text), one per ``_type``.

    File names come from ``file_stems``, so two types never share a file.
    """
    stems = file_stems(str(obj.get("_type")) for obj in [*entities, *relationships])
    files: dict[str, str] = {}
    for folder, name, objects in (
        ("entities", "entities", entities),
        ("relationships", "relationships", relationships),
    ):
        by_stem: dict[str, list[dict]] = {}
        for obj in sorted(objects, key=lambda o: (str(o.get("_type")), str(o["_key"]))):
            by_stem.setdefault(stems[str(obj.get("_type"))], []).append(obj)
        for stem, group in by_stem.items():
            path = os.path.join(GRAPH_FOLDER, EXPORT_STEP, folder, f"{stem}.json")
            files[path] = graph_json(name, group)
    return files
