"""``j1gitops classify``: class suggestions, column matches, keys, starter mapping."""

from __future__ import annotations

import json

import yaml

LAPTOPS = """\
Serial Number,Computer Name,Manufacturer,Model,OS,IP Address,MAC Address,owner_email,Last Seen,Encrypted,Notes
C02XK1JHAA,web-01,Apple,MacBook Pro,macOS,10.0.0.1,00:1a:2b:3c:4d:5e,ada@example.com,2024-01-05,true,spare
C02XK2JHAA,web-02,Dell,Latitude,Windows,10.0.0.2,00:1a:2b:3c:4d:5f,alan@example.com,2024-01-06,false,
"""
PEOPLE = [
    {
        "employee_id": "E001",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "title": "Engineer",
        "manager_email": "alan@example.com",
    },
    {
        "employee_id": "E002",
        "first_name": "Alan",
        "last_name": "Turing",
        "email": "alan@example.com",
        "title": "Director",
        "manager_email": "",
    },
]


def test_classify_laptops(cli, tmp_path):
    (tmp_path / "laptops.csv").write_text(LAPTOPS)
    result = cli("classify", "laptops.csv", "-o", "laptops.mapping.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "laptops.csv: 11 columns, 2 rows, read as comma-delimited CSV"
    assert lines[3].split()[:2] == ["1.", "Device"]
    assert "  Serial Number  -> serial (synonym)" in lines
    assert "  Model          -> model (same name)" in lines
    assert "  owner_email    -> the key of another entity: Person OWNS Device" in lines
    assert "  Notes          -> notes (same name)" in lines
    assert (
        "Key: column 'Serial Number' (filled and unique in every row sampled)" in lines
    )

    mapping = yaml.safe_load((tmp_path / "laptops.mapping.yaml").read_text())
    assert mapping["class"] == "Device"
    assert mapping["key"] == "{Serial Number}"
    assert mapping["properties"]["Computer Name"] == "hostname"
    assert mapping["properties"]["owner_email"] is None
    assert mapping["set"] == {
        "name": "{Computer Name}",
        "displayName": "{Computer Name}",
    }
    assert mapping["relationships"] == [
        {
            "column": "owner_email",
            "verb": "OWNS",
            "direction": "reverse",
            "key": "{owner_email}",
        }
    ]


def test_starter_mapping_imports_and_validates(cli, tmp_path):
    (tmp_path / "laptops.csv").write_text(LAPTOPS)
    (tmp_path / "inventory").mkdir()
    cli("classify", "laptops.csv", "-o", "m.yaml", cwd=tmp_path)
    imported = cli(
        "import",
        "csv",
        "laptops.csv",
        "--mapping",
        "m.yaml",
        "-o",
        "inventory/laptops.yaml",
        cwd=tmp_path,
    )
    assert imported.exit_code == 0, imported.stderr
    entities = yaml.safe_load((tmp_path / "inventory/laptops.yaml").read_text())[
        "entities"
    ]
    assert entities[0]["macAddresses"] == ["00:1a:2b:3c:4d:5e"]
    assert entities[0]["lastSeenOn"] == 1704412800000
    (tmp_path / "inventory/laptops.yaml").write_text(
        (tmp_path / "inventory/laptops.yaml").read_text().split("relationships:")[0]
    )
    validated = cli("validate", cwd=tmp_path)
    assert validated.exit_code == 0, validated.stdout


def test_classify_json_people(cli, tmp_path):
    (tmp_path / "people.json").write_text(json.dumps({"results": PEOPLE}))
    result = cli("classify", "people.json", "--records", "results", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[3].split()[:2] == ["1.", "Person"]
    assert "  first_name     -> firstName (same name)" in lines
    assert (
        "  manager_email  -> managerEmail (same name); also the key of another "
        "entity: Person MANAGES Person"
    ) in lines
    assert (
        "name and displayName: set to '{first_name} {last_name}' in the mapping"
        in lines
    )
    assert "Key: column 'employee_id' (filled and unique in every row sampled)" in lines


def test_classify_for_a_chosen_class(cli, tmp_path):
    (tmp_path / "laptops.csv").write_text(LAPTOPS)
    result = cli(
        "classify", "laptops.csv", "--class", "Host", "--top", "1", cwd=tmp_path
    )
    assert result.exit_code == 0, result.stderr
    assert "Columns as properties of Host:" in result.stdout
    unknown = cli("classify", "laptops.csv", "--class", "Laptop", cwd=tmp_path)
    assert unknown.exit_code == 1
    assert "--class: unknown class 'Laptop'" in unknown.stderr


def test_classify_several_classes(cli, tmp_path):
    (tmp_path / "laptops.csv").write_text(LAPTOPS)
    (tmp_path / "inventory").mkdir()
    result = cli(
        "classify", "laptops.csv", "--class", "Device, Host", "-o", "m.yaml",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "Columns as properties of Device, Host:" in result.stdout
    assert "  Computer Name  -> hostname (synonym)" in result.stdout
    mapping = yaml.safe_load((tmp_path / "m.yaml").read_text())
    assert mapping["class"] == ["Device", "Host"]

    imported = cli(
        "import", "csv", "laptops.csv", "--mapping", "m.yaml",
        "-o", "inventory/laptops.yaml", cwd=tmp_path,
    )  # fmt: skip
    assert imported.exit_code == 0, imported.stderr
    text = (tmp_path / "inventory/laptops.yaml").read_text()
    assert yaml.safe_load(text)["entities"][0]["_class"] == ["Device", "Host"]
    (tmp_path / "inventory/laptops.yaml").write_text(text.split("relationships:")[0])
    validated = cli("validate", cwd=tmp_path)
    assert validated.exit_code == 0, validated.stdout


def test_classify_unknown_class_in_list(cli, tmp_path):
    (tmp_path / "laptops.csv").write_text(LAPTOPS)
    result = cli("classify", "laptops.csv", "--class", "Device,Hots", cwd=tmp_path)
    assert result.exit_code == 1
    assert "--class: unknown class 'Hots'; did you mean 'Host'?" in result.stderr
    empty = cli("classify", "laptops.csv", "--class", " , ", cwd=tmp_path)
    assert empty.exit_code == 1
    assert "invalid --class ' , '" in empty.stderr


def test_classify_header_only(cli, tmp_path):
    (tmp_path / "empty.csv").write_text("a,b\n")
    result = cli("classify", "empty.csv", cwd=tmp_path)
    assert result.exit_code == 1
    assert "empty.csv: no rows to classify" in result.stderr


def test_deeply_nested_json_is_one_line_error(cli, tmp_path):
    (tmp_path / "deep.json").write_text('{"a":' * 100000 + "1" + "}" * 100000)
    result = cli("classify", "deep.json", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: deep.json: the JSON is nested too deeply")
    assert len(result.stderr.splitlines()) == 1


def test_mapping_for_awkward_column_names_imports(cli, tmp_path):
    (tmp_path / "d.csv").write_text(
        "Owner: Email,Device {Name},Gerätename,serial\na@b.example,mbp,x,SER1\n"
    )
    written = cli("classify", "d.csv", "-o", "m.yaml", cwd=tmp_path)
    assert written.exit_code == 0, written.stderr
    mapping = (tmp_path / "m.yaml").read_text()
    assert "geratename" in mapping
    imported = cli("import", "csv", "d.csv", "--mapping", "m.yaml", cwd=tmp_path)
    assert imported.exit_code == 0, imported.stderr
    assert "_fromEntityKey: a@b.example" in imported.stdout
    assert "geratename: x" in imported.stdout


def test_no_matching_class_is_an_error(cli, tmp_path):
    (tmp_path / "n.csv").write_text("zzq,wxv\n1,2\n")
    result = cli("classify", "n.csv", "-o", "m.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    assert "no data-model class has properties that match" in result.stderr
    assert not (tmp_path / "m.yaml").exists()
    forced = cli("classify", "n.csv", "--class", "Device", cwd=tmp_path)
    assert forced.exit_code == 0, forced.stderr


J1_FORMAT = """\
Host Name,_class,_key,_id,owner
web01,Device,device-000001,x,a@example.com
web02,Device,device-000002,y,b@example.com
"""


def test_classify_j1_format_file(cli, tmp_path):
    (tmp_path / "j1.csv").write_text(J1_FORMAT)
    result = cli("classify", "j1.csv", "-o", "m.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "  _key       -> J1's own _key column, imported as it is" in result.stdout
    assert "  _id        -> J1 metadata, which import skips" in result.stdout
    assert "Key: the file's _key column" in result.stdout
    mapping = yaml.safe_load((tmp_path / "m.yaml").read_text())
    assert "class" not in mapping
    assert "key" not in mapping
    assert all(not column.startswith("_") for column in mapping["properties"])

    imported = cli("import", "csv", "j1.csv", "--mapping", "m.yaml", cwd=tmp_path)
    assert imported.exit_code == 0, imported.stderr
    first = yaml.safe_load(imported.stdout)["entities"][0]
    assert (first["_key"], first["_class"]) == ("device-000001", "Device")


def test_classify_output_is_not_the_input(cli, tmp_path):
    (tmp_path / "laptops.csv").write_text(LAPTOPS)
    result = cli("classify", "laptops.csv", "-o", "./laptops.csv", cwd=tmp_path)
    assert result.exit_code == 1
    assert "-o ./laptops.csv is the file being read" in result.stderr
    assert (tmp_path / "laptops.csv").read_text() == LAPTOPS


def test_mapping_class_forms(cli, tmp_path):
    (tmp_path / "laptops.csv").write_text(LAPTOPS)
    (tmp_path / "m.yaml").write_text(
        "class: 'Device, Host,Device'\ntype: acme_laptop\nkey: '{Serial Number}'\n"
        "unmapped: drop\nset: {name: x, displayName: x}\n"
    )
    result = cli("import", "csv", "laptops.csv", "--mapping", "m.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    entity = yaml.safe_load(result.stdout)["entities"][0]
    assert entity["_class"] == ["Device", "Host"]

    verb = cli("classify", "laptops.csv", "--class", "OWNS", cwd=tmp_path)
    assert verb.exit_code == 1
    assert "OWNS is a relationship verb, not an entity class" in verb.stderr
