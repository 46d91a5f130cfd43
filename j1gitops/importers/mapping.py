"""Mappings: how the columns of an export become entities and relationships.

A mapping comes from a YAML file (``--mapping``), from command-line options, or
both. An option overrides the file's value, and each ``--map`` or ``--set`` adds
or replaces one entry of the file. The file's keys:

    class: Device               # a class, or a list (or "Device,Host")
    type: acme_laptop           # the entities' _type
    key: "laptop-{serial}"      # a column, or a pattern of {column} names
    delimiter: ";"              # CSV: sniffed when absent
    encoding: utf-8
    records: data.items         # JSON: dotted path of the array of records
    list_separator: ","         # splits a value for an array property
    unmapped: keep              # keep | drop the columns not under properties
    properties:                 # column: property; null drops the column
      Serial Number: serial
    set:                        # property: a constant, or a pattern of columns
      category: endpoint
    types:                      # property: kind, for properties no class types
      warrantyMonths: integer
    relationships:              # a column that holds another entity's key
      - column: owner_email
        verb: OWNS
        direction: reverse      # forward: this entity -> the other one
        key: "person:{owner_email}"   # the other entity's _key; default {column}
        many: false             # split at list_separator, one relationship each
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from j1gitops.errors import LoadError, UsageError
from j1gitops.importers.values import KINDS
from j1gitops.inventory.yamlload import SourceDict, load_file

DIRECTIONS = ("forward", "reverse")
UNMAPPED = ("keep", "drop")
TOP_KEYS = {
    "class",
    "type",
    "key",
    "delimiter",
    "encoding",
    "records",
    "list_separator",
    "unmapped",
    "properties",
    "set",
    "types",
    "relationships",
}
RELATIONSHIP_KEYS = {"column", "verb", "direction", "key", "many"}


@dataclass
class RelationshipRule:
    """A column that names another entity, and the verb that links the two."""

    column: str
    verb: str
    direction: str = "forward"
    key: str | None = None
    many: bool = False
    # Where the rule was written, for messages: "mapping.yaml:14:5".
    origin: str = "--mapping"


@dataclass
class Mapping:
    classes: tuple[str, ...] | None = None
    type: str | None = None
    key: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    records: str | None = None
    list_separator: str = ","
    unmapped: str = "keep"
    properties: dict[str, str | None] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    relationships: list[RelationshipRule] = field(default_factory=list)


class _FileReader:
    """Check the values of a mapping file, failing with the position of the key."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, node: Any, key: Any, message: str) -> None:
        line, column = 1, 1
        if isinstance(node, SourceDict):
            line, column = node.key_positions.get(key, node.position)
        raise LoadError(f"{self.path}:{line}:{column}: {message}")

    def check_keys(self, node: dict, allowed: set[str], where: str) -> None:
        for name in node:
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                self.fail(
                    node, name, f"unknown key {name!r} in {where}; known keys: {known}"
                )

    def text(self, node: dict, key: str) -> str | None:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            self.fail(node, key, f"'{key}' must be a non-empty string, found {value!r}")
        return value

    def mapping(self, node: dict, key: str) -> dict:
        value = node.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(node, key, f"'{key}' must be a mapping, found {value!r}")
        return value

    def choice(self, node: dict, key: str, choices: tuple[str, ...], default: str):
        value = node.get(key, default)
        if value not in choices:
            self.fail(
                node,
                key,
                f"'{key}' must be one of {', '.join(choices)}, found {value!r}",
            )
        return value


def load_mapping(path: str) -> Mapping:
    """Read and check a mapping file; any problem is a LoadError at its line."""
    loaded = load_file(path)
    errors = [d for d in loaded.diagnostics if d.is_error]
    if errors:
        raise LoadError(f"{errors[0].location}: {errors[0].message}")
    if len(loaded.documents) != 1 or not isinstance(loaded.documents[0], dict):
        raise LoadError(f"{path}:1:1: a mapping file must hold one YAML mapping")
    document = loaded.documents[0]
    reader = _FileReader(path)
    reader.check_keys(document, TOP_KEYS, "the mapping file")
    mapping = Mapping()
    _read_scalars(reader, document, mapping)
    mapping.properties = _read_properties(reader, document)
    mapping.set = _read_set(reader, document)
    mapping.types = _read_types(reader, document)
    mapping.relationships = _read_relationships(reader, document)
    return mapping


def _read_scalars(reader: _FileReader, document: dict, mapping: Mapping) -> None:
    mapping.classes = _read_classes(reader, document)
    mapping.type = reader.text(document, "type")
    mapping.key = reader.text(document, "key")
    for name in ("delimiter", "encoding", "records"):
        setattr(mapping, name, reader.text(document, name))
    mapping.list_separator = reader.text(document, "list_separator") or ","
    mapping.unmapped = reader.choice(document, "unmapped", UNMAPPED, "keep")


def _read_classes(reader: _FileReader, document: dict) -> tuple[str, ...] | None:
    value = document.get("class")
    if value is None:
        return None
    if isinstance(value, str):
        # "Device,Host" reads as --class does.
        values = [part.strip() for part in value.split(",")]
    else:
        values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(item, str) and item for item in values):
        reader.fail(
            document, "class", f"'class' must be a class or a list, found {value!r}"
        )
    return tuple(dict.fromkeys(values))


def _read_properties(reader: _FileReader, document: dict) -> dict[str, str | None]:
    node = reader.mapping(document, "properties")
    for column, prop in node.items():
        if prop is not None and (not isinstance(prop, str) or not prop):
            reader.fail(
                node,
                column,
                f"property for column {column!r} must be a name, or null to drop "
                f"the column; found {prop!r}",
            )
    return dict(node)


def _read_set(reader: _FileReader, document: dict) -> dict[str, Any]:
    node = reader.mapping(document, "set")
    for prop, value in node.items():
        if isinstance(value, (dict, list)) or value is None:
            reader.fail(
                node,
                prop,
                f"'set' value for {prop!r} must be a string, number or boolean, "
                f"found {value!r}",
            )
    return dict(node)


def _read_types(reader: _FileReader, document: dict) -> dict[str, str]:
    node = reader.mapping(document, "types")
    for prop, kind in node.items():
        if kind not in KINDS:
            reader.fail(
                node,
                prop,
                f"type of {prop!r} must be one of {', '.join(KINDS)}, found {kind!r}",
            )
    return dict(node)


def _read_relationships(reader: _FileReader, document: dict) -> list[RelationshipRule]:
    items = document.get("relationships") or []
    if not isinstance(items, list):
        reader.fail(document, "relationships", "'relationships' must be a list")
    rules = []
    for item in items:
        if not isinstance(item, dict):
            reader.fail(
                document,
                "relationships",
                f"each relationship must be a mapping, found {item!r}",
            )
        reader.check_keys(item, RELATIONSHIP_KEYS, "a relationship")
        column, verb = reader.text(item, "column"), reader.text(item, "verb")
        if column is None or verb is None:
            reader.fail(item, None, "a relationship needs 'column' and 'verb'")
        many = item.get("many", False)
        if not isinstance(many, bool):
            reader.fail(item, "many", f"'many' must be true or false, found {many!r}")
        line, col = item.position
        rules.append(
            RelationshipRule(
                column=column,
                verb=verb,
                direction=reader.choice(item, "direction", DIRECTIONS, "forward"),
                key=reader.text(item, "key"),
                many=many,
                origin=f"{reader.path}:{line}:{col}",
            )
        )
    return rules


def split_assignment(text: str, option: str, from_right: bool) -> tuple[str, str]:
    """Split ``NAME=VALUE`` from ``--map`` (at the last '=') or ``--set`` (the first)."""
    name, sign, value = text.rpartition("=") if from_right else text.partition("=")
    if not sign or not name.strip():
        example = "'Serial Number=serial'" if option == "--map" else "category=endpoint"
        raise UsageError(f"invalid {option} {text!r}; write it as {example}")
    return name.strip(), value.strip()


def apply_options(mapping: Mapping, **options: Any) -> Mapping:
    """Override the mapping with the command-line options that were given.

    ``maps`` and ``sets`` are lists of ``NAME=VALUE`` strings; ``classes`` is a
    comma-separated string. Options that are None leave the mapping's value.
    """
    if options.get("classes"):
        mapping.classes = tuple(
            dict.fromkeys(c.strip() for c in options["classes"].split(",") if c.strip())
        )
    for name in ("type", "key", "delimiter", "encoding", "records", "list_separator"):
        if options.get(name) is not None:
            setattr(mapping, name, options[name])
    for text in options.get("maps") or []:
        column, prop = split_assignment(text, "--map", from_right=True)
        mapping.properties[column] = prop or None
    for text in options.get("sets") or []:
        prop, value = split_assignment(text, "--set", from_right=False)
        mapping.set[prop] = value
    return mapping
