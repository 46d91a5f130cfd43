"""Saved plans: ``plan --out FILE``, ``apply FILE`` and ``show FILE``.

Each test works in a git repository made from the example inventory, with the
local target's SQLite file, and runs the real CLI.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from gitrepo import git

from j1gitops.plan.model import Plan
from j1gitops.plan.planfile import (
    FILE_FORMAT_VERSION,
    SavedPlan,
    StateDigest,
    is_plan_file,
    write_plan_file,
)
from j1gitops.store.sqlite import Store

SCOPE = "acme-widgets-inventory"
DB = ".j1gitops/local.db"
SECRET = "j1-api-key-that-must-never-be-written"


@pytest.fixture
def repo(example_repo: Path) -> Path:
    """The example inventory committed to a fresh git repository."""
    git(example_repo, "init", "-q", "-b", "main")
    (example_repo / ".gitignore").write_text(".j1gitops/\n*.json\n")
    git(example_repo, "add", ".")
    git(example_repo, "commit", "-q", "-m", "inventory")
    return example_repo


@pytest.fixture
def applied(cli, repo: Path) -> Path:
    """The repository with its inventory applied to the local target."""
    result = cli("apply", "--auto-approve", cwd=repo)
    assert result.exit_code == 0, result.stderr
    return repo


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def upload_form(obj: dict) -> dict:
    """Strip the system metadata that the store adds, leaving upload JSON."""
    kept = ("_key", "_type", "_class", "_fromEntityKey", "_toEntityKey")
    return {k: v for k, v in obj.items() if not k.startswith("_") or k in kept}


def change_behind_back(db: Path, key: str, name: str, value) -> None:
    """Write the scope directly, as another tool writing to J1 would."""
    with Store(db) as store:
        entities, relationships = store.read_scope(SCOPE)
        upload = [upload_form(entity) for entity in entities]
        for entity in upload:
            if entity["_key"] == key:
                entity[name] = value
        store.synchronize(SCOPE, upload, [upload_form(r) for r in relationships])


def versions(db: Path) -> dict:
    with Store(db) as store:
        entities, relationships = store.read_scope(SCOPE)
    return {obj["_key"]: obj["_version"] for obj in entities + relationships}


def entity_property(db: Path, key: str, name: str):
    with Store(db) as store:
        entities, _ = store.read_scope(SCOPE)
    return next(entity for entity in entities if entity["_key"] == key).get(name)


def test_saved_plan_fields(cli, repo, monkeypatch):
    monkeypatch.setenv("J1_API_KEY", SECRET)
    result = cli("plan", "--out", "plan.json", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert "To apply exactly this plan, run: j1gitops apply plan.json" in result.stderr
    text = (repo / "plan.json").read_text()
    document = json.loads(text)
    assert SECRET not in text
    assert document["format"] == "j1gitops-plan"
    assert document["format_version"] == FILE_FORMAT_VERSION
    assert document["tool_version"]
    assert document["scope"] == SCOPE
    assert document["target"] == {"name": "local", "location": f"./{DB}"}
    assert document["git"] == {"commit": git(repo, "rev-parse", "HEAD"), "dirty": False}
    assert document["live_state"]["entity_count"] == 0
    assert document["desired_state"]["entity_count"] >= 40
    assert document["plan"]["summary"]["create"] >= 80
    assert document["checksum"].startswith("sha256:")
    assert is_plan_file(str(repo / "plan.json"))


def test_saved_plan_records_dirty_inventory(cli, repo):
    edit(repo / "inventory/people.yaml", "title: VP Engineering", "title: CTO")
    assert cli("plan", "--out", "plan.json", cwd=repo).exit_code == 0
    document = json.loads((repo / "plan.json").read_text())
    assert document["git"]["dirty"] is True


def test_saved_plan_outside_git(cli, example_repo):
    assert cli("plan", "--out", "plan.json", cwd=example_repo).exit_code == 0
    document = json.loads((example_repo / "plan.json").read_text())
    assert document["git"] == {"commit": None, "dirty": None}


def test_apply_saved_plan(cli, repo):
    assert cli("plan", "--out", "plan.json", cwd=repo).exit_code == 0
    result = cli("apply", "plan.json", cwd=repo)  # no prompt, no --auto-approve
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Applying the saved plan plan.json. Plan: ")
    assert "Apply complete:" in result.stdout
    again = cli("plan", "--detailed-exitcode", cwd=repo)
    assert again.exit_code == 0
    assert "No changes." in again.stdout


def test_stale_after_change_behind_back(cli, applied):
    edit(applied / "inventory/people.yaml", "title: VP Engineering", "title: CTO")
    git(applied, "commit", "-q", "-am", "promote Bob")
    assert cli("plan", "--out", "plan.json", cwd=applied).exit_code == 0
    change_behind_back(applied / DB, "employee:alice.nguyen", "title", "Founder")
    before = versions(applied / DB)

    result = cli("apply", "plan.json", cwd=applied)

    assert result.exit_code == 3
    assert result.stderr.startswith(
        f"Error: plan is stale: scope '{SCOPE}' in the target changed since the plan "
        "was made (entity 'employee:alice.nguyen' changed); run plan again"
    )
    assert versions(applied / DB) == before
    assert (
        entity_property(applied / DB, "employee:bob.okafor", "title")
        == "VP Engineering"
    )


def test_stale_after_another_apply(cli, applied, tmp_path):
    assert cli("plan", "--out", "plan.json", cwd=applied).exit_code == 0
    other = tmp_path / "other"
    shutil.copytree(applied / "inventory", other / "inventory")
    shutil.copytree(applied / "data", other / "data")
    shutil.copy(applied / "j1gitops.yaml", other / "j1gitops.yaml")
    edit(other / "inventory/people.yaml", "title: VP Engineering", "title: CTO")
    db = str(applied / DB)
    assert cli("apply", "--auto-approve", "--local-path", db, cwd=other).exit_code == 0

    result = cli("apply", "plan.json", cwd=applied)

    assert result.exit_code == 3
    assert "entity 'employee:bob.okafor' changed" in result.stderr


def test_apply_twice_second_is_stale(cli, applied):
    edit(applied / "inventory/people.yaml", "title: VP Engineering", "title: CTO")
    assert cli("plan", "--out", "plan.json", cwd=applied).exit_code == 0
    first = cli("apply", "plan.json", cwd=applied)
    assert first.exit_code == 0, first.stderr
    assert "Apply complete: 0 created, 1 updated, 0 deleted." in first.stdout
    after_first = versions(applied / DB)

    second = cli("apply", "plan.json", cwd=applied)

    assert second.exit_code == 3
    assert "plan is stale" in second.stderr
    assert "entity 'employee:bob.okafor' changed" in second.stderr
    assert versions(applied / DB) == after_first


def test_apply_twice_from_empty_scope(cli, repo):
    """A plan made against an empty scope must not create everything twice."""
    assert cli("plan", "--out", "plan.json", cwd=repo).exit_code == 0
    assert cli("apply", "plan.json", cwd=repo).exit_code == 0
    after_first = versions(repo / DB)

    second = cli("apply", "plan.json", cwd=repo)

    assert second.exit_code == 3
    assert versions(repo / DB) == after_first


def test_plan_without_changes_applies_as_noop(cli, applied):
    assert cli("plan", "--out", "plan.json", cwd=applied).exit_code == 0
    before = versions(applied / DB)
    for _ in range(2):
        result = cli("apply", "plan.json", cwd=applied)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == "No changes. Nothing to apply.\n"
    assert versions(applied / DB) == before


def test_stale_after_inventory_edit(cli, applied):
    assert cli("plan", "--out", "plan.json", cwd=applied).exit_code == 0
    edit(applied / "inventory/people.yaml", "title: VP Engineering", "title: CTO")
    before = versions(applied / DB)

    result = cli("apply", "plan.json", cwd=applied)

    assert result.exit_code == 3
    assert result.stderr.startswith(
        "Error: plan is stale: the inventory on disk no longer matches the plan "
        "(entity 'employee:bob.okafor' changed); run plan again"
    )
    assert versions(applied / DB) == before


def test_stale_after_scope_change(cli, repo):
    assert cli("plan", "--out", "plan.json", cwd=repo).exit_code == 0
    edit(repo / "j1gitops.yaml", f"scope: {SCOPE}", "scope: another-scope")
    result = cli("apply", "plan.json", cwd=repo)
    assert result.exit_code == 3
    assert f"it was made for scope '{SCOPE}'" in result.stderr
    assert not (repo / DB).exists()


def test_moving_entity_keeps_plan_fresh(cli, applied):
    edit(applied / "inventory/people.yaml", "title: VP Engineering", "title: CTO")
    assert cli("plan", "--out", "plan.json", cwd=applied).exit_code == 0
    policies = applied / "inventory/policies.yaml"
    text = policies.read_text()
    start = text.index("  - _key: policy:access-control")
    end = text.index("  - _key: policy:device-security")
    policies.write_text(text[:start] + text[end:])
    (applied / "inventory/moved.yaml").write_text("entities:\n" + text[start:end])

    result = cli("apply", "plan.json", cwd=applied)

    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--target", "local"], "--target"),
        (["--local-path", "other.db"], "--local-path"),
        (["--config", "j1gitops.yaml"], "--config"),
        (["--strict"], "--strict/--no-strict"),
        (["--allow-deletes"], "--allow-deletes"),
        (["--allow-empty"], "--allow-empty"),
        (["--base-ref", "HEAD"], "--base-ref"),
    ],
)
def test_plan_changing_options_rejected(cli, repo, options, named):
    assert cli("plan", "--out", "plan.json", cwd=repo).exit_code == 0
    result = cli("apply", "plan.json", *options, cwd=repo)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {named} cannot be combined with a saved plan, because the plan file "
        "fixes them; run plan again with the options you want\n"
    )
    assert not (repo / DB).exists()


def test_plan_file_with_paths_rejected(cli, repo):
    assert cli("plan", "--out", "plan.json", cwd=repo).exit_code == 0
    result = cli("apply", "plan.json", "inventory", cwd=repo)
    assert result.exit_code == 1
    assert "must be the only argument of apply" in result.stderr


def test_edited_plan_fails_checksum(cli, repo):
    assert cli("plan", "--out", "plan.json", cwd=repo).exit_code == 0
    path = repo / "plan.json"
    document = json.loads(path.read_text())
    document["plan"]["changes"] = document["plan"]["changes"][1:]
    path.write_text(json.dumps(document, indent=2))
    result = cli("apply", "plan.json", cwd=repo)
    assert result.exit_code == 1
    assert "failed its checksum: it was edited or is incomplete" in result.stderr
    assert not (repo / DB).exists()


def test_truncated_plan_rejected(cli, repo):
    assert cli("plan", "--out", "plan.json", cwd=repo).exit_code == 0
    path = repo / "plan.json"
    path.write_text(path.read_text()[:2000])
    result = cli("apply", "plan.json", cwd=repo)
    assert result.exit_code == 1
    assert "plan.json is not valid JSON" in result.stderr


def test_other_format_version_rejected(cli, repo):
    assert cli("plan", "--out", "plan.json", cwd=repo).exit_code == 0
    path = repo / "plan.json"
    path.write_text(
        path.read_text().replace('"format_version": 1', '"format_version": 2', 1)
    )
    result = cli("show", "plan.json", cwd=repo)
    assert result.exit_code == 1
    assert "has plan format version 2" in result.stderr


def test_json_inventory_file_is_not_a_plan(tmp_path):
    path = tmp_path / "devices.json"
    path.write_text('{"entities": [], "relationships": []}')
    assert not is_plan_file(str(path))
    assert not is_plan_file(str(tmp_path / "missing.json"))


def _saved(plan: Plan) -> SavedPlan:
    digest = StateDigest("sha256:0")
    return SavedPlan(plan=plan, options={}, live=digest, desired=digest)


def test_write_is_atomic(tmp_path):
    path = tmp_path / "plan.json"
    write_plan_file(str(path), _saved(Plan(scope="s", target="local")))
    good = path.read_text()
    broken = _saved(Plan(scope="s", target="local"))
    broken.options = {"unserialisable": object()}

    with pytest.raises(TypeError):
        write_plan_file(str(path), broken)

    assert path.read_text() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_show_formats(cli, repo):
    assert cli("plan", "--out", "plan.json", cwd=repo).exit_code == 0
    text = cli("show", "plan.json", "--color", "never", cwd=repo)
    assert text.exit_code == 0
    assert text.stdout.startswith(
        f"Saved plan for scope '{SCOPE}' (target local), made "
    )
    assert "Plan: " in text.stdout
    markdown = cli("show", "plan.json", "--format", "markdown", cwd=repo)
    assert markdown.stdout.startswith(f"<!-- j1gitops:plan scope={SCOPE} -->\n")
    assert "saved plan `plan.json`" in markdown.stdout
    shown = cli("show", "plan.json", "--format", "json", cwd=repo)
    assert json.loads(shown.stdout) == json.loads((repo / "plan.json").read_text())


def test_guard_saves_no_plan(cli, applied):
    (applied / "inventory/devices.yaml").unlink()
    result = cli("plan", "--out", "plan.json", cwd=applied)
    assert result.exit_code == 4
    assert "no plan was saved" in result.stderr
    assert not (applied / "plan.json").exists()


def test_saved_plan_against_emulator(cli, repo, monkeypatch, tmp_path):
    server_module = pytest.importorskip("j1gitops.emulator.server")
    from j1gitops.emulator.app import EmulatorOptions

    options = EmulatorOptions(
        state=str(tmp_path / "emulator.db"), api_key=SECRET, account_id="acct-test"
    )
    with server_module.EmulatorServer(options) as server:
        monkeypatch.setenv("J1_API_KEY", SECRET)
        monkeypatch.setenv("J1_ACCOUNT_ID", "acct-test")
        monkeypatch.setenv("J1_API_BASE_URL", server.url)
        monkeypatch.setenv("J1_GRAPHQL_URL", server.graphql_url)
        planned = cli("plan", "--target", "jupiterone", "--out", "plan.json", cwd=repo)
        assert planned.exit_code == 0, planned.stderr
        text = (repo / "plan.json").read_text()
        first = cli("apply", "plan.json", cwd=repo)
        second = cli("apply", "plan.json", cwd=repo)
    assert SECRET not in text
    assert json.loads(text)["target"] == {
        "name": "jupiterone",
        "location": "account acct-test",
    }
    assert first.exit_code == 0, first.stderr
    assert second.exit_code == 3
    assert "plan is stale" in second.stderr


def reseal(path: Path, change) -> None:
    """Edit a saved plan and recompute its checksum, as a forger would."""
    from j1gitops.plan.planfile import _hash

    document = json.loads(path.read_text())
    document.pop("checksum")
    change(document)
    document["checksum"] = "sha256:" + _hash(document)
    path.write_text(json.dumps(document))


def test_forged_plan_with_other_changes_refused(cli, applied):
    edit(applied / "inventory/people.yaml", "title: VP Engineering", "title: CTO")
    assert cli("plan", "--out", "plan.json", cwd=applied).exit_code == 0
    reseal(applied / "plan.json", lambda d: d["plan"].update(changes=[]))
    shown = cli("show", "plan.json", cwd=applied)
    assert "No changes." in shown.stdout
    result = cli("apply", "plan.json", cwd=applied)
    assert result.exit_code == 3
    assert "its changes are not the ones this inventory and scope give" in result.stderr
    assert (
        entity_property(applied / DB, "employee:bob.okafor", "title")
        == "VP Engineering"
    )


def test_plan_field_of_wrong_type_is_one_line(cli, applied):
    assert cli("plan", "--out", "plan.json", cwd=applied).exit_code == 0
    reseal(applied / "plan.json", lambda d: d.update(plan=None))
    result = cli("apply", "plan.json", cwd=applied)
    assert result.exit_code == 1
    assert "internal error" not in result.stderr
    assert "plan.json" in result.stderr
