"""Runtime access to the generated schemas: names, verbs, dates, relaxed required."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from j1gitops.errors import UsageError
from j1gitops.validation import describe_class, list_classes, schemas
from j1gitops.validation.compiled import EcmaDraft7Validator
from j1gitops.validation.formats import FORMAT_CHECKER

REPO = Path(__file__).resolve().parent.parent


def test_schema_root_falls_back_to_checkout():
    packaged = resources.files("j1gitops") / "_schemas"
    expected = packaged if (packaged / "index.json").is_file() else REPO / "schemas"
    assert str(schemas.schema_root()) == str(expected)


def test_index_lists_classes_and_verbs():
    assert len(schemas.class_names()) == 99
    assert len(schemas.verbs()) == 49
    assert "Host" in schemas.class_names()
    assert "Entity" not in schemas.class_names()
    assert schemas.data_model_version() == "0.64.2"
    assert {"HAS", "LINKS", "SHARED", "VIOLATES"} <= set(schemas.verbs())


@pytest.mark.parametrize("name", ["AccessKey", "Host", "User", "Problem", "Root"])
def test_class_schema_is_valid_draft7(name):
    schema = schemas.class_schema(name)
    Draft7Validator.check_schema(schema)
    assert schema["$id"] == f"urn:jupiterone:data-model:0.64.2:{name}"


def test_every_class_schema_is_self_contained():
    for name in schemas.class_names():
        schema = schemas.class_schema(name)
        assert name in schema["definitions"]
        assert "GraphObject" in schema["definitions"]
        for definition in schema["definitions"].values():
            assert "$id" not in definition
            assert "$schema" not in definition


@pytest.mark.parametrize(
    ("classes", "expected", "absent"),
    [
        (("Host",), {"createdOn", "lastSeenOn", "updatedOn"}, {"name"}),
        (("User",), {"passwordChangedOn", "createdOn"}, {"lastSeenOn"}),
        (("Finding",), {"reportedOn", "approvedOn"}, {"expiresOn"}),
        (("HostAgent",), {"lastSeenOn"}, set()),
        (("Person", "User"), {"backgroundCheckedOn", "passwordChangedOn"}, set()),
        (("NoSuchClass",), set(), {"createdOn"}),
    ],
)
def test_date_properties(classes, expected, absent):
    names = schemas.date_properties(classes)
    assert expected <= names
    assert not absent & names


@pytest.mark.parametrize(
    ("query", "choices", "expected"),
    [
        ("host", "classes", "Host"),
        ("HOST", "classes", "Host"),
        ("Hots", "classes", "Host"),
        ("useer", "classes", "User"),
        ("has", "verbs", "HAS"),
        ("OWN", "verbs", "OWNS"),
        ("zzzzzz", "classes", None),
    ],
)
def test_closest_name(query, choices, expected):
    options = schemas.class_names() if choices == "classes" else schemas.verbs()
    assert schemas.closest_name(query, options) == expected


HOST = {
    "_key": "host-0000000001",
    "_type": "acme_host",
    "_class": "Host",
    "name": "web1",
    "displayName": "web1",
}


def validator(classes, strict):
    return EcmaDraft7Validator(
        schemas.combined_schema(classes, strict), format_checker=FORMAT_CHECKER
    )


def test_default_lets_nullable_required_be_omitted():
    assert validator(("Host",), strict=False).is_valid(HOST)


def test_strict_requires_nullable_keys():
    errors = list(validator(("Host",), strict=True).iter_errors(HOST))
    assert {e.validator for e in errors} == {"required"}
    assert len(errors) == 17


def test_strict_accepts_nullable_keys_as_null():
    nulls = dict.fromkeys(schemas.class_info("Host")["nullableRequired"])
    assert validator(("Host",), strict=True).is_valid({**HOST, **nulls})


def test_non_nullable_required_stays_required():
    without_name = {k: v for k, v in HOST.items() if k != "name"}
    errors = list(validator(("Host",), strict=False).iter_errors(without_name))
    assert [e.message for e in errors] == ["'name' is a required property"]


def test_relaxing_does_not_change_cached_class_schema():
    schemas.combined_schema(("Host",), False)
    assert (
        "lastSeenOn"
        in schemas.class_schema("Host")["definitions"]["Host"]["allOf"][1]["required"]
    )


def test_multi_class_keeps_key_required_by_either_class():
    # Person requires a non-null email; User lets email be null.
    entity = {**HOST, "_class": ["Person", "User"], "firstName": "A", "lastName": "B"}
    errors = list(validator(("Person", "User"), strict=False).iter_errors(entity))
    assert [e.message for e in errors] == ["'email' is a required property"]


def test_list_classes():
    rows = {row.name: row for row in list_classes()}
    assert len(rows) == 99
    assert rows["AccessKey"].parent == "Key"
    assert rows["Host"].required == 22
    assert rows["Internet"].parent == "GraphObject"


def test_describe_class_rows():
    rows = {row.property: row for row in describe_class("Host")}
    assert rows["_key"].required
    assert rows["lastSeenOn"].required and rows["lastSeenOn"].nullable
    assert not rows["public"].nullable  # Entity.public forbids null
    assert "Entity: boolean" in rows["public"].type
    assert rows["ipv4Addresses"].format == "ipv4"
    assert rows["webLink"].format == "uri"
    assert rows["tag.*"].type == "string | number | boolean"
    assert rows["name"].description


def test_describe_unknown_class_hints():
    with pytest.raises(UsageError, match="did you mean 'Host'"):
        describe_class("host")


def inventory_validator():
    document = schemas.load_json("inventory.schema.json")
    Draft7Validator.check_schema(document)
    return EcmaDraft7Validator(document, format_checker=FORMAT_CHECKER)


APP = {"_key": "app-0000000001", "_type": "acme_app", "_class": "Application"}
APP_NAMES = {"name": "App", "displayName": "App"}
RELATIONSHIP = {
    "_class": "HAS",
    "_fromEntityKey": "app-0000000001",
    "_toEntityKey": "host-0000000001",
}

INVENTORY_CASES = [
    ("bulk document", {"entities": [{**APP, **APP_NAMES}], "relationships": []}, True),
    ("bare list", [{**APP, **APP_NAMES}], True),
    ("multi-class", [{**HOST, "_class": ["Host", "Device"]}], True),
    ("tool metadata", [{**APP, **APP_NAMES, "_j1gitops": {"protect": True}}], True),
    ("bad tool metadata", [{**APP, **APP_NAMES, "_j1gitops": {"keep": 1}}], False),
    ("class schema applies", [{**APP, **APP_NAMES, "webLink": "not a uri"}], False),
    ("multi-class applies each", [{**HOST, "_class": ["Host", "Account"]}], False),
    ("unknown class", [{**APP, **APP_NAMES, "_class": "Nope"}], False),
    ("ISO date", [{**APP, **APP_NAMES, "createdOn": "2024-01-31T12:00:00Z"}], True),
    ("epoch date", [{**APP, **APP_NAMES, "createdOn": 1706659200000}], True),
    ("non-date string", [{**APP, **APP_NAMES, "createdOn": "yesterday"}], False),
    ("Host ISO lastSeenOn", [{**HOST, "lastSeenOn": "2024-01-31"}], True),
    ("missing name", [APP], False),
    (
        "j1 CLI shape",
        [
            {
                "entityKey": "k",
                "entityType": "t",
                "entityClass": "Host",
                "properties": {},
            }
        ],
        True,
    ),
    ("relationship", {"relationships": [RELATIONSHIP]}, True),
    (
        "relationship verb",
        {"relationships": [{**RELATIONSHIP, "_class": "has"}]},
        False,
    ),
    ("relationship array", {"relationships": [{**RELATIONSHIP, "ports": [80]}]}, False),
    (
        "relationship end",
        {"relationships": [{"_class": "HAS", "_toEntityKey": "x"}]},
        False,
    ),
    ("unknown top-level key", {"entities": [], "extra": 1}, False),
]


@pytest.mark.parametrize(
    ("document", "valid"),
    [case[1:] for case in INVENTORY_CASES],
    ids=[case[0] for case in INVENTORY_CASES],
)
def test_inventory_schema(document, valid):
    assert inventory_validator().is_valid(document) is valid


@pytest.mark.parametrize(
    ("changes", "valid"),
    [
        ({}, True),
        ({"_class": "USES", "port": 80, "open": True, "note": None}, True),
        ({"_class": "has"}, False),
        ({"ports": [80]}, False),
        ({"_key": "a|has|b"}, False),
        ({"_fromEntityKey": None}, False),
    ],
)
def test_relationship_schema(changes, valid):
    document = schemas.relationship_schema()
    Draft7Validator.check_schema(document)
    instance = {
        **RELATIONSHIP,
        "_key": "app-0000000001|has|host-0000000001",
        "_type": "acme_app_has_host",
        **changes,
    }
    assert EcmaDraft7Validator(document).is_valid(instance) is valid
