"""Reading documents into entities and relationships: the accepted shapes and defaults."""

from __future__ import annotations

import os

import pytest

from j1gitops.inventory.dialects import relationship_key, relationship_type
from j1gitops.inventory.reader import discover_files, read_inventory


def write(root, name, text):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def read(tmp_path, name, text):
    write(tmp_path, name, text)
    return read_inventory([name], root=str(tmp_path))


BULK = """
entities:
  - _key: device:laptop-001
    _type: acme_laptop
    _class: Device
    name: laptop-001
  - _key: person:ada.lovelace
    _type: acme_employee
    _class: [Person]
    name: Ada
relationships:
  - _class: OWNS
    _fromEntityKey: person:ada.lovelace
    _toEntityKey: device:laptop-001
    since: 2020
"""


def test_bulk_document(tmp_path):
    result = read(tmp_path, "a.yaml", BULK)
    assert result.diagnostics == []
    device, person = result.inventory.entities
    assert device.key == "device:laptop-001"
    assert device.classes == ("Device",)
    assert device.properties == {"name": "laptop-001"}
    assert device.location.line == 3
    assert person.classes == ("Person",)
    (owns,) = result.inventory.relationships
    assert owns.key == "person:ada.lovelace|owns|device:laptop-001"
    assert owns.type == "acme_employee_owns_laptop"
    assert owns.properties == {"since": 2020}


def test_bare_list_of_entities(tmp_path):
    result = read(tmp_path, "a.yaml", "- _key: k1\n  _type: t_a\n  _class: Vendor\n")
    assert result.diagnostics == []
    assert [e.key for e in result.inventory.entities] == ["k1"]


def test_j1_cli_shape(tmp_path):
    text = (
        "- entityKey: vendor:acme-corp\n"
        "  entityType: acme_vendor\n"
        "  entityClass: Vendor\n"
        "  properties:\n"
        "    name: Acme\n"
        "    category: software\n"
    )
    result = read(tmp_path, "a.yaml", text)
    assert result.diagnostics == []
    (entity,) = result.inventory.entities
    assert (entity.key, entity.type, entity.classes) == (
        "vendor:acme-corp",
        "acme_vendor",
        ("Vendor",),
    )
    assert entity.properties == {"name": "Acme", "category": "software"}
    assert entity.property_location("category").line == 6


def test_json_bulk_document(tmp_path):
    text = '{"entities": [{"_key": "k1", "_type": "t_a", "_class": "Vendor"}]}'
    result = read(tmp_path, "a.json", text)
    assert result.diagnostics == []
    assert result.inventory.entities[0].key == "k1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- _type: t\n  _class: Vendor\n", "missing required _key"),
        (
            "- _key: 5\n  _type: t\n  _class: Vendor\n",
            "_key must be a non-empty string",
        ),
        ("- _key: k\n  _class: Vendor\n", "missing required _type"),
        ("- _key: k\n  _type: t\n", "missing required _class"),
        ("- _key: k\n  _type: t\n  _class: []\n", "_class must be a class name"),
        ("- _key: k\n  _type: t\n  _class: [1]\n", "_class must be a class name"),
        ("- just a string\n", "an entity must be a mapping"),
        ("entities: {}\n", "'entities' must be a list"),
        ("entity: []\n", "unknown top-level key 'entity'"),
        ("42\n", "a document must be a mapping"),
        (
            "- _key: k\n  _type: t\n  _class: V\n  _j1gitops: yes\n",
            "_j1gitops must be a mapping",
        ),
        (
            "- _key: k\n  _type: t\n  _class: V\n  _j1gitops: {keep: true}\n",
            "invalid _j1gitops",
        ),
    ],
)
def test_malformed_entity(tmp_path, text, message):
    result = read(tmp_path, "bad.yaml", text)
    errors = [d for d in result.diagnostics if d.is_error]
    assert len(errors) == 1, [str(d) for d in result.diagnostics]
    assert message in errors[0].message
    assert errors[0].location.file == "bad.yaml"
    assert result.failed_files == ["bad.yaml"]


@pytest.mark.parametrize(
    ("relationship", "message"),
    [
        ("_fromEntityKey: a\n    _toEntityKey: b", "missing required _class"),
        ("_class: HAS\n    _toEntityKey: b", "missing _fromEntityKey"),
        ("_class: HAS\n    _fromEntityKey: a", "missing _toEntityKey"),
        (
            "_class: HAS\n    _fromEntityKey: a\n    _toEntityKey: b\n    _toEntityId: x",
            "both _toEntityKey and _toEntityId",
        ),
        (
            "_class: HAS\n    _fromEntityKey: a\n    _toEntityKey: b\n    _toEntityScope: s",
            "_toEntitySource and _toEntityScope together",
        ),
        (
            "_class: HAS\n    _fromEntityKey: a\n    _toEntityKey: 7",
            "must be a non-empty",
        ),
        (
            "_class: HAS\n    _fromEntityKey: a\n    _toEntityId: abcdef-123",
            "its _type cannot be derived",
        ),
    ],
)
def test_malformed_relationship(tmp_path, relationship, message):
    text = f"relationships:\n  - {relationship}\n"
    result = read(tmp_path, "bad.yaml", text)
    errors = [d for d in result.diagnostics if d.is_error]
    assert len(errors) == 1, [str(d) for d in result.diagnostics]
    assert message in errors[0].message


def test_external_end_keeps_source_and_scope(tmp_path):
    text = (
        "relationships:\n"
        "  - _class: HAS\n"
        "    _type: acme_team_has_okta_user\n"
        "    _fromEntityKey: team:platform\n"
        "    _toEntityKey: okta-user-00u1\n"
        "    _toEntitySource: integration-managed\n"
        "    _toEntityScope: 3f1c2a9e-okta\n"
    )
    result = read(tmp_path, "a.yaml", text)
    assert result.diagnostics == []
    (relationship,) = result.inventory.relationships
    assert relationship.to_ref.is_external
    assert relationship.to_ref.scope == "3f1c2a9e-okta"
    assert not relationship.from_ref.is_external
    assert relationship.key == "team:platform|has|okta-user-00u1"


def test_tool_metadata_stripped(tmp_path):
    text = "- _key: k1\n  _type: t_a\n  _class: Vendor\n  _j1gitops: {protect: true}\n"
    result = read(tmp_path, "a.yaml", text)
    (entity,) = result.inventory.entities
    assert entity.protected
    assert "_j1gitops" not in entity.properties


@pytest.mark.parametrize(
    ("from_type", "to_type", "expected"),
    [
        ("aws_vpc", "aws_lambda_function", "aws_vpc_has_lambda_function"),
        ("azure_sql_server", "azure_sql_database", "azure_sql_server_has_database"),
        ("aws_instance", "aws_instance", "aws_instance_has_instance"),
        ("employee", "user_endpoint", "employee_has_user_endpoint"),
        ("acme_account", "acme", "acme_account_has_"),
        ("acme", "acme_user", "acme_has_user"),
        ("a_b_c", "a_b_c_d", "a_b_c_has_d"),
    ],
)
def test_relationship_type_matches_sdk(from_type, to_type, expected):
    assert relationship_type("HAS", from_type, to_type) == expected


def test_relationship_key_matches_sdk():
    assert relationship_key("HAS", "a", "b") == "a|has|b"


def test_discover_files_sorted_and_recursive(tmp_path):
    for name in [
        "b.yaml",
        "a/z.yml",
        "a/y.json",
        "c.txt",
        ".hidden.yaml",
        ".git/x.yaml",
    ]:
        write(tmp_path, name, "[]\n")
    files, diagnostics = discover_files(["."], root=str(tmp_path))
    assert files == ["a/y.json", "a/z.yml", "b.yaml"]
    assert [(d.location.file, d.rule) for d in diagnostics] == [
        (".hidden.yaml", "skipped-file")
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [("v2.YAML", "lower-case"), ("v3.Json", "lower-case"), (".v4.yaml", "hidden")],
)
def test_skipped_inventory_like_file_warns(tmp_path, name, reason):
    write(tmp_path, f"inv/{name}", "[]\n")
    files, (diagnostic,) = discover_files(["inv"], root=str(tmp_path))
    assert files == []
    assert diagnostic.severity.value == "warning"
    assert reason in diagnostic.message


def test_symlinked_folder_inside_repository_followed(tmp_path):
    write(tmp_path, "shared/a.yaml", "[]\n")
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv/shared").symlink_to(tmp_path / "shared")
    (tmp_path / "inv/loop").symlink_to(tmp_path / "inv")
    files, diagnostics = discover_files(["inv"], root=str(tmp_path))
    assert files == ["shared/a.yaml"]
    assert diagnostics == []


def test_symlinked_folder_outside_repository_refused(tmp_path):
    write(tmp_path, "outside/a.yaml", "[]\n")
    (tmp_path / "repo/inv").mkdir(parents=True)
    (tmp_path / "repo/inv/ext").symlink_to(tmp_path / "outside")
    files, (diagnostic,) = discover_files(["inv"], root=str(tmp_path / "repo"))
    assert files == []
    assert "symlinked folder points outside the repository" in diagnostic.message


def test_discover_missing_path(tmp_path):
    files, diagnostics = discover_files(["nope"], root=str(tmp_path))
    assert files == []
    assert "does not exist" in diagnostics[0].message


def test_moving_entity_between_files_keeps_identity(tmp_path):
    one = "- _key: k1\n  _type: t_a\n  _class: Vendor\n  name: x\n"
    write(tmp_path, "inv/a.yaml", one)
    first = read_inventory(["inv"], root=str(tmp_path)).inventory.entities[0]
    (tmp_path / "inv/a.yaml").unlink()
    write(tmp_path, "inv/sub/b.yaml", one)
    second = read_inventory(["inv"], root=str(tmp_path)).inventory.entities[0]
    assert (first.key, first.properties) == (second.key, second.properties)
    assert first.location.file != second.location.file


def test_symlink_outside_repository_refused(tmp_path):
    secret = tmp_path / "outside.yaml"
    secret.write_text("token: s3cr3t-value\n")
    repo = tmp_path / "repo"
    (repo / "inv").mkdir(parents=True)
    (repo / "inv/creds.yaml").symlink_to(secret)
    result = read_inventory(["inv"], root=str(repo))
    (diagnostic,) = result.diagnostics
    assert diagnostic.location.file == "inv/creds.yaml"
    assert "symlink points outside the repository" in diagnostic.message
    assert "s3cr3t" not in str(diagnostic)
    assert result.inventory.files == []


def test_symlink_inside_repository_read(tmp_path):
    write(tmp_path, "shared/a.yaml", "- _key: k1\n  _type: t_a\n  _class: Vendor\n")
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv/a.yaml").symlink_to(tmp_path / "shared/a.yaml")
    result = read_inventory(["inv"], root=str(tmp_path))
    assert result.diagnostics == []
    assert [e.key for e in result.inventory.entities] == ["k1"]


def test_fifo_in_inventory_refused(tmp_path):
    (tmp_path / "inv").mkdir()
    os.mkfifo(tmp_path / "inv/pipe.yaml")
    result = read_inventory(["inv"], root=str(tmp_path))
    (diagnostic,) = result.diagnostics
    assert "not a regular file" in diagnostic.message
