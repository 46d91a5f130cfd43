"""A target's live state as inventory objects, for ``j1gitops export``.

System metadata (``_id``, ``_version``, ``_createdOn``, ...) is stripped by the
planner's own functions, so that what is exported is exactly what a plan
compares, and export followed by plan shows no changes.
"""

from __future__ import annotations

import os

from j1gitops.importers.sdkgraph import file_stems
from j1gitops.inventory.writer import dump_document
from j1gitops.plan.planner import _live_entity, _live_relationship
from j1gitops.targets.base import LiveState

SCOPED_SUFFIXES = ("Key", "Source", "Scope")


def export_entities(live: LiveState) -> list[dict]:
    """Return the live entities without system metadata, sorted by ``_key``."""
    entities = [_live_entity(obj) for obj in live.entities if not obj.get("_deleted")]
    return sorted(entities, key=lambda obj: str(obj["_key"]))


def export_relationships(live: LiveState, scope: str) -> list[dict]:
    """Return the live relationships in the form the inventory reader accepts.

    An end in another scope is named by key, source and scope when the target
    returns its key, and by ``_id`` otherwise, because the reader rejects both.
    """
    found = []
    for obj in live.relationships:
        if obj.get("_deleted"):
            continue
        relationship = _live_relationship(obj, scope)
        for end in ("from", "to"):
            _name_end_once(relationship, end)
        found.append(relationship)
    return sorted(found, key=lambda obj: str(obj["_key"]))


def _name_end_once(relationship: dict, end: str) -> None:
    id_field = f"_{end}EntityId"
    if id_field not in relationship:
        return
    if relationship.get(f"_{end}EntityKey") is not None:
        del relationship[id_field]
        return
    for suffix in SCOPED_SUFFIXES:
        relationship.pop(f"_{end}Entity{suffix}", None)


def group_by_type(objects: list[dict], stems: dict[str, str]) -> dict[str, list[dict]]:
    """Group objects by the file stem of their ``_type`` in ``stems``."""
    groups: dict[str, list[dict]] = {}
    for obj in objects:
        groups.setdefault(stems[str(obj.get("_type"))], []).append(obj)
    return groups


def yaml_layout(entities: list[dict], relationships: list[dict]) -> dict[str, str]:
    """Return the inventory files (name -> text), one per ``_type``.

    An entity type and a relationship type of the same name share a file, and
    ``file_stems`` gives different types different files.
    """
    stems = file_stems(str(obj.get("_type")) for obj in [*entities, *relationships])
    entity_groups = group_by_type(entities, stems)
    relationship_groups = group_by_type(relationships, stems)
    files = {}
    for stem in sorted(set(entity_groups) | set(relationship_groups)):
        text = dump_document(
            entity_groups.get(stem, []), relationship_groups.get(stem, [])
        )
        files[os.path.join(f"{stem}.yaml")] = text
    return files
