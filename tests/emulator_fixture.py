"""Pytest fixtures that run the J1 API emulator in a thread on a free port.

Import them into a conftest.py (or a test module) to use them::

    from emulator_fixture import j1_emulator, j1_emulator_factory  # noqa: F401
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from j1gitops.emulator import EmulatorOptions, EmulatorServer, parse_fault
from j1gitops.store.sqlite import Store
from j1gitops.targets.jupiterone import JupiterOneTarget

# Retries as in production, but with backoff in milliseconds so tests stay fast.
FAST_CLIENT = {
    "backoff_factor": 0.01,
    "backoff_jitter": 0.01,
    "backoff_max": 0.1,
    "read_timeout": 10.0,
}
FAST_SYNC = {"poll_interval": 0.02, "max_poll_interval": 0.1, "time_limit": 30.0}
FAST_READER = {"poll_interval": 0.01}


@dataclass
class EmulatorHandle:
    """A running emulator, its URLs and the one key and account it accepts."""

    server: EmulatorServer
    api_key: str
    account_id: str
    state_path: Path

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def graphql_url(self) -> str:
        return self.server.graphql_url

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point j1gitops at this emulator."""
        return {
            "J1_API_KEY": self.api_key,
            "J1_ACCOUNT_ID": self.account_id,
            "J1_API_BASE_URL": self.url,
            "J1_GRAPHQL_URL": self.graphql_url,
        }

    def target(self, **options) -> JupiterOneTarget:
        """Return a JupiterOneTarget for this emulator with fast retries."""
        options.setdefault("client_options", FAST_CLIENT)
        options.setdefault("sync_options", FAST_SYNC)
        options.setdefault("reader_options", FAST_READER)
        return JupiterOneTarget.from_environment(self.env, **options)

    def set_faults(self, *specs: str, seed: int = 0) -> None:
        self.server.app.faults.set_rules([parse_fault(spec) for spec in specs], seed)

    @contextmanager
    def store(self) -> Iterator[Store]:
        """Hold the emulator's store lock and yield its store, to inspect it."""
        with self.server.app.backend.lock:
            yield self.server.store

    @property
    def request_count(self) -> int:
        return self.server.app.stats["requests"]


@pytest.fixture
def j1_emulator_factory(tmp_path):
    """Start emulators with chosen ``EmulatorOptions`` fields; all stop at teardown."""
    running: list[EmulatorServer] = []

    def start(**options) -> EmulatorHandle:
        api_key = options.pop("api_key", None) or secrets.token_hex(20)
        account = options.pop("account_id", None) or "j1gitops-test-account"
        state = Path(
            options.pop("state", None) or tmp_path / f"emulator{len(running)}.db"
        )
        faults = [parse_fault(spec) for spec in options.pop("faults", [])]
        server = EmulatorServer(
            EmulatorOptions(
                state=str(state),
                api_key=api_key,
                account_id=account,
                faults=faults,
                **options,
            )
        ).start()
        running.append(server)
        return EmulatorHandle(server, api_key, account, state)

    yield start
    for server in running:
        server.close()


@pytest.fixture
def j1_emulator(j1_emulator_factory) -> EmulatorHandle:
    """One emulator with default options, on a free port of 127.0.0.1."""
    return j1_emulator_factory()
