"""``j1gitops export``: one file per _type, and export then plan shows no changes."""

from __future__ import annotations

import shutil

import emulator_fixture
import yaml

j1_emulator = emulator_fixture.j1_emulator
j1_emulator_factory = emulator_fixture.j1_emulator_factory


def last_line(output: str) -> str:
    return output.rstrip().splitlines()[-1]


def replace_inventory(repo, exported):
    shutil.rmtree(repo / "inventory")
    shutil.move(str(repo / exported), str(repo / "inventory"))


def test_export_then_plan_has_no_changes(cli, example_repo):
    applied = cli("apply", "--auto-approve", cwd=example_repo)
    assert applied.exit_code == 0, applied.stderr
    exported = cli("export", "-o", "exported", cwd=example_repo)
    assert exported.exit_code == 0, exported.stderr
    assert exported.stderr.startswith("Exported ")
    assert "under exported." in exported.stderr
    files = sorted(p.name for p in (example_repo / "exported").iterdir())
    for name in files:
        document = yaml.safe_load((example_repo / "exported" / name).read_text())
        types = {obj["_type"] for section in document.values() for obj in section}
        assert {f"{t.lower()}.yaml" for t in types} == {name}
    replace_inventory(example_repo, "exported")
    planned = cli("plan", "--detailed-exitcode", cwd=example_repo)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert last_line(planned.stdout) == "No changes."


def test_export_is_stable(cli, example_repo):
    cli("apply", "--auto-approve", cwd=example_repo)
    cli("export", "-o", "one", cwd=example_repo)
    cli("export", "-o", "two", cwd=example_repo)
    one = {p.name: p.read_bytes() for p in (example_repo / "one").iterdir()}
    two = {p.name: p.read_bytes() for p in (example_repo / "two").iterdir()}
    assert one == two


def test_export_refuses_a_folder_with_files(cli, example_repo):
    cli("apply", "--auto-approve", cwd=example_repo)
    result = cli("export", "-o", "inventory", cwd=example_repo)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: inventory already contains files; export into a new or empty folder, "
        "or pass --force to replace files of the same names\n"
    )
    forced = cli("export", "-o", "inventory", "--force", cwd=example_repo)
    assert forced.exit_code == 0, forced.stderr


def test_export_of_an_empty_scope_is_an_error(cli, example_repo):
    result = cli("export", "-o", "out", "--scope", "nothing-here", cwd=example_repo)
    assert result.exit_code == 1
    assert "scope 'nothing-here' has no entities or relationships" in result.stderr
    assert not (example_repo / "out").exists()


def test_export_needs_an_output_folder(cli, example_repo):
    result = cli("export", cwd=example_repo)
    assert result.exit_code == 1
    assert "missing --output" in result.stderr
    result = cli("export", "-o", "x", "--format", "csv", cwd=example_repo)
    assert "invalid --format 'csv'; use one of yaml, sdk-graph" in result.stderr


def test_relationship_to_another_scope_round_trips(cli, tmp_path):
    shared = tmp_path / "shared"
    team = tmp_path / "team"
    for repo, scope in ((shared, "shared"), (team, "team")):
        (repo / "inventory").mkdir(parents=True)
        (repo / "j1gitops.yaml").write_text(
            f"scope: {scope}\nlocal:\n  path: ../local.db\n"
        )
    (shared / "inventory/vendor.yaml").write_text(
        "entities:\n  - _key: vendor:acme-corp\n    _type: acme_vendor\n"
        "    _class: Vendor\n    name: Acme\n    displayName: Acme\n    category: it\n"
    )
    (team / "inventory/app.yaml").write_text(
        "entities:\n  - _key: app:team-portal\n    _type: acme_app\n"
        "    _class: Application\n    name: Portal\n    displayName: Portal\n"
        "relationships:\n  - _class: USES\n    _type: acme_app_uses_vendor\n"
        "    _fromEntityKey: app:team-portal\n    _toEntityKey: vendor:acme-corp\n"
        "    _toEntitySource: api\n    _toEntityScope: shared\n"
    )

    for repo in (shared, team):
        applied = cli("apply", "--auto-approve", cwd=repo)
        assert applied.exit_code == 0, applied.stdout + applied.stderr

    assert cli("export", "-o", "exported", cwd=team).exit_code == 0
    exported = yaml.safe_load((team / "exported/acme_app_uses_vendor.yaml").read_text())
    (relationship,) = exported["relationships"]
    assert relationship["_toEntityScope"] == "shared"
    assert "_toEntityId" not in relationship

    replace_inventory(team, "exported")
    planned = cli("plan", cwd=team)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert last_line(planned.stdout) == "No changes."


def test_export_against_the_emulator(cli, example_repo, j1_emulator, monkeypatch):
    for name, value in j1_emulator.env.items():
        monkeypatch.setenv(name, value)
    applied = cli("apply", "--auto-approve", "--target", "jupiterone", cwd=example_repo)
    assert applied.exit_code == 0, applied.stderr
    exported = cli(
        "export", "-o", "exported", "--target", "jupiterone", cwd=example_repo
    )
    assert exported.exit_code == 0, exported.stderr
    replace_inventory(example_repo, "exported")
    planned = cli("plan", "--target", "jupiterone", cwd=example_repo)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert last_line(planned.stdout) == "No changes."


def test_export_onto_a_file_is_one_line_error(cli, example_repo):
    applied = cli("apply", "--auto-approve", cwd=example_repo)
    assert applied.exit_code == 0, applied.stderr
    (example_repo / "taken.yaml").write_text("keep\n")
    result = cli("export", "-o", "taken.yaml", cwd=example_repo)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: taken.yaml is a file, not a folder; give a new or empty folder to "
        "write into\n"
    )
    assert (example_repo / "taken.yaml").read_text() == "keep\n"


UNSAFE_TYPES = (".hidden", "a/b", "a_b", "A_B", "a\\b", "a:b", "con", "...")


def test_export_unsafe_types_get_safe_files(cli, tmp_path):
    (tmp_path / "inventory").mkdir()
    (tmp_path / "j1gitops.yaml").write_text("scope: odd\n")
    entities = [
        {
            "_key": f"vendor:odd-{number:04d}",
            "_type": type_,
            "_class": "Vendor",
            "name": f"v{number}",
            "displayName": f"v{number}",
            "category": "it",
        }
        for number, type_ in enumerate(UNSAFE_TYPES)
    ]
    (tmp_path / "inventory/odd.yaml").write_text(yaml.safe_dump({"entities": entities}))
    applied = cli("apply", "--auto-approve", cwd=tmp_path)
    assert applied.exit_code == 0, applied.stdout + applied.stderr

    exported = cli("export", "-o", "exported", cwd=tmp_path)
    assert exported.exit_code == 0, exported.stderr
    names = sorted(p.name for p in (tmp_path / "exported").iterdir())
    assert len(names) == len(UNSAFE_TYPES)
    assert len({name.lower() for name in names}) == len(UNSAFE_TYPES)
    for name in names:
        assert not name.startswith("."), name
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-."), name
        assert name != "con.yaml"
        document = yaml.safe_load((tmp_path / "exported" / name).read_text())
        assert len({obj["_type"] for obj in document["entities"]}) == 1
    assert "a_b.yaml" in names

    replace_inventory(tmp_path, "exported")
    planned = cli("plan", cwd=tmp_path)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert last_line(planned.stdout) == "No changes."


def test_export_suggests_folder_outside_inventory(cli, example_repo):
    result = cli("export", cwd=example_repo)
    assert result.exit_code == 1
    assert "such as --output exported, outside the inventory paths (inventory)" in (
        result.stderr
    )
    (example_repo / "j1gitops.yaml").write_text("scope: s\ninventory: [., data]\n")
    result = cli("export", cwd=example_repo)
    assert result.exit_code == 1
    assert "such as --output ../exported, outside" in result.stderr


def test_export_missing_local_path(cli, example_repo):
    missing = example_repo / "nonexistent" / "db"
    result = cli("export", "-o", "out", "--local-path", str(missing), cwd=example_repo)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: invalid --local-path: {missing} does not exist; give the SQLite "
        "file that 'j1gitops apply' wrote (the config's local.path)\n"
    )
    assert not missing.exists()
    relative = cli("export", "-o", "out", "--local-path", "none.db", cwd=example_repo)
    assert "invalid --local-path: none.db does not exist" in relative.stderr
