"""Deletion guards: protected entities, delete limits and the empty inventory.

The CLI tests use a scope of ten policies in a git repository; the table tests
call ``check_guards`` on plans built in place.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from gitrepo import git

from j1gitops.config import DeleteGuard
from j1gitops.plan.guards import Limits, check_guards, strictest_limits
from j1gitops.plan.model import Action, Change, Kind, Plan
from j1gitops.store.sqlite import Store

SCOPE = "guard-test"
DB = ".j1gitops/local.db"


def policy(number: int, protect: bool = False) -> dict:
    entity = {
        "_key": f"policy:test-{number:02d}",
        "_type": "acme_policy",
        "_class": "Policy",
        "name": f"test-{number:02d}",
        "displayName": f"Test policy {number}",
        "title": f"Test policy {number}",
        "summary": "A policy for the guard tests.",
        "content": "The text of the policy.",
    }
    if protect:
        entity["_j1gitops"] = {"protect": True}
    return entity


def write_policies(repo: Path, numbers, protected=()) -> None:
    entities = [policy(number, number in protected) for number in numbers]
    path = repo / "inventory/policies.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"entities": entities}, sort_keys=False))


def write_config(repo: Path, deletes: str = "") -> None:
    (repo / "j1gitops.yaml").write_text(f"scope: {SCOPE}\ntarget: local\n{deletes}")


@pytest.fixture
def repo(cli, tmp_path: Path) -> Path:
    """Ten policies, the third protected, applied and committed on ``main``."""
    write_config(tmp_path, "deletes:\n  max_percent: 25\n")
    write_policies(tmp_path, range(1, 11), protected={3})
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / ".gitignore").write_text(".j1gitops/\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "policies")
    result = cli("apply", "--auto-approve", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    return tmp_path


def live_count(repo: Path) -> int:
    with Store(repo / DB) as store:
        entities, _ = store.read_scope(SCOPE)
    return len(entities)


def test_protected_entity_removed_fails(cli, repo):
    write_policies(repo, [n for n in range(1, 11) if n != 3])
    result = cli("plan", cwd=repo)
    assert result.exit_code == 4
    assert result.stderr == (
        "Error: the plan deletes protected entity acme_policy 'policy:test-03' "
        "(marked in inventory/policies.yaml:18 at HEAD); remove its "
        "'_j1gitops: {protect: true}' in a commit of its own first, then delete "
        "the entity; this plan cannot be applied\n"
    )
    assert "[protected]" in result.stdout


def test_protected_entity_fails_with_allow_deletes(cli, repo):
    write_policies(repo, [n for n in range(1, 11) if n != 3])
    for command in (("plan",), ("apply", "--auto-approve")):
        result = cli(*command, "--allow-deletes", cwd=repo)
        assert result.exit_code == 4
        assert "protected entity acme_policy 'policy:test-03'" in result.stderr
    assert live_count(repo) == 10


def test_protected_removal_committed_fails_against_base(cli, repo):
    git(repo, "checkout", "-q", "-b", "remove-policy")
    write_policies(repo, [n for n in range(1, 11) if n != 3])
    git(repo, "commit", "-q", "-am", "remove policy 3")
    result = cli("plan", "--base-ref", "main", cwd=repo)
    assert result.exit_code == 4
    assert "(marked in inventory/policies.yaml:18 at main)" in result.stderr


def test_marker_removed_first_then_delete_passes(cli, repo):
    write_policies(repo, range(1, 11))
    git(repo, "commit", "-q", "-am", "unprotect policy 3")
    assert cli("apply", "--auto-approve", cwd=repo).exit_code == 0
    write_policies(repo, [n for n in range(1, 11) if n != 3])
    result = cli("plan", "--detailed-exitcode", cwd=repo)
    assert result.exit_code == 2, result.stderr
    assert "Plan: 0 to create, 0 to update, 1 to delete." in result.stdout


def test_forty_percent_delete_needs_allow_deletes(cli, repo):
    write_policies(repo, range(1, 7), protected={3})
    result = cli("plan", cwd=repo)
    assert result.exit_code == 4
    assert result.stderr == (
        f"Error: the plan deletes 4 of the 10 objects in scope '{SCOPE}' (40%), more "
        "than the limit of 25% (deletes.max_percent); review the deletes and pass "
        "--allow-deletes if they are intended; this plan cannot be applied\n"
    )
    assert "Plan: 0 to create, 0 to update, 4 to delete." in result.stdout

    applied = cli("apply", "--auto-approve", cwd=repo)
    assert applied.exit_code == 4
    assert live_count(repo) == 10

    allowed = cli("plan", "--allow-deletes", "--detailed-exitcode", cwd=repo)
    assert allowed.exit_code == 2, allowed.stderr


def test_max_count(cli, repo):
    write_config(repo, "deletes:\n  max_count: 1\n")
    write_policies(repo, [1, 2, 3, 4, 5, 6, 7, 8], protected={3})
    result = cli("plan", cwd=repo)
    assert result.exit_code == 4
    assert (
        "the plan deletes 2 objects, more than the limit of 1 (deletes.max_count)"
        in (result.stderr)
    )


def test_raised_limits_wait_for_merge(cli, repo):
    write_config(repo, "deletes:\n  max_percent: 100\n")
    write_policies(repo, [1, 2, 3, 4, 5, 6, 7], protected={3})
    result = cli("plan", cwd=repo)
    assert result.exit_code == 4
    assert (
        "(30%), more than the limit of 25% (deletes.max_percent at HEAD; a limit "
        "raised in this change applies once it is merged)"
    ) in result.stderr

    git(repo, "commit", "-q", "-am", "raise the limit")
    merged = cli("plan", "--detailed-exitcode", cwd=repo)
    assert merged.exit_code == 2, merged.stderr


def test_removed_config_keeps_base_limits(cli, repo):
    write_policies(repo, [1, 2, 3, 4, 5, 6, 7], protected={3})
    git(repo, "checkout", "-q", "-b", "pr")
    git(repo, "mv", "j1gitops.yaml", "old.yaml")
    git(repo, "commit", "-q", "-am", "rename the config, delete three policies")
    (repo / "old.yaml").write_text(f"scope: {SCOPE}\ndeletes: {{max_percent: 99}}\n")
    result = cli("plan", "--base-ref", "main", "--config", "old.yaml", cwd=repo)
    assert result.exit_code == 4, result.stdout
    assert "more than the limit of 25% (deletes.max_percent at main" in result.stderr


def commit_and_apply(cli, folder: Path, message: str) -> None:
    """Make ``folder`` a git repository on ``main``, commit it and apply it."""
    git(folder, "init", "-q", "-b", "main")
    (folder / ".gitignore").write_text(".j1gitops/\n")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", message)
    assert cli("apply", "--auto-approve", cwd=folder).exit_code == 0


def test_deleted_config_keeps_base_limits(cli, tmp_path):
    (tmp_path / "j1gitops.yaml").write_text("deletes: {max_count: 1}\n")
    write_policies(tmp_path, range(1, 11))
    commit_and_apply(cli, tmp_path, "policies, at most one delete")
    git(tmp_path, "rm", "-q", "j1gitops.yaml")
    write_policies(tmp_path, range(1, 9))
    git(tmp_path, "commit", "-q", "-am", "drop the config and two policies")
    result = cli("plan", "--base-ref", "HEAD~1", cwd=tmp_path)
    assert result.exit_code == 4
    assert "more than the limit of 1 (deletes.max_count at HEAD~1" in result.stderr


def test_config_added_in_change_keeps_default(cli, repo):
    (repo / "j1gitops.yaml").unlink()
    git(repo, "commit", "-q", "-am", "no config: the default limits")
    write_config(repo, "deletes:\n  max_percent: 100\n")
    write_policies(repo, [1, 2, 3, 4, 5, 6, 7], protected={3})
    result = cli("plan", cwd=repo)
    assert result.exit_code == 4
    assert "more than the limit of 20% (deletes.max_percent at HEAD" in result.stderr


def test_invalid_base_config_warns_and_defaults(cli, repo):
    (repo / "j1gitops.yaml").write_text(f"scope: {SCOPE}\nfuture_key: 1\n")
    git(repo, "commit", "-q", "-am", "a config for a newer version")
    write_config(repo, "deletes:\n  max_percent: 100\n")
    write_policies(repo, [1, 2, 3, 4, 5, 6, 7], protected={3})
    result = cli("plan", cwd=repo)
    assert result.exit_code == 4
    assert result.stderr.startswith(
        "warning: the config at the base revision is invalid"
    )
    assert "more than the limit of 20% (deletes.max_percent at HEAD" in result.stderr


def test_pathspec_magic_cannot_hide_markers(cli, repo):
    git(repo, "checkout", "-q", "-b", "pr")
    write_policies(repo, [n for n in range(1, 11) if n != 3])
    magic = repo / ":(exclude)inventory"
    magic.mkdir()
    (magic / "x.yaml").write_text("entities: []\n")
    write_config(repo, 'inventory: [inventory, ":(exclude)inventory"]\n')
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "hide the markers")
    result = cli("plan", "--base-ref", "main", cwd=repo)
    assert result.exit_code == 4
    assert "protected entity acme_policy 'policy:test-03'" in result.stderr


def test_moved_inventory_without_config_keeps_markers(cli, tmp_path):
    (tmp_path / "j1gitops.yaml").write_text("inventory: [assets]\n")
    write_policies(tmp_path, range(1, 4), protected={3})
    (tmp_path / "inventory").rename(tmp_path / "assets")
    commit_and_apply(cli, tmp_path, "policies in assets/")
    git(tmp_path, "mv", "assets", "inventory")
    git(tmp_path, "rm", "-q", "j1gitops.yaml")
    write_policies(tmp_path, [1, 2])
    git(tmp_path, "commit", "-q", "-am", "move, drop the config and policy 3")
    result = cli("plan", "--base-ref", "HEAD~1", cwd=tmp_path)
    assert result.exit_code == 4
    assert "protected entity acme_policy 'policy:test-03'" in result.stderr


def test_default_limit_is_twenty_percent(cli, repo):
    write_config(repo)
    write_policies(repo, [1, 2, 3, 4, 5, 6, 7, 8], protected={3})
    assert cli("plan", cwd=repo).exit_code == 0  # 2 of 10: at the limit
    write_policies(repo, [1, 2, 3, 4, 5, 6, 7], protected={3})
    result = cli("plan", cwd=repo)
    assert result.exit_code == 4
    assert "more than the limit of 20% (deletes.max_percent)" in result.stderr


def test_several_guards_all_reported(cli, repo):
    write_policies(repo, [1, 2])
    result = cli("plan", cwd=repo)
    assert result.exit_code == 4
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: the plan deletes protected entity")
    assert lines[0].endswith("[protected]")
    assert lines[1].endswith("[max-percent]")
    assert lines[2] == "Error: 2 deletion guards fired; this plan cannot be applied"


def test_empty_inventory_needs_allow_empty(cli, repo):
    (repo / "inventory/policies.yaml").unlink()
    git(repo, "commit", "-q", "-am", "remove every policy, protection included")
    result = cli("plan", "--allow-deletes", cwd=repo)
    assert result.exit_code == 4
    assert result.stderr.endswith(
        f"Error: the inventory is empty, but scope '{SCOPE}' contains 10 entities and 0 "
        "relationships, so the plan deletes all of them; check the inventory paths, "
        "or pass --allow-empty to empty the scope; this plan cannot be applied\n"
    )
    emptied = cli("apply", "--auto-approve", "--allow-empty", cwd=repo)
    assert emptied.exit_code == 0, emptied.stderr
    assert live_count(repo) == 0


def test_unknown_base_ref(cli, repo):
    result = cli("plan", "--base-ref", "no-such-branch", cwd=repo)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: invalid --base-ref 'no-such-branch': no such git commit in ."
    )


@pytest.mark.parametrize(
    ("current", "base", "expected"),
    [
        (DeleteGuard(), None, Limits(max_percent=20.0)),
        (
            DeleteGuard(max_percent=50),
            DeleteGuard(),
            Limits(max_percent=20.0, from_base=frozenset({"max_percent"})),
        ),
        (DeleteGuard(max_percent=5), DeleteGuard(), Limits(max_percent=5)),
        (
            DeleteGuard(max_count=10),
            DeleteGuard(max_percent=30),
            Limits(max_count=10, max_percent=30, from_base=frozenset({"max_percent"})),
        ),
        (
            DeleteGuard(max_count=10, max_percent=40),
            DeleteGuard(max_count=3, max_percent=50),
            Limits(max_count=3, max_percent=40, from_base=frozenset({"max_count"})),
        ),
    ],
)
def test_strictest_limits(current, base, expected):
    assert strictest_limits(current, base) == expected


def _plan(deletes: int, live: int, protected_key: str | None = None) -> Plan:
    changes = [
        Change(Kind.ENTITY, Action.DELETE, f"k{i}", "t", "not in the inventory")
        for i in range(deletes)
    ]
    if protected_key is not None:
        changes[0].key = protected_key
    return Plan(scope="s", target="local", changes=changes, live_entities=live)


@pytest.mark.parametrize(
    ("deletes", "live", "limits", "desired", "rules"),
    [
        (0, 10, DeleteGuard(), 10, []),
        (2, 10, DeleteGuard(), 8, []),
        (3, 10, DeleteGuard(), 7, ["max-percent"]),
        (3, 10, DeleteGuard(max_count=3), 7, []),
        (4, 10, DeleteGuard(max_count=3), 6, ["max-count"]),
        (
            4,
            10,
            DeleteGuard(max_count=3, max_percent=30),
            6,
            ["max-count", "max-percent"],
        ),
        (5, 10, DeleteGuard(max_percent=50), 5, []),
        (10, 10, DeleteGuard(max_percent=100), 0, ["empty"]),
        (0, 0, DeleteGuard(), 0, []),
    ],
)
def test_guard_table(deletes, live, limits, desired, rules):
    violations = check_guards(_plan(deletes, live), limits, desired)
    assert [violation.rule for violation in violations] == rules


def test_guard_allowances():
    plan = _plan(5, 10)
    assert check_guards(plan, DeleteGuard(), 5, allow_deletes=True) == []
    emptied = _plan(10, 10)
    assert [
        v.rule for v in check_guards(emptied, DeleteGuard(), 0, allow_deletes=True)
    ] == ["empty"]
    assert check_guards(emptied, DeleteGuard(), 0, allow_empty=True) == []


def test_protected_guard_ignores_allowances():
    plan = _plan(1, 10, protected_key="policy:keep-me")
    protected = {"policy:keep-me": "inventory/policies.yaml:4 at HEAD"}
    violations = check_guards(
        plan,
        DeleteGuard(),
        9,
        allow_deletes=True,
        allow_empty=True,
        protected=protected,
    )
    assert [violation.rule for violation in violations] == ["protected"]


DEVS_TEMPLATE = """\
entities:
{% for dev in data.devs %}
  - _key: "developer:{{ dev.login }}"
    _type: acme_developer
    _class: User
    name: "{{ dev.login }}"
    displayName: "{{ dev.login }}"
    active: true
    _j1gitops:
      protect: true
{% endfor %}
"""


def _templated_repo(cli, repo: Path, data_path: str) -> None:
    """Replace the policies with a template that protects one User per CSV row."""
    (repo / "inventory/policies.yaml").unlink()
    (repo / "inventory/devs.yaml.j2").write_text(DEVS_TEMPLATE)
    (repo / data_path).parent.mkdir(parents=True, exist_ok=True)
    (repo / data_path).write_text("login\nada\nalan\ngrace\n")
    write_config(repo, f"deletes:\n  max_percent: 100\ndata:\n  devs: {data_path}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "templated developers")
    result = cli("apply", "--auto-approve", "--allow-deletes", cwd=repo)
    assert result.exit_code == 0, result.stderr


def test_template_protected_row_removed_fails(cli, repo):
    _templated_repo(cli, repo, "data/devs.csv")
    (repo / "data/devs.csv").write_text("login\nada\ngrace\n")
    result = cli("plan", cwd=repo)
    assert result.exit_code == 4, result.stdout + result.stderr
    assert "protected entity acme_developer 'developer:alan'" in result.stderr
    assert "(marked in inventory/devs.yaml.j2:" in result.stderr


def test_template_protected_data_path_moved_fails(cli, repo):
    _templated_repo(cli, repo, "data/devs.csv")
    git(repo, "mv", "data/devs.csv", "data/team.csv")
    (repo / "data/team.csv").write_text("login\nada\ngrace\n")
    write_config(repo, "deletes:\n  max_percent: 100\ndata:\n  devs: data/team.csv\n")
    result = cli("plan", cwd=repo)
    assert result.exit_code == 4, result.stdout + result.stderr
    assert "protected entity acme_developer 'developer:alan'" in result.stderr


def test_template_protected_row_removed_committed(cli, repo):
    _templated_repo(cli, repo, "data/devs.csv")
    git(repo, "checkout", "-q", "-b", "remove-dev")
    (repo / "data/devs.csv").write_text("login\nada\ngrace\n")
    git(repo, "commit", "-q", "-am", "remove alan")
    result = cli("plan", "--base-ref", "main", cwd=repo)
    assert result.exit_code == 4, result.stdout + result.stderr
    assert "protected entity acme_developer 'developer:alan'" in result.stderr


def test_protected_survives_moving_the_inventory(cli, repo):
    git(repo, "mv", "inventory", "inv2")
    write_config(repo, "inventory: [inv2]\ndeletes:\n  max_percent: 25\n")
    kept = [n for n in range(1, 11) if n != 3]
    entities = [policy(number) for number in kept]
    (repo / "inv2/policies.yaml").write_text(
        yaml.safe_dump({"entities": entities}, sort_keys=False)
    )
    result = cli("plan", "--base-ref", "HEAD", cwd=repo)
    assert result.exit_code == 4
    assert "protected entity acme_policy 'policy:test-03'" in result.stderr


def test_protected_survives_an_empty_path_argument(cli, repo):
    (repo / "empty").mkdir()
    result = cli("plan", "empty", "--allow-empty", "--allow-deletes", cwd=repo)
    assert result.exit_code == 4
    assert "protected entity acme_policy 'policy:test-03'" in result.stderr
    assert live_count(repo) == 10


def test_broken_base_file_naming_entity_blocks(cli, repo):
    git(repo, "checkout", "-q", "-b", "broken")
    text = (repo / "inventory/policies.yaml").read_text()
    (repo / "inventory/policies.yaml").write_text(text + "  - [unclosed\n")
    git(repo, "commit", "-q", "-am", "a file that fails to load")
    git(repo, "checkout", "-q", "-b", "pr")
    write_policies(repo, [n for n in range(1, 11) if n != 3])
    git(repo, "commit", "-q", "-am", "fix the file and remove policy 3")
    result = cli("plan", "--base-ref", "broken", cwd=repo)
    assert result.exit_code == 4
    assert (
        "inventory/policies.yaml failed to load at broken and names the deleted "
        "entity acme_policy 'policy:test-03', so whether it is protected is unknown"
    ) in result.stderr
