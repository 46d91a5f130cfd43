"""The generated JSON Schemas, read once and served by class name.

A wheel carries the schemas as package data in ``j1gitops/_schemas``; a source
checkout or an editable install reads the repository's top-level ``schemas/``.
``scripts/generate_schemas.py`` writes them, and ``schemas/README.md`` describes how
they derive from the J1 data model.
"""

from __future__ import annotations

import copy
import difflib
import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from j1gitops.errors import J1GitOpsError

INDEX_FILE = "index.json"


@cache
def schema_root() -> Traversable:
    """Return the directory that contains ``index.json`` and ``classes/``."""
    packaged = resources.files("j1gitops") / "_schemas"
    if (packaged / INDEX_FILE).is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "schemas"
    if (checkout / INDEX_FILE).is_file():
        return checkout
    raise J1GitOpsError(
        f"the data-model JSON Schemas were not found in {packaged} or {checkout}; "
        "reinstall j1gitops, or run scripts/generate_schemas.py in a source checkout"
    )


def load_json(relative: str) -> Any:
    node = schema_root()
    for part in relative.split("/"):
        node = node / part
    return json.loads(node.read_text(encoding="utf-8"))


@cache
def index() -> dict[str, Any]:
    return load_json(INDEX_FILE)


def data_model_version() -> str:
    return index()["dataModelVersion"]


@cache
def class_names() -> tuple[str, ...]:
    """Return the entity classes of the data model, sorted."""
    return tuple(index()["classes"])


@cache
def class_set() -> frozenset[str]:
    return frozenset(index()["classes"])


@cache
def verbs() -> tuple[str, ...]:
    """Return the relationship verbs (``_class`` values), sorted."""
    return tuple(index()["verbs"])


def base_schemas() -> tuple[str, ...]:
    return tuple(index()["baseSchemas"])


def class_info(name: str) -> dict[str, Any]:
    """Return a class's ``parent``, ``required``, ``nullableRequired`` and
    ``dateTimeProperties`` from ``index.json``."""
    return index()["classes"][name]


@cache
def class_schema(name: str) -> dict[str, Any]:
    return load_json(f"classes/{name}.json")


@cache
def relationship_schema() -> dict[str, Any]:
    return load_json("relationship.json")


@cache
def date_properties(classes: tuple[str, ...]) -> frozenset[str]:
    """Return the epoch-millisecond date properties of the known classes given."""
    names: set[str] = set()
    for name in classes:
        if name in index()["classes"]:
            names.update(class_info(name)["dateTimeProperties"])
    return frozenset(names)


def closest_name(name: str, choices: tuple[str, ...]) -> str | None:
    """Return the choice that ``name`` most likely meant: an exact match ignoring
    case first, then the closest spelling."""
    folded = {choice.casefold(): choice for choice in choices}
    if name.casefold() in folded:
        return folded[name.casefold()]
    matches = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    matches = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[matches[0]] if matches else None


def _required_lists(definition: dict[str, Any]) -> list[dict[str, Any]]:
    branches = [b for b in definition.get("allOf", []) if "required" in b]
    return [definition, *branches] if "required" in definition else branches


def _omittable(
    definitions: dict[str, dict], classes: tuple[str, ...]
) -> dict[str, set[str]]:
    """Return, per definition, the required keys that may be left out.

    A key may be left out of a shared definition only when every listed class
    that inherits it lets the key be null. Otherwise some class requires the key
    anyway, so keeping it required gives the same result.
    """
    omit: dict[str, set[str]] = {}
    for name in classes:
        nullable = set(class_info(name)["nullableRequired"])
        for inherited in class_schema(name)["definitions"]:
            omit[inherited] = omit.get(inherited, nullable) & nullable
    return {name: omit.get(name, set()) for name in definitions}


@cache
def combined_schema(classes: tuple[str, ...], strict: bool) -> dict[str, Any]:
    """Return one draft-07 schema that an entity of all ``classes`` must satisfy.

    Unless ``strict``, a required key that the data model lets be null may be
    omitted: it is dropped from ``required``. ``classes`` must all be known.
    """
    definitions: dict[str, dict] = {}
    for name in classes:
        definitions.update(class_schema(name)["definitions"])
    if not strict:
        definitions = copy.deepcopy(definitions)
        for name, omit in _omittable(definitions, classes).items():
            for level in _required_lists(definitions[name]):
                level["required"] = [k for k in level["required"] if k not in omit]
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": f"urn:jupiterone:data-model:{data_model_version()}:{'+'.join(classes)}",
        "allOf": [{"$ref": f"#/definitions/{name}"} for name in classes],
        "definitions": definitions,
    }
