"""Validate an inventory: J1 platform rules, dates, then data-model conformance."""

from __future__ import annotations

from j1gitops.diagnostics import Diagnostic, Severity, sort_diagnostics
from j1gitops.inventory.model import Entity, Inventory, Relationship
from j1gitops.validation import compiled, conformance, dates, keys, rules, schemas
from j1gitops.validation.settings import ValidationSettings


def validate_inventory(
    inventory: Inventory, settings: ValidationSettings | None = None
) -> list[Diagnostic]:
    """Return every finding on ``inventory``, sorted by location.

    Dates written as ISO 8601 strings in the data model's epoch-millisecond
    properties are converted in place first (see ``dates.normalize_dates``).
    """
    settings = settings or ValidationSettings()
    found = keys.check_duplicate_keys(inventory, settings.scope)
    for entity in inventory.entities:
        found.extend(validate_entity(entity, settings))
    entity_keys = {entity.key for entity in inventory.entities}
    for relationship in inventory.relationships:
        found.extend(validate_relationship(relationship, entity_keys, settings))
    return sort_diagnostics(found)


def validate_entity(entity: Entity, settings: ValidationSettings) -> list[Diagnostic]:
    found = rules.check_identity(entity)
    if found:
        return found
    found = rules.check_classes(entity)
    property_findings, unstorable = rules.check_properties(entity, "entity")
    found.extend(property_findings)
    found.extend(rules.check_upload_size(entity))

    severity = settings.severity_for(entity.classes)
    failed_dates = dates.normalize_entity_dates(entity)
    found.extend(dates.implausible_dates(entity))
    for name, reason in failed_dates.items():
        message = dates.date_message(entity, name, reason)
        found.append(
            Diagnostic(entity.property_location(name), severity, message, dates.RULE)
        )

    known = tuple(name for name in entity.classes if name in schemas.class_set())
    if known:
        skip = unstorable | failed_dates.keys()
        instance = conformance.entity_instance(entity, known, skip)
        options = (settings.strict, severity, skip)
        found.extend(conformance.schema_findings(entity, known, instance, options))
    return found


def validate_relationship(
    relationship: Relationship, entity_keys: set[str], settings: ValidationSettings
) -> list[Diagnostic]:
    found = rules.check_verb(relationship)
    found.extend(keys.check_ends(relationship, entity_keys))
    property_findings, unstorable = rules.check_properties(relationship, "relationship")
    found.extend(property_findings)
    # Without a _key or _type the reader has reported why it could not derive one.
    if relationship.key is None or relationship.type is None:
        return found
    skip = set(unstorable)
    if relationship.verb not in schemas.verbs():
        skip.add("_class")
    instance = conformance.relationship_instance(relationship, skip)
    severity: Severity = settings.severity_for(())
    options = (settings.strict, severity, skip)
    found.extend(
        conformance.schema_findings(
            relationship, compiled.RELATIONSHIP, instance, options
        )
    )
    return found
