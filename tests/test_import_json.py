"""``j1gitops import json``: records at a dotted path, flattening, typing, errors."""

from __future__ import annotations

import json

import yaml

USER_OPTIONS = ("--class", "Person", "--type", "okta_person", "--key", "person:{id}")
DUMP = {
    "meta": {"count": 2},
    "data": {
        "items": [
            {
                "id": "00u1a2b3c4",
                "profile": {"firstName": "Ada", "lastName": "Lovelace"},
                "email": "ada@example.com",
                "created": "2021-03-04T05:06:07Z",
                "active": True,
                "logins": 42,
            },
            {
                "id": 1234567,
                "profile": {"firstName": "Alan", "lastName": "Turing"},
                "email": ["alan@example.com", "turing@example.com"],
                "created": 1614834367000,
                "active": False,
                "logins": None,
            },
        ]
    },
}
MAPS = (
    "--map",
    "profile.firstName=firstName",
    "--map",
    "profile.lastName=lastName",
    "--map",
    "created=createdOn",
    "--map",
    "logins=loginCount",
    "--set",
    "name={profile.firstName} {profile.lastName}",
    "--set",
    "displayName={profile.firstName}",
)


def write_json(folder, name, document):
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_records_at_a_dotted_path(cli, tmp_path):
    write_json(tmp_path, "users.json", DUMP)
    result = cli(
        "import",
        "json",
        "users.json",
        "--records",
        "data.items",
        *USER_OPTIONS,
        *MAPS,
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.stderr
    first, second = yaml.safe_load(result.stdout)["entities"]
    assert first == {
        "_key": "person:00u1a2b3c4",
        "_type": "okta_person",
        "_class": "Person",
        "active": True,
        "createdOn": 1614834367000,
        "displayName": "Ada",
        "email": ["ada@example.com"],
        "firstName": "Ada",
        "id": "00u1a2b3c4",
        "lastName": "Lovelace",
        "loginCount": 42,
        "name": "Ada Lovelace",
    }
    assert second["_key"] == "person:1234567"
    assert second["id"] == "1234567"  # Entity types id as a string
    assert second["email"] == ["alan@example.com", "turing@example.com"]
    assert second["createdOn"] == 1614834367000
    assert "loginCount" not in second


def test_missing_records_path_lists_the_arrays(cli, tmp_path):
    write_json(tmp_path, "users.json", DUMP)
    result = cli("import", "json", "users.json", *USER_OPTIONS, cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: users.json: the top level is an object, not an array of records; "
        "pass --records with the dotted path of the array; arrays found: "
        "'data.items'\n"
    )
    result = cli(
        "import",
        "json",
        "users.json",
        "--records",
        "data.users",
        *USER_OPTIONS,
        cwd=tmp_path,
    )
    assert (
        "users.json: data has no key 'users' (from --records); its keys are 'items'"
        in (result.stderr)
    )


def test_top_level_array_and_index_in_path(cli, tmp_path):
    write_json(tmp_path, "list.json", [{"id": "abcdefghij", "name": "x"}])
    result = cli(
        "import",
        "json",
        "list.json",
        "--class",
        "Application",
        "--type",
        "acme_app",
        "--key",
        "id",
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.stderr
    write_json(tmp_path, "pages.json", {"pages": [{"rows": [{"id": "abcdefghij"}]}]})
    result = cli(
        "import",
        "json",
        "pages.json",
        "--records",
        "pages.0.rows",
        "--class",
        "Application",
        "--type",
        "acme_app",
        "--key",
        "id",
        cwd=tmp_path,
    )
    assert yaml.safe_load(result.stdout)["entities"][0]["id"] == "abcdefghij"


def test_bad_value_names_the_record_path(cli, tmp_path):
    write_json(
        tmp_path, "bad.json", {"items": [{"id": "a1b2c3d4e5", "active": "maybe"}]}
    )
    result = cli(
        "import", "json", "bad.json", "--records", "items", *USER_OPTIONS, cwd=tmp_path
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: bad.json:items[0]:active: value 'maybe' of boolean property 'active'"
    )


def test_record_that_is_not_an_object(cli, tmp_path):
    write_json(tmp_path, "mixed.json", [{"id": "a1b2c3d4e5"}, 7])
    result = cli("import", "json", "mixed.json", *USER_OPTIONS, cwd=tmp_path)
    assert "mixed.json:[1]: the record is a number, not an object" in result.stderr


def test_invalid_json_names_line_and_column(cli, tmp_path):
    (tmp_path / "broken.json").write_text('[{"id": "a",}]\n')
    result = cli("import", "json", "broken.json", *USER_OPTIONS, cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: broken.json:1:13: invalid JSON")


def test_empty_array_is_an_error(cli, tmp_path):
    write_json(tmp_path, "empty.json", {"items": []})
    result = cli(
        "import",
        "json",
        "empty.json",
        "--records",
        "items",
        *USER_OPTIONS,
        cwd=tmp_path,
    )
    assert result.exit_code == 1
    assert "empty.json: items is empty, so there are no rows to import" in result.stderr


def test_nested_arrays_of_objects_must_be_dropped(cli, tmp_path):
    write_json(tmp_path, "n.json", [{"id": "a1b2c3d4e5", "groups": [{"id": 1}]}])
    result = cli(
        "import",
        "json",
        "n.json",
        "--class",
        "Application",
        "--type",
        "acme_app",
        "--key",
        "id",
        cwd=tmp_path,
    )
    assert result.exit_code == 1
    assert "value [{'id': 1}] of untyped property 'groups' is invalid because" in (
        result.stderr
    )
    result = cli(
        "import",
        "json",
        "n.json",
        "--class",
        "Application",
        "--type",
        "acme_app",
        "--key",
        "id",
        "--map",
        "groups=",
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.stderr


def test_j1_entities_in_json(cli, tmp_path):
    write_json(
        tmp_path,
        "j1.json",
        [
            {
                "_key": "app-000001",
                "_type": "acme_app",
                "_class": "Application",
                "_id": "x",
                "name": "Portal",
                "COTS": "true",
            }
        ],
    )
    result = cli("import", "json", "j1.json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    (entity,) = yaml.safe_load(result.stdout)["entities"]
    assert entity == {
        "_key": "app-000001",
        "_type": "acme_app",
        "_class": "Application",
        "COTS": True,
        "name": "Portal",
    }


def test_deeply_nested_json_is_one_line_error(cli, tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    result = cli("import", "json", "deep.json", *USER_OPTIONS, cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: deep.json: the JSON is nested too deeply")
    assert len(result.stderr.splitlines()) == 1


APP_OPTIONS = ("--class", "Application", "--type", "acme_app", "--key", "id")


def import_text(cli, tmp_path, text):
    (tmp_path / "dump.json").write_text(text, encoding="utf-8")
    return cli("import", "json", "dump.json", *APP_OPTIONS, cwd=tmp_path)


def test_duplicate_key_is_an_error(cli, tmp_path):
    result = import_text(cli, tmp_path, '[{"id": "a1b2c3d4e5", "id": "b"}]')
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: dump.json:[0]:id: the key 'id' appears more than once in one object"
    )
    assert len(result.stderr.splitlines()) == 1


def test_duplicate_nested_key_is_an_error(cli, tmp_path):
    text = '[{"id": "a1b2c3d4e5", "os": {"name": "x", "name": "y"}}]'
    result = import_text(cli, tmp_path, text)
    assert result.exit_code == 1
    assert "dump.json:[0]:os.name: the key 'name' appears more than once" in (
        result.stderr
    )


def test_duplicate_records_key_is_an_error(cli, tmp_path):
    text = '{"items": [], "items": [{"id": "a1b2c3d4e5"}]}'
    (tmp_path / "dump.json").write_text(text, encoding="utf-8")
    result = cli(
        "import", "json", "dump.json", "--records", "items", *APP_OPTIONS, cwd=tmp_path
    )
    assert result.exit_code == 1
    assert "the top level has the key 'items' (from --records) more than once" in (
        result.stderr
    )


def test_flattening_collision_names_both_fields(cli, tmp_path):
    for text in (
        '[{"id": "a1b2c3d4e5", "os.name": "x", "os": {"name": "y"}}]',
        '[{"id": "a1b2c3d4e5", "os": {"name": "y"}, "os.name": "x"}]',
    ):
        result = import_text(cli, tmp_path, text)
        assert result.exit_code == 1
        assert result.stderr.startswith("Error: dump.json:[0]:os.name: the fields ")
        assert "'os.name'" in result.stderr
        assert "'os' > 'name'" in result.stderr
        assert "both flatten to 'os.name'" in result.stderr


def test_non_finite_numbers_are_errors(cli, tmp_path):
    for literal in ("NaN", "Infinity", "-Infinity", "1e400", "[1e400]"):
        result = import_text(cli, tmp_path, f'[{{"id": "a1b2c3d4e5", "x": {literal}}}]')
        assert result.exit_code == 1, literal
        number = literal.strip("[]")
        assert result.stderr.startswith(
            f"Error: dump.json:[0]:x: the number {number} is not finite"
        ), result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_mixed_type_array_is_an_error(cli, tmp_path):
    result = import_text(cli, tmp_path, '[{"id": "a1b2c3d4e5", "tags": [1, "a"]}]')
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: dump.json:[0]:tags: the array mixes number and string items"
    )


def test_array_of_one_type_is_kept(cli, tmp_path):
    result = import_text(cli, tmp_path, '[{"id": "a1b2c3d4e5", "n": [1, 2.5]}]')
    assert result.exit_code == 0, result.stderr
    assert yaml.safe_load(result.stdout)["entities"][0]["n"] == [1, 2.5]


def test_j1_class_list_in_json(cli, tmp_path):
    write_json(
        tmp_path,
        "j1.json",
        [
            {"_key": "laptop-00001", "_type": "t", "_class": ["Device", "Host"]},
            {"_key": "laptop-00002", "_type": "t", "_class": [5, 7]},
        ],
    )
    result = cli("import", "json", "j1.json", cwd=tmp_path)
    assert result.exit_code == 1
    assert "j1.json:[1]:_class: _class [5, 7] is invalid" in result.stderr

    write_json(tmp_path, "j1.json", [{"_key": "laptop-00001", "_type": "t",
                                      "_class": ["Device", "Host"]}])  # fmt: skip
    result = cli("import", "json", "j1.json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    (entity,) = yaml.safe_load(result.stdout)["entities"]
    assert entity["_class"] == ["Device", "Host"]
