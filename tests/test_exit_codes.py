"""Every exit code of every command, as docs/exit-codes.md lists them.

0 success (no changes with --detailed-exitcode), 1 error, 2 changes present with
--detailed-exitcode, 3 stale saved plan, 4 deletion guard, 130 interrupted.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from j1gitops.store.sqlite import Store

PROMPT = "Only 'yes' will be accepted: "


def break_file(repo: Path) -> None:
    (repo / "inventory/devices.yaml").write_text("entities: [\n")


def delete_many(repo: Path) -> None:
    """Remove a file whose deletes exceed the example config's max_count of 10."""
    (repo / "inventory/devices.yaml").unlink()


def apply_now(cli, repo: Path) -> None:
    result = cli("apply", "--auto-approve", cwd=repo)
    assert result.exit_code == 0, result.stderr


def test_version_and_usage_errors(cli, tmp_path):
    assert cli("--version", cwd=tmp_path).exit_code == 0
    assert cli("no-such-command", cwd=tmp_path).exit_code == 1
    assert cli("plan", "--no-such-option", cwd=tmp_path).exit_code == 1
    assert (
        cli("plan", "--detailed-exitcode", "--format", "xml", cwd=tmp_path).exit_code
        == 1
    )
    assert cli("plan", "--config", "missing.yaml", cwd=tmp_path).exit_code == 1


def test_validate_codes(cli, example_repo):
    assert cli("validate", cwd=example_repo).exit_code == 0
    assert cli("validate", "--format", "yaml", cwd=example_repo).exit_code == 1
    break_file(example_repo)
    assert cli("validate", cwd=example_repo).exit_code == 1


def test_validate_github_annotations(cli, example_repo):
    break_file(example_repo)
    result = cli("validate", "--format", "github", cwd=example_repo)
    assert result.exit_code == 1
    (line,) = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("::error file=inventory/devices.yaml,")
    ]
    assert line.startswith("::error file=inventory/devices.yaml,line=2,col=1,title=")
    assert "::invalid YAML" in line


def test_plan_codes(cli, example_repo):
    assert cli("plan", cwd=example_repo).exit_code == 0
    assert cli("plan", "--detailed-exitcode", cwd=example_repo).exit_code == 2
    apply_now(cli, example_repo)
    assert cli("plan", "--detailed-exitcode", cwd=example_repo).exit_code == 0


def test_plan_error_wins_over_detailed_exitcode(cli, example_repo):
    break_file(example_repo)
    assert cli("plan", "--detailed-exitcode", cwd=example_repo).exit_code == 1


def test_plan_target_error(cli, example_repo):
    result = cli("plan", "--target", "jupiterone", cwd=example_repo)
    assert result.exit_code == 1
    assert "J1_API_KEY" in result.stderr


def test_plan_guard_code(cli, example_repo):
    apply_now(cli, example_repo)
    delete_many(example_repo)
    assert cli("plan", cwd=example_repo).exit_code == 4
    assert cli("plan", "--detailed-exitcode", cwd=example_repo).exit_code == 4
    allowed = cli("plan", "--detailed-exitcode", "--allow-deletes", cwd=example_repo)
    assert allowed.exit_code == 2


def test_apply_codes(cli, example_repo):
    assert cli("apply", cwd=example_repo).exit_code == 1  # no terminal to confirm on
    assert cli("apply", "--auto-approve", cwd=example_repo).exit_code == 0
    assert cli("apply", "--auto-approve", cwd=example_repo).exit_code == 0  # no changes
    delete_many(example_repo)
    assert cli("apply", "--auto-approve", cwd=example_repo).exit_code == 4
    break_file(example_repo)
    assert cli("apply", "--auto-approve", cwd=example_repo).exit_code == 1


def test_apply_plan_file_codes(cli, example_repo):
    assert cli("plan", "--out", "plan.json", cwd=example_repo).exit_code == 0
    assert cli("apply", "plan.json", cwd=example_repo).exit_code == 0
    assert cli("apply", "plan.json", cwd=example_repo).exit_code == 3
    assert (
        cli("apply", "plan.json", "--target", "local", cwd=example_repo).exit_code == 1
    )
    assert cli("apply", "missing-plan.json", cwd=example_repo).exit_code == 1


def test_show_codes(cli, example_repo):
    assert cli("plan", "--out", "plan.json", cwd=example_repo).exit_code == 0
    assert cli("show", "plan.json", cwd=example_repo).exit_code == 0
    assert cli("show", "plan.json", "--format", "xml", cwd=example_repo).exit_code == 1
    assert cli("show", "missing.json", cwd=example_repo).exit_code == 1
    assert cli("show", "inventory/people.yaml", cwd=example_repo).exit_code == 1


def _read_until(stream, text: str, timeout: float = 30.0) -> str:
    """Read a pipe until ``text`` appears; fail after ``timeout`` seconds."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {text!r}; got {seen[-500:]!r}"
        ready, _, _ = select.select([stream], [], [], remaining)
        if ready:
            chunk = os.read(stream.fileno(), 4096)
            assert chunk, f"stream closed before {text!r}; got {seen[-500:]!r}"
            seen += chunk
    return seen.decode()


def _apply_on_terminal(repo: Path, stdout_path: Path):
    """Start ``apply`` with a pseudo-terminal as stdin; return it at the prompt."""
    controller, terminal = os.openpty()
    with open(stdout_path, "w") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "j1gitops", "apply"],
            cwd=repo,
            stdin=terminal,
            stdout=stdout,
            stderr=subprocess.PIPE,
        )
    os.close(terminal)
    _read_until(process.stderr, PROMPT)
    return process, controller


def test_apply_cancelled_at_prompt(example_repo, tmp_path):
    process, controller = _apply_on_terminal(example_repo, tmp_path / "out.txt")
    os.write(controller, b"no\n")
    _, stderr = process.communicate(timeout=30)
    os.close(controller)
    assert process.returncode == 1
    assert b"Apply cancelled; nothing was changed." in stderr
    assert not (example_repo / ".j1gitops/local.db").exists()


def test_apply_interrupted_exits_130(example_repo, tmp_path):
    process, controller = _apply_on_terminal(example_repo, tmp_path / "out.txt")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    os.close(controller)
    assert process.returncode == 130
    assert stderr.strip().endswith(b"Interrupted.")
    assert not (example_repo / ".j1gitops/local.db").exists()


def test_apply_confirmed_on_terminal(example_repo, tmp_path):
    process, controller = _apply_on_terminal(example_repo, tmp_path / "out.txt")
    os.write(controller, b"yes\n")
    process.communicate(timeout=60)
    os.close(controller)
    assert process.returncode == 0
    with Store(example_repo / ".j1gitops/local.db") as store:
        assert store.count("acme-widgets-inventory")[0] >= 40


@pytest.mark.parametrize("code", [0, 1, 2, 3, 4, 130])
def test_exit_code_table_lists_code(code):
    table = (Path(__file__).parents[1] / "docs/exit-codes.md").read_text()
    assert f"\n| {code} |" in table
