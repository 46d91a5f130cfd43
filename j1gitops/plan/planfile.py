"""The saved-plan file that ``plan --out`` writes and ``apply FILE`` executes.

A saved plan is one JSON document (format version 1):

    format            "j1gitops-plan", so that ``apply`` can tell it from inventory
    format_version    1; a reader rejects any other version
    tool_version      the j1gitops version that wrote it
    created_at        UTC time of the plan, ISO 8601
    scope, target     what was planned against (``target.location`` is the store
                      path of the local target, or the J1 account id)
    options           the plan options that ``apply`` replays: inventory paths,
                      config path, target, strict, base_ref and the allowances
    git               commit of the inventory and whether it had uncommitted changes
                      (both null outside a git work tree)
    live_state        digest of every live object read from the target
    desired_state     digest of the upload computed from the inventory
    plan              the plan itself (``Plan.to_dict``)
    checksum          SHA-256 of the document without this field

The live digest keys each object by ``_key`` with ``_id@_version`` (or a content
hash when the target reports no ``_version``), so any write to the scope after
the plan makes the plan stale. The file contains inventory values but never a
credential: the target's API key is not part of anything written here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from j1gitops import __version__
from j1gitops.errors import LoadError
from j1gitops.normalize import canonical_json
from j1gitops.plan.model import Plan
from j1gitops.targets.base import DesiredState, LiveState

FILE_FORMAT = "j1gitops-plan"
FILE_FORMAT_VERSION = 1
# The format marker is written first, so the start of a file distinguishes a saved
# plan from a JSON inventory file without parsing all of it.
_FORMAT_PATTERN = re.compile(rb'"format"\s*:\s*"j1gitops-plan"')
_SNIFF_BYTES = 512
# Each object's token is cut to this many hex digits of SHA-256: enough to tell
# versions apart, short enough for scopes of many thousand objects.
_TOKEN_DIGITS = 16


@dataclass
class StateDigest:
    """Per-object tokens of one side of the diff, and one digest over all of them."""

    digest: str
    entities: dict[str, str] = field(default_factory=dict)
    relationships: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "digest": self.digest,
            "entity_count": len(self.entities),
            "relationship_count": len(self.relationships),
            "entities": self.entities,
            "relationships": self.relationships,
        }

    @classmethod
    def from_dict(cls, data: dict) -> StateDigest:
        return cls(data["digest"], data["entities"], data["relationships"])


def _hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def live_token(obj: dict) -> str:
    """Return ``_id@_version`` of a live object, or a hash of its content."""
    if obj.get("_id") is not None and obj.get("_version") is not None:
        return f"{obj['_id']}@{obj['_version']}"
    return "sha256:" + _hash(obj)[:_TOKEN_DIGITS]


def desired_token(obj: dict) -> str:
    return "sha256:" + _hash(obj)[:_TOKEN_DIGITS]


def _digest(entities: list[dict], relationships: list[dict], token) -> StateDigest:
    """Digest both lists. Duplicate keys all count toward the overall digest."""
    rows = sorted(
        [("entity", str(obj.get("_key")), token(obj)) for obj in entities]
        + [("relationship", str(obj.get("_key")), token(obj)) for obj in relationships]
    )
    return StateDigest(
        digest="sha256:" + _hash(rows),
        entities={key: value for kind, key, value in rows if kind == "entity"},
        relationships={
            key: value for kind, key, value in rows if kind == "relationship"
        },
    )


def digest_live(live: LiveState) -> StateDigest:
    return _digest(live.entities, live.relationships, live_token)


def digest_desired(desired: DesiredState) -> StateDigest:
    return _digest(desired.entities, desired.relationships, desired_token)


def describe_differences(
    before: StateDigest, after: StateDigest, limit: int = 5
) -> str:
    """Name the objects that differ between two digests, at most ``limit`` of them."""
    found = []
    for kind, old, new in (
        ("entity", before.entities, after.entities),
        ("relationship", before.relationships, after.relationships),
    ):
        for key in sorted(set(old) | set(new)):
            if key not in new:
                found.append(f"{kind} {key!r} removed")
            elif key not in old:
                found.append(f"{kind} {key!r} added")
            elif old[key] != new[key]:
                found.append(f"{kind} {key!r} changed")
    if not found:
        return "the objects differ"
    shown = ", ".join(found[:limit])
    more = len(found) - limit
    return f"{shown} and {more} more" if more > 0 else shown


@dataclass
class GitState:
    """The commit the inventory was read at. Both fields are None outside git."""

    commit: str | None = None
    dirty: bool | None = None


def git_output(root: str, *args: str) -> str | None:
    """Run ``git`` in ``root`` and return its stdout, or None when git fails or is absent."""
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except OSError:
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout


def read_git_state(root: str, paths: list[str]) -> GitState:
    """Return HEAD, and whether ``paths`` have uncommitted or untracked changes."""
    commit = git_output(root, "rev-parse", "--verify", "--quiet", "HEAD")
    if commit is None:
        return GitState()
    status = git_output(root, "status", "--porcelain", "--", *paths)
    return GitState(commit.strip(), None if status is None else bool(status.strip()))


@dataclass
class SavedPlan:
    """A plan with everything ``apply`` needs to check that it still holds."""

    plan: Plan
    options: dict[str, Any]
    live: StateDigest
    desired: StateDigest
    git: GitState = field(default_factory=GitState)
    target_location: str | None = None
    tool_version: str = __version__
    created_at: str = ""

    def to_dict(self) -> dict:
        document = {
            "format": FILE_FORMAT,
            "format_version": FILE_FORMAT_VERSION,
            "tool_version": self.tool_version,
            "created_at": self.created_at or _utc_now(),
            "scope": self.plan.scope,
            "target": {"name": self.plan.target, "location": self.target_location},
            "options": self.options,
            "git": {"commit": self.git.commit, "dirty": self.git.dirty},
            "live_state": self.live.to_dict(),
            "desired_state": self.desired.to_dict(),
            "plan": self.plan.to_dict(),
        }
        document["checksum"] = "sha256:" + _hash(document)
        return document

    @classmethod
    def from_dict(cls, document: dict) -> SavedPlan:
        return cls(
            plan=Plan.from_dict(document["plan"]),
            options=dict(document["options"]),
            live=StateDigest.from_dict(document["live_state"]),
            desired=StateDigest.from_dict(document["desired_state"]),
            git=GitState(document["git"]["commit"], document["git"]["dirty"]),
            target_location=document["target"]["location"],
            tool_version=document["tool_version"],
            created_at=document["created_at"],
        )


def _utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def write_plan_file(path: str, saved: SavedPlan) -> None:
    """Write the plan atomically: a temporary file in the same folder, then a rename.

    A reader sees the old file or the complete new one, never a part. The file is
    created readable by its owner only (``mkstemp``), because it contains the
    values of the inventory.
    """
    text = json.dumps(saved.to_dict(), indent=2, ensure_ascii=False) + "\n"
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=".j1gitops-plan-", dir=folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def is_plan_file(path: str) -> bool:
    """Tell whether ``path`` is a saved plan, by the format marker at its start."""
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as handle:
        return _FORMAT_PATTERN.search(handle.read(_SNIFF_BYTES)) is not None


def read_plan_file(path: str) -> tuple[SavedPlan, dict]:
    """Read and check a saved plan, and return it with the document as stored.

    Raises ``LoadError`` when the file is missing, is not a saved plan, has
    another format version, or fails its checksum (edited or cut short).
    """
    document = _load_document(path)
    if document.get("format") != FILE_FORMAT:
        raise LoadError(
            f"{path} is not a j1gitops plan file; create one with plan --out"
        )
    version = document.get("format_version")
    if version != FILE_FORMAT_VERSION:
        raise LoadError(
            f"{path} has plan format version {version!r}, but this j1gitops "
            f"({__version__}) reads version {FILE_FORMAT_VERSION}; run plan again "
            "with this version"
        )
    stored = document.pop("checksum", None)
    if stored != "sha256:" + _hash(document):
        raise LoadError(
            f"{path} failed its checksum: it was edited or is incomplete; run plan again"
        )
    document["checksum"] = stored
    try:
        return SavedPlan.from_dict(document), document
    except KeyError as exc:
        raise LoadError(f"{path} is missing plan field {exc}; run plan again") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise LoadError(
            f"{path} has a plan field of the wrong type ({exc}); run plan again"
        ) from exc


def _load_document(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        raise LoadError(f"plan file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot read plan file {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise LoadError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}); "
            "it is incomplete or not a plan file; run plan again"
        ) from exc
    if not isinstance(document, dict):
        raise LoadError(
            f"{path} is not a j1gitops plan file; create one with plan --out"
        )
    return document
