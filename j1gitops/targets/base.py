"""The target protocol: where the inventory is planned against and applied to.

A target reads the live state of one scope and applies a desired state to it as
one DIFF synchronization. Targets never print; they report progress through the
callback they are given and return data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from j1gitops.inventory.model import EntityRef

# Receives one line of progress for stderr, such as "uploaded 500 entities".
Progress = Callable[[str], None]


def no_progress(message: str) -> None:
    """Discard progress messages."""


@dataclass
class LiveState:
    """The contents of one scope in a target, as J1 objects with system metadata."""

    entities: list[dict] = field(default_factory=list)
    relationships: list[dict] = field(default_factory=list)


@dataclass
class DesiredState:
    """The upload for one DIFF synchronization: J1 objects without system metadata.

    Entities carry ``_key``, ``_type``, ``_class`` and their properties;
    relationships also carry ``_fromEntityKey``/``_toEntityKey`` (or the ``Id``,
    ``Source`` and ``Scope`` forms for entities outside the scope).
    """

    entities: list[dict] = field(default_factory=list)
    relationships: list[dict] = field(default_factory=list)


@dataclass
class ApplyResult:
    """The target's report after an apply: J1's job counters and status."""

    status: str
    counts: dict[str, int] = field(default_factory=dict)
    job_id: str | None = None
    # Human-readable problems J1 reported, such as relationships it could not create.
    errors: list[str] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(
            value for name, value in self.counts.items() if name.endswith("Errors")
        )

    @property
    def succeeded(self) -> bool:
        return self.status == "FINISHED" and self.error_count == 0


class Target(Protocol):
    """A place that stores J1 data: the local SQLite store or a JupiterOne account."""

    name: str

    def read(self, scope: str) -> LiveState:
        """Return every entity and relationship with ``_source: api`` in ``scope``."""

    def missing_external(self, refs: list[EntityRef]) -> list[EntityRef]:
        """Return the external relationship ends (by ``_id``, or by source, scope and
        key) that do not exist in the target."""

    def apply(
        self, scope: str, desired: DesiredState, progress: Progress
    ) -> ApplyResult:
        """Make ``scope`` hold exactly ``desired``, as one DIFF synchronization."""

    def close(self) -> None:
        """Release connections and files."""
