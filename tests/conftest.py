"""Shared fixtures: the real CLI in-process, a copy of the example inventory, and a
guard that fails any network connection outside the loopback interface."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from emulator_fixture import j1_emulator, j1_emulator_factory  # noqa: F401

from j1gitops.cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_address(address) -> None:
    if isinstance(address, (str, bytes)):  # a Unix socket path
        return
    host = address[0]
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        if host == "localhost":
            return
    raise AssertionError(f"test tried to connect to {host!r}; only loopback is allowed")


def _guarded_connect(self, address):
    _check_address(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check_address(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fail any test that connects anywhere but 127.0.0.0/8, ::1 or localhost."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


@pytest.fixture(autouse=True)
def no_j1_credentials(monkeypatch):
    """Keep real J1 credentials of the machine out of every test."""
    for name in (
        "J1_API_KEY",
        "J1_API_TOKEN",
        "J1_ACCOUNT_ID",
        "J1_REGION",
        "J1_API_BASE_URL",
        "J1_GRAPHQL_URL",
        "JUPITERONE_API_KEY",
        "JUPITERONE_ACCOUNT_ID",
        "JUPITERONE_ACCOUNT",
        "JUPITERONE_TOKEN",
        "NO_COLOR",
        "FORCE_COLOR",
    ):
        monkeypatch.delenv(name, raising=False)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run ``j1gitops ARGS`` in-process through ``main``, as the console script does."""

    def run(*args: str, cwd: Path | None = None, stdin: str = "") -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return CliResult(exit_info.value.code, out, err)

    return run


@pytest.fixture
def example_repo(tmp_path) -> Path:
    """A copy of the example repository: config, inventory and data files, no store."""
    shutil.copytree(REPO_ROOT / "inventory", tmp_path / "inventory")
    shutil.copytree(REPO_ROOT / "data", tmp_path / "data")
    shutil.copy(REPO_ROOT / "j1gitops.yaml", tmp_path / "j1gitops.yaml")
    return tmp_path
