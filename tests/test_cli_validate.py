"""``validate`` and ``schemas`` through the real CLI."""

from __future__ import annotations

import json


def test_example_inventory_is_valid(cli, example_repo):
    result = cli("validate", cwd=example_repo)
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""
    assert "0 error(s), 0 warning(s)" in result.stderr


def test_errors_sorted_with_file_line_and_rule(cli, tmp_path):
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory/b.yaml").write_text(
        "- _key: vendor:acme-corp\n  _type: acme_vendor\n  _class: vendor\n"
    )
    (tmp_path / "inventory/a.yaml").write_text(
        "- _key: app:short\n  _type: acme_app\n  _class: Application\n"
        "  name: x\n  displayName: x\n  my_prop: 1\n"
    )
    result = cli("validate", cwd=tmp_path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("inventory/a.yaml:1:3: error:")
    assert "[schema]" in lines[0]
    assert lines[1].startswith("inventory/a.yaml:6:3: error:")
    assert "'my_prop'" in lines[1]
    assert lines[2].startswith("inventory/b.yaml:3:3: error:")
    assert "did you mean 'Vendor'?" in lines[2]


def test_json_format(cli, tmp_path):
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory/a.yaml").write_text("- _key: k\n  _type: t\n")
    result = cli("validate", "--format", "json", cwd=tmp_path)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["errors"] == 1
    (finding,) = document["diagnostics"]
    assert (finding["file"], finding["line"], finding["rule"]) == (
        "inventory/a.yaml", 1, "required-field"
    )


def test_data_model_level_lowered_by_config(cli, tmp_path):
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory/a.yaml").write_text(
        "- _key: app:short\n  _type: acme_app\n  _class: Application\n"
    )
    (tmp_path / "j1gitops.yaml").write_text("validation: {classes: {Application: warning}}\n")
    result = cli("validate", cwd=tmp_path)
    assert result.exit_code == 0
    assert ": warning: " in result.stdout
    assert ": error: " not in result.stdout


def test_strict_requires_nullable_properties(cli, example_repo):
    assert cli("validate", cwd=example_repo).exit_code == 0
    strict = cli("validate", "--strict", cwd=example_repo)
    assert strict.exit_code == 1
    assert "inventory/devices.yaml" in strict.stdout


def test_impossible_date_is_located(cli, tmp_path):
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory/a.yaml").write_text(
        "- _key: app:calendar-app\n  _type: acme_app\n  _class: Application\n"
        "  name: x\n  displayName: x\n  createdOn: 2024-02-30\n"
    )
    result = cli("validate", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stdout.startswith("inventory/a.yaml:6:3: error:")
    assert "2024-02-30" in result.stdout
    assert "Traceback" not in result.stderr


def test_schemas_lists_and_describes(cli, tmp_path):
    listing = cli("schemas", "--format", "json", cwd=tmp_path)
    assert listing.exit_code == 0
    names = [row["name"] for row in json.loads(listing.stdout)]
    assert len(names) == 99
    assert "Device" in names
    described = cli("schemas", "Account", "--format", "json", cwd=tmp_path)
    rows = {row["property"]: row for row in json.loads(described.stdout)}
    assert rows["vendor"]["required"] is True


def test_schemas_unknown_class_hint(cli, tmp_path):
    result = cli("schemas", "host", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: unknown data-model class 'host'; did you mean 'Host'?"


def test_example_inventory_is_a_realistic_company(example_repo):
    from j1gitops.config import load_config
    from j1gitops.pipeline import check_inventory

    checked = check_inventory(load_config(root=str(example_repo)))
    inventory = checked.inventory
    classes = {cls for entity in inventory.entities for cls in entity.classes}
    verbs = {relationship.verb for relationship in inventory.relationships}
    assert checked.ok
    assert len(inventory.entities) >= 40
    assert len(classes) >= 8
    assert len(inventory.relationships) >= 40
    assert len(verbs) >= 5
    assert any(path.endswith(".j2") for path in inventory.files)


def test_small_number_in_date_property_warns(cli, tmp_path):
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory/a.yaml").write_text(
        "- _key: app:calendar-app\n  _type: acme_app\n  _class: Application\n"
        "  name: x\n  displayName: x\n  createdOn: 1704412800\n"
        "  updatedOn: 1704412800000\n"
    )
    result = cli("validate", cwd=tmp_path)
    assert result.exit_code == 0
    (line,) = result.stdout.splitlines()
    assert line.startswith("inventory/a.yaml:6:3: warning:")
    assert "[implausible-date]" in line


def test_schemas_table_keeps_brackets(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    result = cli("schemas", "Device", cwd=tmp_path)
    assert result.exit_code == 0
    assert "^[a-zA-Z0-9][a-zA-Z0-9-]{0,61}[a-zA-Z0-9]$" in result.stdout


def test_entity_too_large_for_one_upload(cli, tmp_path):
    (tmp_path / "inventory").mkdir()
    big = "x" * 5_100_000
    (tmp_path / "inventory/a.yaml").write_text(
        "- _key: document:handbook\n  _type: acme_doc\n  _class: Document\n"
        f"  name: x\n  displayName: x\n  content: {big}\n"
    )
    result = cli("validate", cwd=tmp_path)
    assert result.exit_code == 1
    assert "inventory/a.yaml:1:3: error:" in result.stdout
    assert "[object-too-large]" in result.stdout
