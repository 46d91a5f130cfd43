"""``j1gitops import csv``: each reading rule, typing, J1's CSV format, round trips."""

from __future__ import annotations

import yaml

from j1gitops.inventory.writer import dump_document
from j1gitops.inventory.yamlload import load_text

DEVICE_OPTIONS = (
    "--class",
    "Device",
    "--type",
    "acme_laptop",
    "--key",
    "device:{serial}",
)
LAPTOPS = (
    "serial,name,displayName,make,cost,encrypted,lastSeenOn,tags,owner_email\n"
    'C02XK1JHAA,web-01,Web 01,Apple,1299.50,true,2024-01-05,"a, b",alice@example.com\n'
    "C02XK2JHAA,web-02,Web 02,NO,1.10,no,1704412800000,,bob@example.com\n"
)
CONFIG = "scope: imported\ninventory: [inventory]\nlocal:\n  path: local.db\n"


def write(folder, name, content):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def entities_of(text):
    return yaml.safe_load(text)["entities"]


def import_csv(cli, folder, *args):
    return cli("import", "csv", *args, cwd=folder)


def test_typing_by_the_class_schema(cli, tmp_path):
    write(tmp_path, "laptops.csv", LAPTOPS)
    result = import_csv(
        cli, tmp_path, "laptops.csv", *DEVICE_OPTIONS, "--map", "owner_email="
    )
    assert result.exit_code == 0, result.stderr
    first, second = entities_of(result.stdout)
    assert first["_key"] == "device:C02XK1JHAA"
    assert first["cost"] == 1299.5
    assert first["encrypted"] is True
    assert first["lastSeenOn"] == 1704412800000
    assert first["tags"] == ["a", "b"]
    assert second["encrypted"] is False
    assert second["make"] == "NO"
    assert "tags" not in second
    assert "owner_email" not in first
    assert 'make: "NO"' in result.stdout
    assert "Imported 2 entities and 0 relationships from laptops.csv" in result.stderr


def test_byte_order_mark_with_semicolons(cli, tmp_path):
    write(
        tmp_path,
        "bom.csv",
        b"\xef\xbb\xbfserial;name\nSER0000001;one\nSER0000002;two\n",
    )
    result = import_csv(cli, tmp_path, "bom.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 0, result.stderr
    assert [e["serial"] for e in entities_of(result.stdout)] == [
        "SER0000001",
        "SER0000002",
    ]
    assert "semicolon-delimited CSV" in result.stderr


def test_tab_and_pipe_delimiters_are_sniffed(cli, tmp_path):
    for name, delimiter in (("tab.csv", "\t"), ("pipe.csv", "|")):
        write(tmp_path, name, f"serial{delimiter}name\nSER0000001{delimiter}a, b\n")
        result = import_csv(cli, tmp_path, name, *DEVICE_OPTIONS)
        assert result.exit_code == 0, result.stderr
        assert entities_of(result.stdout)[0]["name"] == "a, b"


def test_quoted_newlines_and_quotes(cli, tmp_path):
    write(
        tmp_path,
        "notes.csv",
        'serial,description\nSER0000001,"line one\nline, two ""quoted"""\nSER0000002,x\n',
    )
    result = import_csv(cli, tmp_path, "notes.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 0, result.stderr
    first, second = entities_of(result.stdout)
    assert first["description"] == 'line one\nline, two "quoted"'
    assert second["serial"] == "SER0000002"


def test_blank_lines_are_skipped(cli, tmp_path):
    write(
        tmp_path, "blank.csv", "\n\nserial,name\n\nSER0000001,a\n,\n\nSER0000002,b\n\n"
    )
    result = import_csv(cli, tmp_path, "blank.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 0, result.stderr
    assert len(entities_of(result.stdout)) == 2


def test_duplicate_header_is_an_error(cli, tmp_path):
    write(tmp_path, "dup.csv", "serial,name,name\nSER0000001,a,b\n")
    result = import_csv(cli, tmp_path, "dup.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: dup.csv:1:name: duplicate column name 'name' (columns 2 and 3); "
        "rename one of them\n"
    )


def test_empty_header_name_is_an_error(cli, tmp_path):
    write(tmp_path, "empty.csv", "serial,,name\nSER0000001,x,a\n")
    result = import_csv(cli, tmp_path, "empty.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 1
    assert "empty.csv:1: column 2 has an empty name in the header" in result.stderr


def test_missing_key_column_fails_at_header(cli, tmp_path):
    write(tmp_path, "nokey.csv", "name,cost\na,not-a-number\n")
    result = import_csv(cli, tmp_path, "nokey.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: nokey.csv:1: key column 'serial' is not in the header; the columns "
        "are 'name', 'cost'\n"
    )


def test_bad_number_names_file_row_column_and_value(cli, tmp_path):
    write(tmp_path, "bad.csv", "serial,cost\nSER0000001,12\n\nSER0000002,12;5\n")
    result = import_csv(cli, tmp_path, "bad.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: bad.csv:4:cost: value '12;5' of number property 'cost' is not a "
        "number; write digits with '.' as the decimal point, such as 12.5\n"
    )


def test_bad_boolean_and_date(cli, tmp_path):
    write(tmp_path, "bool.csv", "serial,encrypted\nSER0000001,maybe\n")
    result = import_csv(cli, tmp_path, "bool.csv", *DEVICE_OPTIONS)
    assert "bool.csv:2:encrypted: value 'maybe' of boolean property" in result.stderr
    assert "write true or false" in result.stderr
    write(tmp_path, "date.csv", "serial,lastSeenOn\nSER0000001,05/01/2024\n")
    result = import_csv(cli, tmp_path, "date.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 1
    assert "date.csv:2:lastSeenOn: value '05/01/2024' of date property" in result.stderr


def test_booleans_only_for_boolean_properties(cli, tmp_path):
    write(tmp_path, "words.csv", "serial,status,encrypted\nSER0000001,yes,yes\n")
    result = import_csv(cli, tmp_path, "words.csv", *DEVICE_OPTIONS)
    (entity,) = entities_of(result.stdout)
    assert entity["status"] == "yes"
    assert entity["encrypted"] is True


def test_file_with_no_valid_row_is_an_error(cli, tmp_path):
    for name, content in (
        ("header.csv", "serial,name\n"),
        ("blanks.csv", "serial,name\n\n,\n"),
    ):
        write(tmp_path, name, content)
        result = import_csv(cli, tmp_path, name, *DEVICE_OPTIONS, "-o", "out.yaml")
        assert result.exit_code == 1
        assert f"Error: {name}: no rows to import" in result.stderr
        assert not (tmp_path / "out.yaml").exists()
    write(tmp_path, "nothing.csv", "")
    result = import_csv(cli, tmp_path, "nothing.csv", *DEVICE_OPTIONS)
    assert "nothing.csv: the file is empty" in result.stderr


def test_row_with_wrong_field_count(cli, tmp_path):
    write(tmp_path, "wide.csv", "serial,name\nSER0000001,a,extra\n")
    result = import_csv(cli, tmp_path, "wide.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 1
    assert (
        "wide.csv:2: the row has 3 fields but the header has 2 columns" in result.stderr
    )
    assert "'extra'" in result.stderr


def test_bad_quoting_is_an_error(cli, tmp_path):
    write(tmp_path, "quote.csv", 'serial,name\nSER0000001,"a"b\n')
    result = import_csv(cli, tmp_path, "quote.csv", *DEVICE_OPTIONS, "--delimiter", ",")
    assert result.exit_code == 1
    assert "quote.csv:2: invalid CSV" in result.stderr


def test_other_encodings(cli, tmp_path):
    write(tmp_path, "latin.csv", "serial,name\nSER0000001,Jos\xe9\n".encode("latin-1"))
    result = import_csv(cli, tmp_path, "latin.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 1
    assert "latin.csv:2:15: invalid UTF-8 byte 0xe9" in result.stderr
    result = import_csv(
        cli, tmp_path, "latin.csv", *DEVICE_OPTIONS, "--encoding", "latin-1"
    )
    assert entities_of(result.stdout)[0]["name"] == "José"
    result = import_csv(
        cli, tmp_path, "latin.csv", *DEVICE_OPTIONS, "--encoding", "nope"
    )
    assert "unknown encoding 'nope'" in result.stderr


def test_duplicate_key_names_both_rows(cli, tmp_path):
    write(tmp_path, "twice.csv", "serial,name\nSER0000001,a\nSER0000001,b\n")
    result = import_csv(cli, tmp_path, "twice.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 1
    assert (
        "twice.csv:3:serial: duplicate _key 'device:SER0000001' (first at twice.csv:2)"
        in result.stderr
    )


def test_key_pattern_over_columns(cli, tmp_path):
    write(tmp_path, "sites.csv", "site,serial\nber,SER01\nlon,SER01\nlon,\n")
    result = import_csv(
        cli,
        tmp_path,
        "sites.csv",
        "--class",
        "Device",
        "--type",
        "acme_laptop",
        "--key",
        "{site}-{serial}",
    )
    assert result.exit_code == 1
    assert "sites.csv:4:serial: column 'serial' is empty" in result.stderr
    write(tmp_path, "sites.csv", "site,serial\nber,SER01\nlon,SER01\n")
    result = import_csv(
        cli,
        tmp_path,
        "sites.csv",
        "--class",
        "Device",
        "--type",
        "acme_laptop",
        "--key",
        "{site}-{serial}",
    )
    assert [e["_key"] for e in entities_of(result.stdout)] == ["ber-SER01", "lon-SER01"]


def test_invalid_property_names_get_a_suggested_map(cli, tmp_path):
    write(tmp_path, "snake.csv", "serial,serial_number,owner email\nSER0000001,x,y\n")
    result = import_csv(cli, tmp_path, "snake.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 1
    assert "column 'serial_number' is not a valid J1 property name" in result.stderr
    assert "--map 'serial_number=serialNumber'" in result.stderr
    result = import_csv(
        cli,
        tmp_path,
        "snake.csv",
        *DEVICE_OPTIONS,
        "--map",
        "serial_number=hardwareSerial",
    )
    assert entities_of(result.stdout)[0]["hardwareSerial"] == "x"
    assert entities_of(result.stdout)[0]["owner email"] == "y"


def test_missing_options_are_usage_errors(cli, tmp_path):
    write(tmp_path, "plain.csv", "serial,name\nSER0000001,a\n")
    result = import_csv(
        cli, tmp_path, "plain.csv", "--class", "Device", "--type", "t_t"
    )
    assert result.exit_code == 1
    assert "missing --key" in result.stderr
    result = import_csv(
        cli,
        tmp_path,
        "plain.csv",
        "--class",
        "Devise",
        "--type",
        "x_y",
        "--key",
        "serial",
    )
    assert "unknown class 'Devise'; did you mean 'Device'?" in result.stderr


def test_j1_csv_format_needs_no_mapping(cli, tmp_path):
    write(
        tmp_path,
        "j1.csv",
        "_id,_key,_type,_class,name,tags.0,tags.1,criticality [number],_version\n"
        "1,app-000001,acme_app,Application,Portal,web,public,3,2\n"
        "2,app-000002,acme_app,Application;Service,API,,,,1\n",
    )
    result = import_csv(cli, tmp_path, "j1.csv", "--list-separator", ";")
    assert result.exit_code == 0, result.stderr
    first, second = entities_of(result.stdout)
    assert first == {
        "_key": "app-000001",
        "_type": "acme_app",
        "_class": "Application",
        "criticality": 3,
        "name": "Portal",
        "tags": ["web", "public"],
    }
    assert second["_class"] == ["Application", "Service"]
    assert "Skipped J1 metadata columns: _id, _version." in result.stderr


def test_j1_relationship_csv(cli, tmp_path):
    write(
        tmp_path,
        "rels.csv",
        "_key,_type,_class,_fromEntityKey,_toEntityKey,weight [number]\n"
        "a|uses|b,app_uses_app,uses,app-000001,app-000002,2\n",
    )
    result = import_csv(cli, tmp_path, "rels.csv")
    assert result.exit_code == 0, result.stderr
    (relationship,) = yaml.safe_load(result.stdout)["relationships"]
    assert relationship["_class"] == "USES"
    assert relationship["weight"] == 2
    assert (
        "from rels.csv" in result.stderr
        and "0 entities and 1 relationship from" in result.stderr
    )


def test_relationship_from_a_column(cli, tmp_path):
    write(tmp_path, "laptops.csv", LAPTOPS)
    write(
        tmp_path,
        "laptops.mapping.yaml",
        "class: Device\ntype: acme_laptop\nkey: 'device:{serial}'\n"
        "relationships:\n"
        "  - column: owner_email\n    verb: OWNS\n    direction: reverse\n"
        "    key: 'person:{owner_email}'\n",
    )
    result = import_csv(
        cli, tmp_path, "laptops.csv", "--mapping", "laptops.mapping.yaml"
    )
    assert result.exit_code == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    assert document["relationships"][0] == {
        "_class": "OWNS",
        "_fromEntityKey": "person:alice@example.com",
        "_toEntityKey": "device:C02XK1JHAA",
    }
    assert "owner_email" not in document["entities"][0]


def test_mapping_file_errors_name_the_line(cli, tmp_path):
    write(tmp_path, "laptops.csv", LAPTOPS)
    write(tmp_path, "m.yaml", "class: Device\ntype: t_t\nkey: serial\nunmaped: drop\n")
    result = import_csv(cli, tmp_path, "laptops.csv", "--mapping", "m.yaml")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: m.yaml:4:1: unknown key 'unmaped'")
    write(
        tmp_path,
        "m.yaml",
        "class: Device\ntype: t_t\nkey: serial\nrelationships:\n  - column: owner_email\n"
        "    verb: OWNZ\n",
    )
    result = import_csv(cli, tmp_path, "laptops.csv", "--mapping", "m.yaml")
    assert (
        "m.yaml:5:5: unknown relationship verb 'OWNZ'; did you mean 'OWNS'?"
        in result.stderr
    )


def test_set_and_drop_unmapped(cli, tmp_path):
    write(tmp_path, "laptops.csv", LAPTOPS)
    write(
        tmp_path,
        "m.yaml",
        "class: Device\ntype: acme_laptop\nkey: serial\nunmapped: drop\n"
        "properties:\n  make: make\nset:\n  category: endpoint\n  public: 'false'\n",
    )
    result = import_csv(
        cli, tmp_path, "laptops.csv", "--mapping", "m.yaml", "--set", "hostname={name}"
    )
    assert result.exit_code == 0, result.stderr
    first = entities_of(result.stdout)[0]
    assert first == {
        "_key": "C02XK1JHAA",
        "_type": "acme_laptop",
        "_class": "Device",
        "category": "endpoint",
        "hostname": "web-01",
        "make": "Apple",
        "public": False,
    }


def test_output_is_stable_and_atomic(cli, tmp_path):
    write(tmp_path, "laptops.csv", LAPTOPS)
    args = ("laptops.csv", *DEVICE_OPTIONS, "--map", "owner_email=", "-o", "out.yaml")
    assert import_csv(cli, tmp_path, *args).exit_code == 0
    first = (tmp_path / "out.yaml").read_bytes()
    assert import_csv(cli, tmp_path, *args).exit_code == 0
    assert (tmp_path / "out.yaml").read_bytes() == first
    write(tmp_path, "laptops.csv", LAPTOPS + "C02XK3JHAA,x,x,x,oops,true,,,\n")
    failed = import_csv(cli, tmp_path, *args)
    assert failed.exit_code == 1
    assert (tmp_path / "out.yaml").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["laptops.csv", "out.yaml"]


def test_import_validate_apply_plan_has_no_changes(cli, tmp_path):
    write(tmp_path, "j1gitops.yaml", CONFIG)
    write(tmp_path, "laptops.csv", LAPTOPS)
    args = (
        "laptops.csv",
        *DEVICE_OPTIONS,
        "--map",
        "owner_email=ownerEmail",
        "-o",
        "inventory/laptops.yaml",
    )
    assert import_csv(cli, tmp_path, *args).exit_code == 0
    validated = cli("validate", cwd=tmp_path)
    assert validated.exit_code == 0, validated.stdout + validated.stderr
    applied = cli("apply", "--auto-approve", cwd=tmp_path)
    assert applied.exit_code == 0, applied.stderr
    assert import_csv(cli, tmp_path, *args).exit_code == 0
    planned = cli("plan", cwd=tmp_path)
    assert planned.exit_code == 0, planned.stderr
    assert planned.stdout.rstrip().endswith("No changes.")


def test_crlf_and_cr_line_ends(cli, tmp_path):
    write(
        tmp_path, "crlf.csv", 'serial,name\r\nSER0000001,"a\r\nb"\r\nSER0000002,c\r\n'
    )
    write(tmp_path, "cr.csv", "serial,name\rSER0000001,a\rSER0000002,c\r")
    crlf = entities_of(import_csv(cli, tmp_path, "crlf.csv", *DEVICE_OPTIONS).stdout)
    assert [e["name"] for e in crlf] == ["a\r\nb", "c"]
    cr = entities_of(import_csv(cli, tmp_path, "cr.csv", *DEVICE_OPTIONS).stdout)
    assert [e["name"] for e in cr] == ["a", "c"]


def test_output_matches_the_writer(cli, tmp_path):
    write(tmp_path, "laptops.csv", LAPTOPS)
    result = import_csv(
        cli,
        tmp_path,
        "laptops.csv",
        *DEVICE_OPTIONS,
        "--map",
        "owner_email=",
        "--set",
        "category=endpoint",
    )
    document = load_text(result.stdout, "out.yaml").documents[0]
    assert dump_document(document["entities"], []) == result.stdout


def test_excel_sep_line_sets_delimiter(cli, tmp_path):
    (tmp_path / "x.csv").write_text("sep=;\nserial;name\nS1;a\nS2\n")
    result = cli(
        "import",
        "csv",
        "x.csv",
        "--class",
        "Device",
        "--type",
        "t_dev",
        "--key",
        "serial",
        cwd=tmp_path,
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: x.csv:4: the row has 1 field but the header has 2 columns"
    )
    assert "semicolon-delimited" in result.stderr


def test_utf16_without_bom_named(cli, tmp_path):
    (tmp_path / "u.csv").write_bytes("id,name\n1,a\n".encode("utf-16-le"))
    result = cli(
        "import",
        "csv",
        "u.csv",
        "--class",
        "Device",
        "--type",
        "t_dev",
        "--key",
        "id",
        cwd=tmp_path,
    )
    assert result.exit_code == 1
    assert "probably UTF-16" in result.stderr
    assert "--encoding utf-16" in result.stderr


def test_field_over_128_kib_imports(cli, tmp_path):
    (tmp_path / "big.csv").write_text("id,description\nk1," + "x" * 200_000 + "\n")
    result = cli(
        "import",
        "csv",
        "big.csv",
        "--class",
        "Device",
        "--type",
        "t_dev",
        "--key",
        "id",
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.stderr
    assert "x" * 200_000 in result.stdout


def test_digit_strings_and_whole_floats_read_back(cli, tmp_path):
    write(
        tmp_path,
        "inventory/zips.csv",
        "serial,zip,cost\nSER0000001,08540,12.0\nSER0000002,0199,-0.0\n",
    )
    write(tmp_path, "j1gitops.yaml", CONFIG)
    result = import_csv(
        cli, tmp_path, "inventory/zips.csv", *DEVICE_OPTIONS,
        "--set", "name={serial}", "--set", "displayName={serial}",
        "-o", "inventory/zips.yaml",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (tmp_path / "inventory/zips.csv").unlink()
    text = (tmp_path / "inventory/zips.yaml").read_text()
    assert 'zip: "08540"' in text
    assert 'zip: "0199"' in text
    assert "cost: 12\n" in text
    assert "cost: 0\n" in text
    validated = cli("validate", cwd=tmp_path)
    assert validated.exit_code == 0, validated.stdout
    assert "lossy-number" not in validated.stdout


def test_integer_beyond_float_precision(cli, tmp_path):
    write(tmp_path, "big.csv", "serial,cost\nSER0000001,12345678901234567\n")
    result = import_csv(cli, tmp_path, "big.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 1
    assert "big.csv:2:cost: value '12345678901234567'" in result.stderr
    assert "too large to store exactly" in result.stderr


def test_byte_order_mark_names_utf16(cli, tmp_path):
    write(tmp_path, "u16.csv", "serial,name\nSER0000001,José\n".encode("utf-16"))
    result = import_csv(cli, tmp_path, "u16.csv", *DEVICE_OPTIONS)
    assert result.exit_code == 0, result.stderr
    assert entities_of(result.stdout)[0]["name"] == "José"


def test_encoding_that_is_not_text(cli, tmp_path):
    write(tmp_path, "a.csv", "serial,name\nSER0000001,a\n")
    result = import_csv(cli, tmp_path, "a.csv", *DEVICE_OPTIONS, "--encoding", "rot13")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: invalid encoding 'rot13': it is not a text encoding; use one such as "
        "utf-8, cp1252 or latin-1\n"
    )


def test_output_is_not_the_input(cli, tmp_path):
    write(tmp_path, "laptops.csv", LAPTOPS)
    result = import_csv(
        cli, tmp_path, "laptops.csv", *DEVICE_OPTIONS, "--map", "owner_email=",
        "-o", "laptops.csv",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "-o laptops.csv is the file being read" in result.stderr
    assert (tmp_path / "laptops.csv").read_text() == LAPTOPS
