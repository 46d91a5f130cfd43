"""The CLI end to end on a copy of the example inventory, against the local target."""

from __future__ import annotations

import json
import re


def summary_line(output: str) -> str:
    return [
        line
        for line in output.splitlines()
        if line.startswith(("Plan:", "No changes."))
    ][-1]


def test_plan_apply_plan_edit_delete(cli, example_repo):
    first = cli("plan", cwd=example_repo)
    assert first.exit_code == 0, first.stderr
    created = re.match(
        r"Plan: (\d+) to create, 0 to update, 0 to delete\.", summary_line(first.stdout)
    )
    assert created and int(created.group(1)) >= 80
    assert not (example_repo / ".j1gitops/local.db").exists()  # plan never writes

    applied = cli("apply", "--auto-approve", cwd=example_repo)
    assert applied.exit_code == 0, applied.stderr
    assert (
        f"Apply complete: {created.group(1)} created, 0 updated, 0 deleted."
        in applied.stdout
    )

    again = cli("plan", "--detailed-exitcode", cwd=example_repo)
    assert again.exit_code == 0, again.stderr
    assert summary_line(again.stdout) == "No changes."

    people = example_repo / "inventory/people.yaml"
    people.write_text(
        people.read_text().replace("title: Security Engineer", "title: CISO")
    )
    edited = cli("plan", "--detailed-exitcode", "--format", "json", cwd=example_repo)
    assert edited.exit_code == 2
    document = json.loads(edited.stdout)
    (change,) = document["changes"]
    assert (change["action"], change["key"]) == ("update", "employee:carla.mendes")
    assert change["properties"] == [
        {
            "name": "title",
            "change": "changed",
            "before": "Security Engineer",
            "after": "CISO",
        }
    ]

    (example_repo / "inventory/policies.yaml").unlink()
    deleted = cli("plan", "--format", "json", cwd=example_repo)
    document = json.loads(deleted.stdout)
    deletes = sorted(
        (c["kind"], c["key"]) for c in document["changes"] if c["action"] == "delete"
    )
    assert deletes == [
        ("entity", "policy:acceptable-use"),
        ("entity", "policy:access-control"),
        ("entity", "policy:device-security"),
        ("entity", "policy:incident-response"),
        ("relationship", "employee:alice.nguyen|approved|policy:acceptable-use"),
        ("relationship", "employee:carla.mendes|approved|policy:access-control"),
        ("relationship", "employee:carla.mendes|approved|policy:device-security"),
    ]
    assert document["summary"]["update"] == 1


def test_broken_file_never_becomes_deletes(cli, example_repo):
    assert cli("apply", "--auto-approve", cwd=example_repo).exit_code == 0
    (example_repo / "inventory/devices.yaml").write_text("entities: [\n")
    result = cli("plan", cwd=example_repo)
    assert result.exit_code == 1
    assert "inventory/devices.yaml:" in result.stderr
    assert "nothing was planned" in result.stderr
    assert "delete" not in result.stdout


def test_apply_without_terminal_needs_auto_approve(cli, example_repo):
    result = cli("apply", cwd=example_repo)
    assert result.exit_code == 1
    assert "pass --auto-approve" in result.stderr
    assert not (example_repo / ".j1gitops/local.db").exists()


def test_usage_error_exits_one_not_two(cli, example_repo):
    result = cli("plan", "--detailed-exitcode", "--no-such-flag", cwd=example_repo)
    assert result.exit_code == 1
    assert "No such option: --no-such-flag" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_format_is_one_line(cli, example_repo):
    result = cli("plan", "--format", "xml", cwd=example_repo)
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == "Error: invalid --format 'xml'; use one of text, markdown, json"
    )


def test_plan_output_on_stdout_diagnostics_on_stderr(cli, example_repo):
    people = example_repo / "inventory/people.yaml"
    people.write_text(people.read_text() + "\n# trailing\n")
    (example_repo / "inventory/extra.yaml").write_text(
        "- _key: vendor:zip-code-corp\n  _type: acme_vendor\n  _class: Vendor\n"
        "  name: Zip\n  displayName: Zip\n  category: Other\n  zip: 02134\n"
    )
    result = cli("plan", cwd=example_repo)
    assert result.exit_code == 0, result.stderr
    assert "inventory/extra.yaml:7:8: warning:" in result.stderr
    assert "warning" not in result.stdout


def test_version_and_help(cli, tmp_path):
    version = cli("--version", cwd=tmp_path)
    assert version.exit_code == 0
    assert version.stdout.startswith("j1gitops ")
    for command in ("validate", "plan", "apply"):
        shown = cli(command, "--help", cwd=tmp_path)
        assert shown.exit_code == 0
        assert "Usage" in shown.stdout


def test_full_disk_is_one_line_error(example_repo):
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        process = subprocess.run(
            [sys.executable, "-m", "j1gitops", "plan"],
            cwd=example_repo,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert process.returncode == 1
    assert process.stderr.strip().splitlines()[-1] == (
        "Error: input or output failed: No space left on device"
    )
    assert "Traceback" not in process.stderr


def test_plan_leaves_foreign_database_alone(cli, example_repo):
    import sqlite3

    path = example_repo / "foreign.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE invoices (id INTEGER)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    result = cli("plan", "--local-path", str(path), cwd=example_repo)
    assert result.exit_code == 1
    assert "is not a j1gitops local store" in result.stderr
    assert path.read_bytes() == before


def test_unknown_color_rejected(cli, example_repo):
    result = cli("plan", "--color", "bogus", cwd=example_repo)
    assert result.exit_code == 1
    assert "invalid --color 'bogus'; use auto, always or never" in result.stderr


def test_plan_out_inside_inventory_rejected(cli, example_repo):
    result = cli("plan", "--out", "inventory/plan.json", cwd=example_repo)
    assert result.exit_code == 1
    assert "is inside the inventory path" in result.stderr
    assert not (example_repo / "inventory/plan.json").exists()


def test_path_arguments_relative_to_working_directory(cli, example_repo):
    import shutil

    sub = example_repo / "sub"
    sub.mkdir()
    for name in ("inventory", "data"):
        shutil.copytree(example_repo / name, sub / name)
    shutil.copy(example_repo / "j1gitops.yaml", sub / "j1gitops.yaml")
    result = cli(
        "validate", "sub/inventory", "--config", "sub/j1gitops.yaml", cwd=example_repo
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "6 file(s)" in result.stderr
