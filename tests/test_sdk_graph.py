"""The integration SDK's graph folder: ``import sdk-graph`` and ``export --format
sdk-graph``, in the layout that ``j1-integration sync`` and ``visualize`` read."""

from __future__ import annotations

import json

import yaml

USER = {
    "_key": "okta-user:00u1a2b3c4",
    "_type": "okta_user",
    "_class": ["User"],
    "_rawData": [{"name": "default", "rawData": {"id": "00u1a2b3c4", "x": {"y": 1}}}],
    "name": "ada",
    "displayName": "Ada",
    "username": ["ada"],
    "email": ["ada@example.com"],
    "firstName": "Ada",
    "lastName": "Lovelace",
    "shortLoginId": ["ada"],
}
ACCOUNT = {
    "_key": "okta-account:acme",
    "_type": "okta_account",
    "_class": ["Account"],
    "name": "acme",
    "displayName": "Acme",
    "vendor": "Okta",
}
HAS = {
    "_key": "okta-account:acme|has|okta-user:00u1a2b3c4",
    "_type": "okta_account_has_user",
    "_class": "HAS",
    "_fromEntityKey": "okta-account:acme",
    "_toEntityKey": "okta-user:00u1a2b3c4",
    "displayName": "HAS",
}
MAPPED = {
    "_key": "okta-user:00u1a2b3c4|is|person",
    "_type": "okta_user_is_person",
    "_class": "IS",
    "_mapping": {
        "relationshipDirection": "FORWARD",
        "sourceEntityKey": "okta-user:00u1a2b3c4",
        "targetFilterKeys": [["_type", "email"]],
        "targetEntity": {"_type": "employee", "email": "ada@example.com"},
    },
}


def write_graph(root, step, name, document):
    path = root / ".j1-integration" / "graph" / step / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def sample_graph(root):
    write_graph(root, "fetch-users", "entities/5d0c.json", {"entities": [USER]})
    write_graph(root, "fetch-account", "entities/a1b2.json", {"entities": [ACCOUNT]})
    write_graph(
        root, "fetch-users", "relationships/77aa.json", {"relationships": [HAS, MAPPED]}
    )
    index = root / ".j1-integration/index/entities/okta_user/5d0c.json"
    index.parent.mkdir(parents=True)
    index.write_text(json.dumps({"entities": [USER]}))  # the SDK's index: not read


def test_import_sdk_graph(cli, tmp_path):
    sample_graph(tmp_path)
    result = cli("import", "sdk-graph", ".j1-integration", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    assert [e["_key"] for e in document["entities"]] == [
        "okta-account:acme",
        "okta-user:00u1a2b3c4",
    ]
    assert "_rawData" not in document["entities"][1]
    assert document["relationships"] == [HAS]
    assert "Skipped 1 mapped relationships (_mapping)" in result.stderr
    graph_only = cli("import", "sdk-graph", ".j1-integration/graph", cwd=tmp_path)
    assert graph_only.stdout == result.stdout


def test_duplicate_key_across_graph_files(cli, tmp_path):
    sample_graph(tmp_path)
    write_graph(tmp_path, "fetch-more", "entities/ffff.json", {"entities": [ACCOUNT]})
    result = cli("import", "sdk-graph", ".j1-integration", cwd=tmp_path)
    assert result.exit_code == 1
    assert "duplicate entity _key 'okta-account:acme', also in" in result.stderr
    assert "fetch-account/entities/a1b2.json" in result.stderr


def test_invalid_graph_file(cli, tmp_path):
    path = write_graph(tmp_path, "step", "entities/bad.json", {"entities": []})
    path.write_text('{"entities": [}\n')
    result = cli("import", "sdk-graph", ".j1-integration", cwd=tmp_path)
    assert result.exit_code == 1
    assert "bad.json:1:15: invalid JSON" in result.stderr
    missing = cli("import", "sdk-graph", "nowhere", cwd=tmp_path)
    assert "nowhere is not a folder" in missing.stderr


def test_export_sdk_graph_then_import_then_plan(cli, tmp_path):
    sample_graph(tmp_path)
    (tmp_path / "inventory").mkdir()
    (tmp_path / "j1gitops.yaml").write_text("scope: okta\nlocal:\n  path: local.db\n")
    imported = cli(
        "import",
        "sdk-graph",
        ".j1-integration",
        "-o",
        "inventory/okta.yaml",
        cwd=tmp_path,
    )
    assert imported.exit_code == 0, imported.stderr
    applied = cli("apply", "--auto-approve", cwd=tmp_path)
    assert applied.exit_code == 0, applied.stdout + applied.stderr

    exported = cli("export", "--format", "sdk-graph", "-o", "out", cwd=tmp_path)
    assert exported.exit_code == 0, exported.stderr
    step = tmp_path / "out/graph/j1gitops-export"
    assert sorted(str(p.relative_to(step)) for p in step.rglob("*.json")) == [
        "entities/okta_account.json",
        "entities/okta_user.json",
        "relationships/okta_account_has_user.json",
    ]
    users = json.loads((step / "entities/okta_user.json").read_text())
    assert list(users) == ["entities"]
    assert list(users["entities"][0])[:3] == ["_key", "_type", "_class"]

    again = cli("import", "sdk-graph", "out", "-o", "inventory/okta.yaml", cwd=tmp_path)
    assert again.exit_code == 0, again.stderr
    planned = cli("plan", cwd=tmp_path)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert planned.stdout.rstrip().endswith("No changes.")


def test_export_sdk_graph_refuses_an_existing_step(cli, tmp_path):
    sample_graph(tmp_path)
    (tmp_path / "inventory").mkdir()
    (tmp_path / "j1gitops.yaml").write_text("scope: okta\nlocal:\n  path: local.db\n")
    cli(
        "import",
        "sdk-graph",
        ".j1-integration",
        "-o",
        "inventory/okta.yaml",
        cwd=tmp_path,
    )
    cli("apply", "--auto-approve", cwd=tmp_path)
    first = cli("export", "--format", "sdk-graph", cwd=tmp_path)
    assert first.exit_code == 0, first.stderr
    assert (tmp_path / ".j1-integration/graph/fetch-users").is_dir()
    second = cli("export", "--format", "sdk-graph", cwd=tmp_path)
    assert second.exit_code == 1
    assert "j1gitops-export already contains files" in second.stderr


def test_deeply_nested_graph_file_is_one_line_error(cli, tmp_path):
    folder = tmp_path / "graph/step/entities"
    folder.mkdir(parents=True)
    (folder / "deep.json").write_text("[" * 100000 + "]" * 100000)
    result = cli("import", "sdk-graph", str(tmp_path), cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: {folder / 'deep.json'}: the JSON is nested"
    )
    assert len(result.stderr.splitlines()) == 1


def test_sdk_graph_skips_system_metadata(cli, tmp_path):
    metadata = {
        "_id": "9f1c",
        "_scope": "okta",
        "_source": "integration-managed",
        "_version": 3,
        "_createdOn": 1700000000000,
        "_beginOn": 1700000000000,
        "_accountId": "j1dev",
        "_deleted": False,
        "_integrationInstanceId": "c0ffee",
        "_rawDataHashes": "abc",
    }
    write_graph(
        tmp_path,
        "fetch-account",
        "entities/a1b2.json",
        {"entities": [{**ACCOUNT, **metadata}]},
    )
    write_graph(tmp_path, "fetch-users", "entities/5d0c.json", {"entities": [USER]})
    write_graph(
        tmp_path,
        "fetch-users",
        "relationships/77aa.json",
        {"relationships": [{**HAS, "_id": "77", "_scope": "okta", "_version": 1}]},
    )
    result = cli("import", "sdk-graph", ".j1-integration", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    assert document["entities"][0] == ACCOUNT
    assert document["relationships"] == [HAS]
    assert (
        "Skipped J1 metadata properties: _id, _scope, _source, _version, _createdOn, "
        "_beginOn, _accountId, _deleted, _integrationInstanceId, _rawDataHashes."
    ) in result.stderr
    assert "_rawData," not in result.stderr
