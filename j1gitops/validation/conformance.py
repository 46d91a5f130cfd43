"""Data-model conformance: schema findings as diagnostics at the property's line.

Rule id ``schema``. Its severity comes from the validation settings, so a team can
lower it to a warning, for every class or per class.
"""

from __future__ import annotations

from typing import Any

from jsonschema import ValidationError

from j1gitops.diagnostics import Diagnostic, Location, Severity
from j1gitops.inventory.model import Entity, Relationship
from j1gitops.validation import compiled, schemas
from j1gitops.validation.messages import Explanation, explain, format_path

RULE = "schema"
# Property names are checked by the platform rules, which report them as errors.
SKIPPED_KEYWORDS = {"propertyNames"}

Owner = Entity | Relationship


def entity_instance(entity: Entity, known: tuple[str, ...], skip: set[str]) -> dict:
    """Return the entity as J1 stores it; values in ``skip`` become null."""
    instance: dict[str, Any] = {
        "_key": entity.key,
        "_type": entity.type,
        "_class": list(known) if len(known) > 1 else known[0],
    }
    instance.update(entity.properties)
    for name in skip:
        instance[name] = None
    return instance


def relationship_instance(relationship: Relationship, skip: set[str]) -> dict:
    instance: dict[str, Any] = {
        "_key": relationship.key,
        "_type": relationship.type,
        "_class": relationship.verb,
    }
    for end, ref in (("from", relationship.from_ref), ("to", relationship.to_ref)):
        for field in ("key", "id", "source", "scope"):
            value = getattr(ref, field)
            if value is not None:
                instance[f"_{end}Entity{field.capitalize()}"] = value
    instance.update(relationship.properties)
    for name in skip:
        instance[name] = None
    return instance


def schema_findings(
    owner: Owner,
    classes: tuple[str, ...],
    instance: dict,
    options: tuple[bool, Severity, set[str]],
) -> list[Diagnostic]:
    """Validate ``instance`` and explain each error.

    ``options`` is (strict, severity, skip), where ``skip`` names the top-level
    properties whose errors another rule has already reported.
    """
    strict, severity, skip = options
    if compiled.is_valid(classes, strict, instance):
        return []
    owners = compiled.definition_owners(classes, strict)
    # The same error reached through several classes is reported once, naming
    # every class that defines the constraint.
    grouped: dict[Explanation, list[str]] = {}
    for err in compiled.iter_errors(classes, strict, instance):
        if _skipped(err, skip):
            continue
        defined_by = grouped.setdefault(explain(err), [])
        name = owners.get(id(err.schema), "schema")
        if name not in defined_by:
            defined_by.append(name)
    return [
        Diagnostic(
            _location(owner, explanation),
            severity,
            _message(owner, explanation, defined_by, strict),
            RULE,
        )
        for explanation, defined_by in grouped.items()
    ]


def _skipped(err: ValidationError, skip: set[str]) -> bool:
    if SKIPPED_KEYWORDS.intersection(map(str, err.absolute_schema_path)):
        return True
    path = err.absolute_path
    return bool(path) and path[0] in skip


def _location(owner: Owner, explanation: Explanation) -> Location:
    path = explanation.path
    if path and isinstance(path[0], str):
        return owner.property_location(path[0])
    return owner.location


def _message(
    owner: Owner, explanation: Explanation, by: list[str], strict: bool
) -> str:
    path = explanation.path
    fix = explanation.fix
    if explanation.missing:
        subject = f"required property {format_path(path)}"
        if strict and _nullable(path[-1], by):
            fix += " (null is allowed)"
    else:
        subject = f"property {format_path(path)}" if path else "the entity"
    classes = "class" if len(by) == 1 else "classes"
    return (
        f"{owner.label()}: {subject} {explanation.detail} "
        f"(data-model {classes} {', '.join(by)}); {fix}"
    )


def _nullable(name: Any, defined_by: list[str]) -> bool:
    return any(
        name in schemas.class_info(c)["nullableRequired"]
        for c in defined_by
        if c in schemas.index()["classes"]
    )
