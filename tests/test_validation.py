"""validate_inventory and normalize_dates against the real generated schemas."""

from __future__ import annotations

import math
import random
from datetime import date, datetime

import pytest

from j1gitops.diagnostics import Location, Severity
from j1gitops.inventory.model import Entity, EntityRef, Inventory, Relationship
from j1gitops.inventory.reader import read_inventory
from j1gitops.validation import (
    ValidationSettings,
    compiled,
    normalize_dates,
    schemas,
    validate_inventory,
)

FILE = "inv.yaml"


def make_entity(
    properties: dict | None = None,
    classes: tuple[str, ...] = ("Application",),
    key: str = "app-0000000001",
    type_: str = "acme_app",
    line: int = 1,
) -> Entity:
    base = {"name": "App", "displayName": "App"}
    merged = {**base, **(properties or {})}
    positions = {"_key": (line, 3), "_type": (line + 1, 3), "_class": (line + 2, 3)}
    for offset, name in enumerate(merged):
        positions[name] = (line + 3 + offset, 3)
    return Entity(key, type_, classes, merged, Location(FILE, line), positions)


def make_relationship(
    verb: str = "HAS",
    from_ref: EntityRef | None = None,
    to_ref: EntityRef | None = None,
    properties: dict | None = None,
    key: str | None = "app-0000000001|has|app-0000000002",
    line: int = 100,
) -> Relationship:
    properties = properties or {}
    positions = {"_class": (line, 3), "_fromEntityKey": (line + 1, 3)}
    positions["_toEntityKey"] = (line + 2, 3)
    for offset, name in enumerate(properties):
        positions[name] = (line + 3 + offset, 3)
    return Relationship(
        key=key,
        type="acme_app_has_app",
        verb=verb,
        from_ref=from_ref or EntityRef(key="app-0000000001"),
        to_ref=to_ref or EntityRef(key="app-0000000002"),
        properties=properties,
        location=Location(FILE, line),
        property_positions=positions,
    )


def validate(*entities: Entity, relationships=(), **settings) -> list:
    inventory = Inventory(list(entities), list(relationships))
    return validate_inventory(inventory, ValidationSettings(**settings))


def rules_of(diagnostics) -> set[str]:
    return {d.rule for d in diagnostics}


def test_valid_application_has_no_findings():
    assert validate(make_entity({"customThing": 3, "tag.Env": "prod"})) == []


# --- J1 platform rules ----------------------------------------------------------

PLATFORM_CASES = [
    ("reserved name", {"_secret": "x"}, "reserved-property"),
    ("underscore in name", {"my_prop": 1}, "invalid-property-name"),
    ("colon in tag name", {"tag.aws:stack": "x"}, "invalid-property-name"),
    ("slash in name", {"a/b": "x"}, "invalid-property-name"),
    ("newline in name", {"myProp\n": 1}, "invalid-property-name"),
    ("non-ASCII name", {"größe": 1}, "invalid-property-name"),
    ("tag name", {"tag.Env": "prod"}, None),
    ("dots, spaces and dashes", {"my prop.sub-x": 1}, None),
    ("object value", {"config": {"a": 1}}, "nested-value"),
    ("array of objects", {"items": [{"a": 1}]}, "nested-value"),
    ("array of arrays", {"items": [["a"]]}, "invalid-array"),
    ("string and number", {"items": [1, "a"]}, "invalid-array"),
    ("number and boolean", {"items": [1, True]}, "invalid-array"),
    ("null item", {"items": ["a", None]}, "invalid-array"),
    ("integers and floats", {"items": [1, 2.5]}, None),
    ("empty array", {"items": []}, None),
    ("array of strings", {"items": ["a", "b"]}, None),
    ("NaN", {"score": math.nan}, "non-finite-number"),
    ("infinity", {"score": math.inf}, "non-finite-number"),
    ("infinity in array", {"scores": [1.0, -math.inf]}, "non-finite-number"),
    ("finite float", {"score": 1.5}, None),
    ("datetime outside dates", {"seenAt": datetime(2024, 1, 1)}, "unsupported-value"),
    ("4097 characters", {"text": "x" * 4097}, "value-too-long"),
    ("4096 characters", {"text": "x" * 4096}, None),
    ("long array item", {"notes": ["x" * 5000]}, "value-too-long"),
]


@pytest.mark.parametrize(
    ("properties", "rule"),
    [case[1:] for case in PLATFORM_CASES],
    ids=[case[0] for case in PLATFORM_CASES],
)
def test_platform_property_rule(properties, rule):
    entity = make_entity(properties)
    found = validate(entity, data_model_level="warning")
    assert rules_of(found) == ({rule} if rule else set())
    for diagnostic in found:
        name = next(iter(properties))
        assert diagnostic.location == entity.property_location(name)
        expected = Severity.WARNING if rule == "value-too-long" else Severity.ERROR
        assert diagnostic.severity is expected
        assert "acme_app 'app-0000000001'" in diagnostic.message


def test_invalid_name_suggests_replacement():
    [found] = validate(make_entity({"my_prop": 1}))
    assert "'my-prop'" in found.message


def test_object_value_is_reported_once():
    # ipv4Addresses has a schema type, but only the platform rule reports it.
    entity = make_entity({"ipv4Addresses": {"a": "1.2.3.4"}}, classes=("Host",))
    assert rules_of(validate(entity)) == {"nested-value"}


@pytest.mark.parametrize(
    ("classes", "rule", "text"),
    [
        (("host",), "unknown-class", "did you mean 'Host'?"),
        (("Hots",), "unknown-class", "did you mean 'Host'?"),
        (("Entity",), "unknown-class", "base schema"),
        (("Zzzzqqq",), "unknown-class", "check the spelling"),
        (("Host", "Device"), None, None),
    ],
)
def test_unknown_class(classes, rule, text):
    found = validate(make_entity(classes=classes))
    assert rules_of(found) == ({rule} if rule else set())
    if text:
        assert text in found[0].message
        assert found[0].location == Location(FILE, 3, 3)


def test_unknown_class_still_checks_known_classes():
    found = validate(
        make_entity({"webLink": "not a uri"}, classes=("Applcation", "Host"))
    )
    assert rules_of(found) == {"unknown-class", "schema"}


@pytest.mark.parametrize(("key", "type_"), [("", "acme_app"), ("app-0000000001", None)])
def test_identity_must_be_strings(key, type_):
    found = validate(make_entity(key=key, type_=type_))
    assert rules_of(found) == {"required-field"}


def test_duplicate_entity_key_names_both_locations():
    first = make_entity(line=1)
    second = make_entity(line=20)
    [found] = validate(first, second)
    assert found.rule == "duplicate-entity-key"
    assert found.location == Location(FILE, 20)
    assert f"{FILE}:1:1" in found.message
    assert f"{FILE}:20:1" in found.message
    assert found.severity is Severity.ERROR


def test_duplicate_relationship_key():
    apps = [make_entity(key="app-0000000001"), make_entity(key="app-0000000002")]
    relationships = [make_relationship(line=10), make_relationship(line=30)]
    found = validate(*apps, relationships=relationships)
    assert rules_of(found) == {"duplicate-relationship-key"}
    assert found[0].location == Location(FILE, 30)


APPS = (make_entity(key="app-0000000001"), make_entity(key="app-0000000002"))

RELATIONSHIP_CASES = [
    ("valid", {}, None),
    ("lowercase verb", {"verb": "has"}, "unknown-verb"),
    ("unknown verb", {"verb": "IMPACTS"}, "unknown-verb"),
    (
        "missing end",
        {"to_ref": EntityRef(key="nope-0000000001")},
        "dangling-relationship",
    ),
    ("external by id", {"to_ref": EntityRef(id="0f9a")}, None),
    (
        "external by scope",
        {"to_ref": EntityRef(key="k-00000001", source="api", scope="other")},
        None,
    ),
    ("array property", {"properties": {"ports": [80, 443]}}, "relationship-array"),
    ("object property", {"properties": {"rule": {"a": 1}}}, "nested-value"),
    ("reserved property", {"properties": {"_mapping": "x"}}, "reserved-property"),
    ("primitive properties", {"properties": {"port": 80, "open": True}}, None),
    ("short key", {"key": "a|has|b"}, "schema"),
]


@pytest.mark.parametrize(
    ("arguments", "rule"),
    [case[1:] for case in RELATIONSHIP_CASES],
    ids=[case[0] for case in RELATIONSHIP_CASES],
)
def test_relationship_rule(arguments, rule):
    found = validate(*APPS, relationships=[make_relationship(**arguments)])
    assert rules_of(found) == ({rule} if rule else set())


def test_unknown_verb_hints():
    [found] = validate(*APPS, relationships=[make_relationship(verb="has")])
    assert "did you mean 'HAS'?" in found.message
    assert found.location == Location(FILE, 100, 3)


def test_dangling_end_sits_at_its_key():
    relationship = make_relationship(to_ref=EntityRef(key="nope-0000000001"))
    [found] = validate(*APPS, relationships=[relationship])
    assert found.location == Location(FILE, 102, 3)
    assert "'nope-0000000001'" in found.message


def test_relationship_schema_level_follows_settings():
    relationship = make_relationship(key="a|has|b")
    [found] = validate(*APPS, relationships=[relationship], data_model_level="warning")
    assert found.severity is Severity.WARNING
    assert "_key" in found.message


# --- Data-model conformance -----------------------------------------------------

HOST_IDENTITY = {"name": "web1", "displayName": "web1"}

SCHEMA_CASES = [
    ("Application", {"displayName": None}, "displayName", "null"),
    ("Account", {}, "vendor", "required property vendor is missing"),
    ("Application", {"webLink": "not a uri"}, "webLink", "'not a uri'"),
    ("Application", {"webLink": "https://example.com/"}, None, None),
    ("Application", {"criticality": 11}, "criticality", "greater than the maximum 10"),
    ("Application", {"criticality": "high"}, "criticality", "type string"),
    ("Application", {"criticality": 3}, None, None),
    ("Host", {"hostname": "web1.example.com"}, "hostname", "pattern"),
    ("Host", {"hostname": "web1"}, None, None),
    ("Host", {"macAddresses": ["00:1A:2B:3C:4D:5E"]}, "macAddresses", "pattern"),
    ("Host", {"macAddresses": ["00:1a:2b:3c:4d:5e"]}, None, None),
    ("Host", {"osType": "Linux"}, "osType", "is not one of"),
    ("Host", {"ipv4Addresses": ["10.0.0.256"]}, "ipv4Addresses", "IPv4 address"),
    ("Host", {"ipv4Addresses": ["10.0.0.1", "10.0.0.1"]}, "ipv4Addresses", "duplicate"),
    ("Host", {"public": None}, "public", "null"),
    ("Finding", {"category": ["a"], "open": True}, "category", "type array"),
    ("Vulnerability", {"cveId": "CVE-2024-1234\n", "open": True}, "cveId", "pattern"),
    ("Vulnerability", {"cveId": "CVE-2024-١٢٣٤", "open": True}, "cveId", "pattern"),
    ("Vulnerability", {"cveId": "CVE-2024-1234", "open": True}, None, None),
    ("Application", {"tag.Env": ["prod"]}, "tag.Env", "type array"),
    ("Internet", {"displayName": "Web"}, "displayName", "must be 'Internet'"),
    ("User", {"username": "alice"}, "username", "type string"),
    ("User", {"username": ["alice"]}, None, None),
    (
        "Person",
        {"firstName": "A", "lastName": "B", "email": ["a@example"]},
        "email",
        "email",
    ),
]


@pytest.mark.parametrize(("class_name", "properties", "prop", "text"), SCHEMA_CASES)
def test_schema_rule(class_name, properties, prop, text):
    entity = make_entity({**HOST_IDENTITY, **properties}, classes=(class_name,))
    found = validate(entity)
    if prop is None:
        assert found == []
        return
    assert rules_of(found) == {"schema"}
    assert any(text in d.message for d in found), [d.message for d in found]
    if prop in entity.properties:
        assert found[0].location == entity.property_location(prop)
    assert all(d.severity is Severity.ERROR for d in found)


@pytest.mark.parametrize(
    ("key", "type_", "where"),
    [("app-1", "acme_app", "_key"), ("app-000001", "ab", "_type")],
)
def test_key_and_type_minimum_length(key, type_, where):
    entity = make_entity(key=key, type_=type_)
    [found] = validate(entity)
    assert found.rule == "schema"
    assert found.location == entity.property_location(where)
    assert "fewer than the minimum" in found.message


def test_message_names_entity_value_and_fix():
    [found] = validate(make_entity({"webLink": "not a uri"}))
    assert found.message == (
        "acme_app 'app-0000000001': property webLink 'not a uri' is not a valid "
        "absolute URI (data-model class Entity); use a value such as "
        "https://example.com/"
    )


def test_multi_class_error_names_both_classes_once():
    entity = make_entity({"osType": "Linux"}, classes=("Host", "Device"))
    [found] = validate(entity)
    assert "data-model classes Host, Device" in found.message


def test_default_lets_nullable_required_be_omitted():
    assert validate(make_entity(classes=("Host",))) == []


def test_strict_requires_nullable_keys():
    found = validate(make_entity(classes=("Host",)), strict=True)
    assert len(found) == 17
    assert all("(null is allowed)" in d.message for d in found)
    assert all(d.location == Location(FILE, 1) for d in found)


def test_strict_accepts_explicit_nulls():
    nulls = dict.fromkeys(schemas.class_info("Host")["nullableRequired"])
    assert validate(make_entity(nulls, classes=("Host",)), strict=True) == []


def test_non_nullable_required_missing_in_default_mode():
    entity = make_entity(classes=("Host",))
    del entity.properties["name"]
    [found] = validate(entity)
    assert "required property name is missing" in found.message


LEVEL_CASES = [
    ({}, ("Host",), Severity.ERROR),
    ({"data_model_level": "warning"}, ("Host",), Severity.WARNING),
    ({"class_levels": {"Host": "warning"}}, ("Host",), Severity.WARNING),
    ({"class_levels": {"Host": "warning"}}, ("Application",), Severity.ERROR),
    ({"class_levels": {"Host": "warning"}}, ("Host", "Device"), Severity.ERROR),
    (
        {"data_model_level": "warning", "class_levels": {"Device": "error"}},
        ("Host",),
        Severity.WARNING,
    ),
    (
        {"data_model_level": "warning", "class_levels": {"Device": "error"}},
        ("Device",),
        Severity.ERROR,
    ),
]


@pytest.mark.parametrize(("settings", "classes", "severity"), LEVEL_CASES)
def test_data_model_level(settings, classes, severity):
    entity = make_entity({"webLink": "not a uri", "_secret": 1}, classes=classes)
    found = {d.rule: d for d in validate(entity, **settings)}
    assert found["schema"].severity is severity
    assert found["reserved-property"].severity is Severity.ERROR


def test_invalid_level_is_rejected():
    with pytest.raises(ValueError, match="class_levels"):
        ValidationSettings(class_levels={"Host": "info"})


# --- Dates -----------------------------------------------------------------------

JAN_31 = 1706659200000  # 2024-01-31T00:00:00Z

DATE_CASES = [
    ("2024-01-31", JAN_31),
    ("2024-01-31T12:00:00Z", JAN_31 + 12 * 3600_000),
    ("2024-01-31T12:00:00z", JAN_31 + 12 * 3600_000),
    ("2024-01-31T12:00:00+02:00", JAN_31 + 10 * 3600_000),
    ("2024-01-31T12:00:00-05:30", JAN_31 + 17 * 3600_000 + 30 * 60_000),
    ("2024-01-31T12:00:00.123Z", JAN_31 + 12 * 3600_000 + 123),
    ("2024-01-31T12:00:00.1239Z", JAN_31 + 12 * 3600_000 + 123),
    ("2024-01-31T12:00", JAN_31 + 12 * 3600_000),
    ("2024-01-31 12:00:00Z", JAN_31 + 12 * 3600_000),
    ("2024-02-29", JAN_31 + 29 * 86400_000),
    ("1969-12-31", -86400_000),
    (JAN_31, JAN_31),
    (1.5, 1.5),
    (None, None),
    (date(2024, 1, 31), JAN_31),
    (datetime(2024, 1, 31, 12), JAN_31 + 12 * 3600_000),
]


@pytest.mark.parametrize(("value", "expected"), DATE_CASES)
def test_date_is_converted_in_place(value, expected):
    entity = make_entity({"createdOn": value})
    assert normalize_dates(Inventory([entity])) == []
    assert entity.properties["createdOn"] == expected
    assert type(entity.properties["createdOn"]) is type(expected)


BAD_DATES = [
    "0000-00-00",
    "2024-02-30",
    "2023-02-29",
    "2024-13-01",
    "2024-01-31T24:00:00Z",
    "2024-01-31T12:00:00+25:00",
    "31/01/2024",
    "yesterday",
    "1706659200000",
    "2024-01-31\n",
]


@pytest.mark.parametrize("value", BAD_DATES)
def test_impossible_date_is_reported_at_its_line(value):
    entity = make_entity({"createdOn": value})
    [found] = normalize_dates(Inventory([entity]))
    assert found.rule == "invalid-date"
    assert found.location == entity.property_location("createdOn")
    assert repr(value) in found.message
    assert entity.properties["createdOn"] == value


@pytest.mark.parametrize("value", BAD_DATES[:3])
def test_impossible_date_is_reported_once_by_validate(value):
    entity = make_entity({"createdOn": value})
    [found] = validate(entity)
    assert found.rule == "invalid-date"
    assert found.severity is Severity.ERROR


def test_invalid_date_follows_level():
    entity = make_entity({"createdOn": "2024-02-30"})
    [found] = validate(entity, data_model_level="warning")
    assert found.severity is Severity.WARNING


def test_normalize_dates_is_idempotent():
    entity = make_entity({"createdOn": "2024-01-31", "updatedOn": "2024-02-30"})
    inventory = Inventory([entity])
    first = normalize_dates(inventory)
    snapshot = dict(entity.properties)
    assert normalize_dates(inventory) == first
    assert entity.properties == snapshot


@pytest.mark.parametrize(
    ("classes", "name"),
    [
        (("Host",), "lastSeenOn"),
        (("HostAgent",), "lastSeenOn"),
        (("User",), "passwordChangedOn"),
        (("Finding",), "reportedOn"),
    ],
)
def test_class_specific_dates_are_converted(classes, name):
    entity = make_entity({name: "2024-01-31"}, classes=classes)
    normalize_dates(Inventory([entity]))
    assert entity.properties[name] == JAN_31


def test_other_properties_keep_date_strings():
    entity = make_entity({"version": "2024-01-31", "lastSeenOn": "2024-01-31"})
    normalize_dates(Inventory([entity]))
    assert entity.properties["version"] == "2024-01-31"
    assert entity.properties["lastSeenOn"] == "2024-01-31"  # not an Application date


def test_dates_of_unknown_class_are_left_alone():
    entity = make_entity({"createdOn": "2024-01-31"}, classes=("Nope",))
    normalize_dates(Inventory([entity]))
    assert entity.properties["createdOn"] == "2024-01-31"


# --- Read from YAML --------------------------------------------------------------

YAML = """\
entities:
  - _key: host-0000000001
    _type: acme_host
    _class: Host
    name: web1
    displayName: web1
    createdOn: 2024-01-31
    updatedOn: 2024-02-30
    hostname: web1.example.com
"""


def test_yaml_locations_point_at_property_lines(tmp_path):
    (tmp_path / "hosts.yaml").write_text(YAML)
    result = read_inventory(["hosts.yaml"], root=str(tmp_path))
    assert result.diagnostics == []
    found = validate_inventory(result.inventory, ValidationSettings())
    assert [(d.location.line, d.rule) for d in found] == [
        (8, "invalid-date"),
        (9, "schema"),
    ]
    assert result.inventory.entities[0].properties["createdOn"] == JAN_31


# --- Fast and slow paths agree ---------------------------------------------------

VALUE_POOL = [
    None,
    "x",
    "",
    "web1",
    "web1.example.com",
    "10.0.0.1",
    "10.0.0.0/8",
    "2001:db8::1",
    "AS13335",
    "alice@example.com",
    "https://example.com/",
    "not a uri",
    "CVE-2024-1234\n",
    "linux",
    "00:1a:2b:3c:4d:5e",
    0,
    11,
    -1,
    1.0,
    2.5,
    True,
    ["a"],
    ["a", "a"],
    ["10.0.0.1"],
    ["a.example.com"],
    ["a.example.com\n"],
    [1],
    [],
    1706659200000,
    2**63,
]


def sample_instances(count: int) -> list[tuple[tuple[str, ...], bool, dict]]:
    chooser = random.Random(20240131)
    names = schemas.class_names()
    samples = []
    for _ in range(count):
        classes = tuple(sorted(set(chooser.sample(names, chooser.choice([1, 1, 2])))))
        rows = [p for c in classes for p in schemas.class_info(c)["required"]]
        props = {
            p: chooser.choice(VALUE_POOL) for p in chooser.sample(rows, len(rows) // 2)
        }
        instance = {"_key": "key-0000000001", "_type": "acme_thing", "name": "n"}
        instance.update(props)
        instance["_class"] = list(classes) if len(classes) > 1 else classes[0]
        samples.append((classes, chooser.random() < 0.5, instance))
    return samples


def test_fast_and_slow_validators_agree():
    disagreements = []
    for classes, strict, instance in sample_instances(600):
        fast = compiled.fast_validator(classes, strict).is_valid(instance)
        slow = not list(compiled.slow_validator(classes, strict).iter_errors(instance))
        if fast != slow:
            disagreements.append((classes, strict, instance, fast))
    assert disagreements == []


def test_agreement_sample_has_valid_and_invalid():
    results = {
        compiled.is_valid(classes, strict, instance)
        for classes, strict, instance in sample_instances(200)
    }
    assert results == {True, False}


def error_summary(errors) -> set[tuple]:
    return {(tuple(map(str, e.absolute_path)), e.validator, e.message) for e in errors}


def test_cached_errors_match_full_python_run():
    for classes, strict, instance in sample_instances(300):
        full = compiled.slow_validator(classes, strict).iter_errors(instance)
        cached = compiled.iter_errors(classes, strict, instance)
        assert error_summary(cached) == error_summary(full), (classes, instance)
