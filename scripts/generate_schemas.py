"""Generate j1gitops's JSON Schemas from the JupiterOne data model npm package.

The package ``@jupiterone/data-model`` ships one draft-07 schema per class under
``package/dist/class_schemas`` and the relationship verbs as a TypeScript enum in
``package/dist/RelationshipClass.d.ts``. This script downloads the pinned version
with ``npm pack`` (or reads a tarball given with ``--tarball``), checks its
SHA-256, and writes into ``schemas/``:

- ``classes/<Class>.json``: one self-contained schema per entity class;
- ``relationship.json``: a relationship as J1 stores it;
- ``inventory.schema.json``: an inventory file, for editors;
- ``index.json``: the version, the classes, the verbs and per-class facts.

``schemas/README.md`` describes the derivation rules. With ``--check`` nothing
is written: the script exits 1 when the committed files differ.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

VERSION = "0.64.2"
PACKAGE = f"@jupiterone/data-model@{VERSION}"
SHA256 = "235f317986fab9bb9ee5ddae3f10fd87643e13490c7a03acf56db1e458e180b9"
BASE_SCHEMAS = ("GraphObject", "Entity", "RecordEntity")
VERB_COUNT = 49
DRAFT_07 = "http://json-schema.org/draft-07/schema#"
# The epoch-millisecond value of 9999-12-31T23:59:59.999Z. Device.lastSeenOn and
# Host.lastSeenOn use it as their maximum instead of carrying format: date-time.
MAX_EPOCH_MS = 253402300799999
NOTICE = (
    f"Derived from {PACKAGE} by scripts/generate_schemas.py; do not edit. "
    "This Source Code Form is subject to the terms of the Mozilla Public License, "
    "v. 2.0. If a copy of the MPL was not distributed with this file, You can "
    "obtain one at https://mozilla.org/MPL/2.0/."
)
REPO_ROOT = Path(__file__).resolve().parent.parent
HAND_WRITTEN = {"README.md"}


def schema_id(name: str) -> str:
    return f"urn:jupiterone:data-model:{VERSION}:{name}"


def download(cache_dir: Path) -> Path:
    """Run ``npm pack`` into ``cache_dir`` unless the tarball is already there."""
    tarball = cache_dir / f"jupiterone-data-model-{VERSION}.tgz"
    if tarball.exists() and sha256(tarball) == SHA256:
        return tarball
    cache_dir.mkdir(parents=True, exist_ok=True)
    command = ["npm", "pack", PACKAGE, "--pack-destination", str(cache_dir), "--silent"]
    try:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    except FileNotFoundError:
        raise SystemExit("npm was not found; install npm or pass --tarball") from None
    except subprocess.CalledProcessError as exc:
        message = f"npm pack {PACKAGE} failed with exit status {exc.returncode}"
        raise SystemExit(message) from exc
    return tarball


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_package(tarball: Path) -> tuple[dict[str, dict], list[str]]:
    """Return the class schemas by name and the relationship verbs of the tarball."""
    digest = sha256(tarball)
    if digest != SHA256:
        raise SystemExit(f"{tarball}: SHA-256 is {digest}, expected {SHA256}")
    schemas: dict[str, dict] = {}
    texts: dict[str, str] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            path = member.name
            if not member.isfile():
                continue
            if re.fullmatch(r"package/dist/class_schemas/[A-Za-z]+\.json", path):
                name = path.rsplit("/", 1)[1].removesuffix(".json")
                schemas[name] = json.load(archive.extractfile(member))
            elif path.startswith("package/dist/RelationshipClass."):
                texts[path.rsplit(".", 1)[1]] = (
                    archive.extractfile(member).read().decode()
                )
    return schemas, extract_verbs(texts)


def extract_verbs(texts: dict[str, str]) -> list[str]:
    """Read the enum values from both the ``.d.ts`` and the ``.js`` file."""
    from_ts = re.findall(r'^\s*([A-Z_]+) = "([A-Z_]+)",?$', texts["ts"], re.M)
    from_js = re.findall(r'RelationshipClass\["([A-Z_]+)"\] = "([A-Z_]+)"', texts["js"])
    if sorted(from_ts) != sorted(from_js) or any(a != b for a, b in from_ts):
        raise SystemExit("RelationshipClass.d.ts and .js disagree on the verbs")
    verbs = sorted(value for _, value in from_ts)
    if len(verbs) != VERB_COUNT:
        raise SystemExit(
            f"expected {VERB_COUNT} relationship verbs, found {len(verbs)}"
        )
    return verbs


def check_ids(schemas: dict[str, dict]) -> None:
    for name, schema in schemas.items():
        if schema.get("$id") != f"#{name}" or schema.get("$schema") != DRAFT_07:
            raise SystemExit(f"{name}.json: unexpected $id or $schema")


def parent_of(schema: dict) -> str | None:
    refs = [b["$ref"] for b in schema.get("allOf", []) if "$ref" in b]
    if len(refs) > 1:
        raise SystemExit(f"{schema['$id']}: more than one parent $ref")
    return refs[0].removeprefix("#") if refs else None


def closure(name: str, schemas: dict[str, dict]) -> list[str]:
    """Return ``name`` and its ancestors, most derived first."""
    chain = [name]
    while (parent := parent_of(schemas[chain[-1]])) is not None:
        chain.append(parent)
    return chain


def rewrite_refs(node: Any) -> Any:
    """Turn ``{"$ref": "#Entity"}`` into ``{"$ref": "#/definitions/Entity"}``."""
    if isinstance(node, dict):
        result = {k: rewrite_refs(v) for k, v in node.items()}
        ref = result.get("$ref")
        if isinstance(ref, str) and re.fullmatch(r"#[A-Za-z]+", ref):
            result["$ref"] = f"#/definitions/{ref[1:]}"
        return result
    if isinstance(node, list):
        return [rewrite_refs(v) for v in node]
    return node


def definition(schema: dict) -> dict:
    stripped = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
    return rewrite_refs(stripped)


def levels(schema: dict) -> list[dict]:
    """Return the parts of one definition that carry ``properties``/``required``."""
    return [schema, *[b for b in schema.get("allOf", []) if "$ref" not in b]]


def property_schemas(name: str, schemas: dict[str, dict], prop: str) -> list[dict]:
    return [
        level["properties"][prop]
        for ancestor in closure(name, schemas)
        for level in levels(schemas[ancestor])
        if prop in level.get("properties", {})
    ]


def required_of(name: str, schemas: dict[str, dict]) -> list[str]:
    names = {
        key
        for ancestor in closure(name, schemas)
        for level in levels(schemas[ancestor])
        for key in level.get("required", [])
    }
    return sorted(names)


def nullable_required(name: str, schemas: dict[str, dict]) -> list[str]:
    """Return the required keys that every definition in the chain lets be null."""
    result = []
    for key in required_of(name, schemas):
        found = property_schemas(name, schemas, key)
        if found and all(Draft7Validator(s).is_valid(None) for s in found):
            result.append(key)
    return result


def is_epoch_ms(schema: dict) -> bool:
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    numeric = "number" in types or "integer" in types
    marked = (
        schema.get("format") == "date-time" or schema.get("maximum") == MAX_EPOCH_MS
    )
    branches = schema.get("oneOf", []) + schema.get("anyOf", [])
    return (numeric and marked) or any(is_epoch_ms(b) for b in branches)


def date_properties(name: str, schemas: dict[str, dict]) -> list[str]:
    names = {
        prop
        for ancestor in closure(name, schemas)
        for level in levels(schemas[ancestor])
        for prop, sub in level.get("properties", {}).items()
        if is_epoch_ms(sub)
    }
    return sorted(names)


def class_schema(name: str, schemas: dict[str, dict]) -> dict:
    result = {
        "$schema": DRAFT_07,
        "$id": schema_id(name),
        "$comment": NOTICE,
        "title": name,
        "allOf": [{"$ref": f"#/definitions/{name}"}],
        "definitions": {a: definition(schemas[a]) for a in closure(name, schemas)},
    }
    if "description" in schemas[name]:
        result["description"] = schemas[name]["description"]
    return result


PRIMITIVE = {"type": ["string", "number", "boolean", "null"]}
END_KEY = {"type": "string", "minLength": 1}


def relationship_core(verbs: list[str]) -> dict:
    """Return what every relationship must satisfy beyond GraphObject."""
    ends = ("from", "to")
    fields = ("Key", "Id", "Source", "Scope")
    properties: dict[str, Any] = {
        f"_{end}Entity{field}": END_KEY for end in ends for field in fields
    }
    properties["_class"] = {"type": "string", "enum": verbs}
    return {
        "properties": properties,
        "additionalProperties": PRIMITIVE,
        "allOf": [
            {
                "anyOf": [
                    {"required": [f"_{end}EntityKey"]},
                    {"required": [f"_{end}EntityId"]},
                ]
            }
            for end in ends
        ],
    }


def relationship_schema(schemas: dict[str, dict], verbs: list[str]) -> dict:
    return {
        "$schema": DRAFT_07,
        "$id": schema_id("relationship"),
        "$comment": NOTICE,
        "title": "Relationship",
        "description": "A relationship as J1 stores it: GraphObject with one verb "
        "as _class, both ends, and primitive property values.",
        "allOf": [
            {"$ref": "#/definitions/GraphObject"},
            {"$ref": "#/definitions/Relationship"},
        ],
        "definitions": {
            "GraphObject": definition(schemas["GraphObject"]),
            "Relationship": relationship_core(verbs),
        },
    }


def class_names(schemas: dict[str, dict]) -> list[str]:
    return sorted(name for name in schemas if name not in BASE_SCHEMAS)


def editor_definitions(schemas: dict[str, dict]) -> dict[str, dict]:
    """Return every definition with the keys that may be omitted dropped from
    ``required``.

    Definitions are shared by classes here, so a key leaves a definition's
    ``required`` only when every class that inherits that definition lets it be
    null. Elsewhere the editor requires a key that ``validate`` would let pass.
    """
    classes = class_names(schemas)
    relaxable = {name: set(nullable_required(name, schemas)) for name in classes}
    result = {}
    for name, schema in schemas.items():
        heirs = [c for c in classes if name in closure(c, schemas)]
        omit = set.intersection(*(relaxable[c] for c in heirs)) if heirs else set()
        relaxed = copy.deepcopy(definition(schema))
        for level in levels(relaxed):
            if "required" in level:
                level["required"] = [k for k in level["required"] if k not in omit]
            accept_iso_dates(level.get("properties", {}))
        result[name] = relaxed
    return result


# The ISO 8601 forms that validation converts to epoch milliseconds. Impossible
# days such as 2024-02-30 pass this pattern and are reported by validation.
ISO_DATE = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?"
    r"([Zz]|[+-]\d{2}(:?\d{2})?)?)?$",
    "description": "An ISO 8601 date or date-time; j1gitops converts it to epoch "
    "milliseconds (UTC when no offset is given).",
}


def accept_iso_dates(properties: dict[str, dict]) -> None:
    """Let each epoch-millisecond date property also be an ISO 8601 string."""
    for prop, sub in properties.items():
        if is_epoch_ms(sub):
            properties[prop] = {"anyOf": [sub, ISO_DATE]}


def class_choice(classes: list[str]) -> dict:
    return {
        "anyOf": [
            {"type": "string", "enum": classes},
            {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "enum": classes},
            },
        ]
    }


def dispatch(name: str) -> dict:
    """Apply class ``name``'s schema when ``_class`` is or contains ``name``."""
    names_it = {
        "anyOf": [{"const": name}, {"type": "array", "contains": {"const": name}}]
    }
    return {
        "if": {"required": ["_class"], "properties": {"_class": names_it}},
        "then": {"$ref": f"#/definitions/{name}"},
    }


def inventory_definitions(schemas: dict[str, dict], verbs: list[str]) -> dict:
    classes = class_names(schemas)
    metadata = {
        "description": "j1gitops's own settings for this entity; never uploaded.",
        "type": "object",
        "properties": {"protect": {"type": "boolean"}},
        "additionalProperties": False,
    }
    graph_object = schemas["GraphObject"]
    return {
        "InventoryEntity": {
            "type": "object",
            "required": ["_key", "_type", "_class"],
            "properties": {"_class": class_choice(classes), "_j1gitops": metadata},
            "allOf": [dispatch(name) for name in classes],
        },
        "CliEntity": {
            "type": "object",
            "required": ["entityKey", "entityType", "entityClass"],
            "properties": {
                "entityKey": {"type": "string", "minLength": 1},
                "entityType": {"type": "string", "minLength": 1},
                "entityClass": class_choice(classes),
                "properties": {"type": "object"},
            },
            "additionalProperties": False,
        },
        "InventoryItem": {
            "if": {"required": ["entityKey"], "not": {"required": ["_key"]}},
            "then": {"$ref": "#/definitions/CliEntity"},
            "else": {"$ref": "#/definitions/InventoryEntity"},
        },
        "Relationship": relationship_core(verbs),
        "InventoryRelationship": {
            "type": "object",
            "required": ["_class"],
            "propertyNames": graph_object["propertyNames"],
            "properties": {k: graph_object["properties"][k] for k in ("_key", "_type")},
            "allOf": [{"$ref": "#/definitions/Relationship"}],
        },
    }


def inventory_schema(schemas: dict[str, dict], verbs: list[str]) -> dict:
    entities = {"type": "array", "items": {"$ref": "#/definitions/InventoryItem"}}
    relationships = {
        "type": "array",
        "items": {"$ref": "#/definitions/InventoryRelationship"},
    }
    return {
        "$schema": DRAFT_07,
        "$id": schema_id("inventory"),
        "$comment": NOTICE,
        "title": "j1gitops inventory file",
        "description": "A document with 'entities' and 'relationships' lists, "
        "or a bare list of entities.",
        "anyOf": [
            {
                "type": "object",
                "properties": {"entities": entities, "relationships": relationships},
                "additionalProperties": False,
            },
            entities,
        ],
        "definitions": {
            **editor_definitions(schemas),
            **inventory_definitions(schemas, verbs),
        },
    }


def index(schemas: dict[str, dict], verbs: list[str]) -> dict:
    classes = {
        name: {
            "parent": parent_of(schemas[name]),
            "required": required_of(name, schemas),
            "nullableRequired": nullable_required(name, schemas),
            "dateTimeProperties": date_properties(name, schemas),
        }
        for name in class_names(schemas)
    }
    return {
        "$comment": NOTICE,
        "dataModelVersion": VERSION,
        "package": PACKAGE,
        "sha256": SHA256,
        "license": "MPL-2.0",
        "baseSchemas": list(BASE_SCHEMAS),
        "classes": classes,
        "verbs": verbs,
    }


def render(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def build(schemas: dict[str, dict], verbs: list[str]) -> dict[str, str]:
    """Return the text of every generated file, by path relative to ``schemas/``."""
    check_ids(schemas)
    missing = [name for name in BASE_SCHEMAS if name not in schemas]
    if missing:
        raise SystemExit(f"the package lacks the base schemas {missing}")
    outputs = {
        f"classes/{name}.json": class_schema(name, schemas)
        for name in class_names(schemas)
    }
    outputs["relationship.json"] = relationship_schema(schemas, verbs)
    outputs["inventory.schema.json"] = inventory_schema(schemas, verbs)
    outputs["index.json"] = index(schemas, verbs)
    for path, document in outputs.items():
        if path != "index.json":
            Draft7Validator.check_schema(document)
    return {path: render(document) for path, document in outputs.items()}


def existing_files(output: Path) -> set[str]:
    if not output.exists():
        return set()
    found = {p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file()}
    return found - HAND_WRITTEN


def check(outputs: dict[str, str], output: Path) -> list[str]:
    """Return the paths whose committed text differs, is missing or is extra."""
    differing = [
        path
        for path, text in outputs.items()
        if not (output / path).exists() or (output / path).read_text() != text
    ]
    extra = existing_files(output) - set(outputs)
    return sorted(differing) + sorted(extra)


def write(outputs: dict[str, str], output: Path) -> None:
    for path in existing_files(output) - set(outputs):
        (output / path).unlink()
    for path, text in outputs.items():
        target = output / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tarball", type=Path, help="read this npm tarball, no download"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="where npm pack puts the tarball (default: a temp dir)",
    )
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "schemas")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the files in --output differ"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        tarball = args.tarball or download(args.cache_dir or Path(scratch))
        schemas, verbs = read_package(tarball)
    outputs = build(schemas, verbs)
    if args.check:
        stale = check(outputs, args.output)
        for path in stale:
            print(
                f"{args.output / path}: differs from the generator output",
                file=sys.stderr,
            )
        if stale:
            print("run scripts/generate_schemas.py to regenerate", file=sys.stderr)
        return 1 if stale else 0
    write(outputs, args.output)
    print(f"wrote {len(outputs)} files to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
