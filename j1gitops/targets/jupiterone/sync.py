"""One DIFF synchronization job against J1's sync API.

The job is started with ``source: api``, the scope and ``syncMode: DIFF``.
Entities, then relationships, go up in batches of under 5,000,000 bytes of
JSON, split by size as J1's integration SDK splits them, because J1 rejects a
request of about 6 MiB with 413. Then the job is finalized and polled until it
ends.

Anything that fails before finalize aborts the job, so J1 deletes nothing.
The job is started with ``ignoreDuplicates=true``. A retried upload whose
first attempt did reach J1 then repeats identical objects, which J1 accepts
("the latest object wins") instead of failing the whole job. The desired
state itself is checked for repeated keys before the job starts.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator

from j1gitops.errors import ApiError, TargetError
from j1gitops.targets.base import Progress, no_progress
from j1gitops.targets.jupiterone.client import ApiClient

logger = logging.getLogger(__name__)

JOBS = "/persister/synchronization/jobs"
BATCH_BYTES = 5_000_000
# Statuses after which a job changes no more, from J1's Node client and SDK.
TERMINAL_STATUSES = frozenset(
    {
        "FINISHED",
        "ABORTED",
        "ERROR_BAD_DATA",
        "ERROR_UNEXPECTED_FAILURE",
        "ABORTED_DUE_TO_INVALID_CONFIGURATION",
        "UNKNOWN",
    }
)
_SINGULAR = {"entities": "entity", "relationships": "relationship"}
_FINALIZING = frozenset(
    {"FINALIZE_PENDING", "FINALIZING_ENTITIES", "FINALIZING_RELATIONSHIPS"}
)
# A job id goes into URL paths and messages, so only these characters pass.
# NOTE: the emulator sends UUIDs, and J1's ids are assumed to be as plain.
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")


class DiffSync:
    def __init__(
        self,
        client: ApiClient,
        *,
        batch_bytes: int = BATCH_BYTES,
        poll_interval: float = 1.0,
        max_poll_interval: float = 10.0,
        time_limit: float = 3600.0,
        progress: Progress = no_progress,
    ):
        self.client = client
        self.batch_bytes = batch_bytes
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.time_limit = time_limit
        self.progress = progress

    def run(self, scope: str, entities: list[dict], relationships: list[dict]) -> dict:
        """Synchronize the scope and return J1's final job object."""
        _check_unique(entities, "entity")
        _check_unique(relationships, "relationship")
        batches = list(self._batches("entities", entities))
        batches += list(self._batches("relationships", relationships))
        job_id = self._start(scope)
        try:
            self._upload(job_id, batches, len(entities), len(relationships))
        except BaseException as exc:
            self._abort(job_id, exc)
            raise
        self._finalize(job_id)
        return self._wait(job_id)

    def _start(self, scope: str) -> str:
        body = {"source": "api", "scope": scope, "syncMode": "DIFF"}
        job = _job(
            self.client.sync_post(f"{JOBS}?ignoreDuplicates=true", body), "start"
        )
        self.progress(f"started sync job {job['id']} for scope {scope!r}")
        return job["id"]

    def _upload(
        self, job_id: str, batches: list, entities: int, relationships: int
    ) -> None:
        sent = {"entities": 0, "relationships": 0}
        job: dict = {}
        for kind, body, count in batches:
            job = _job(self.client.sync_post(f"{JOBS}/{job_id}/{kind}", body), "upload")
            sent[kind] += count
            total = entities if kind == "entities" else relationships
            self.progress(f"uploaded {sent[kind]} of {total} {kind}")
        # Retried uploads may count twice, so J1's counters can only be higher.
        if not job:
            return
        uploaded_entities = job.get("numEntitiesUploaded", 0)
        uploaded_relationships = job.get("numRelationshipsUploaded", 0)
        if not (
            _is_count(uploaded_entities)
            and _is_count(uploaded_relationships)
            and uploaded_entities >= entities
            and uploaded_relationships >= relationships
        ):
            raise TargetError(
                f"sync job {job_id} counted fewer uploads than were sent "
                f"({self.client.server_text(uploaded_entities)} of {entities} "
                f"entities, {self.client.server_text(uploaded_relationships)} of "
                f"{relationships} relationships); the job was aborted, run apply again"
            )

    def _abort(self, job_id: str, cause: BaseException) -> None:
        reason = f"j1gitops apply failed before finalize: {type(cause).__name__}"
        try:
            self.client.sync_post(f"{JOBS}/{job_id}/abort", {"reason": reason})
        except Exception as exc:  # the original failure matters more
            logger.warning("could not abort sync job %s: %s", job_id, exc)
            return
        self.progress(f"aborted sync job {job_id}; J1 changed nothing")

    def _finalize(self, job_id: str) -> None:
        try:
            self.client.sync_post(f"{JOBS}/{job_id}/finalize", {})
        except ApiError as exc:
            # A finalize whose reply was lost may have reached J1, and its retry
            # is then refused. Reading the job's status shows which happened.
            status = self._status(job_id)
            if status not in _FINALIZING and status != "FINISHED":
                self._abort(job_id, exc)
                raise
            logger.warning(
                "finalize of sync job %s failed but the job is %s",
                job_id,
                self.client.server_text(status),
            )
        self.progress(f"finalizing sync job {job_id}")

    def _status(self, job_id: str) -> str | None:
        try:
            job = _job(self.client.sync_get(f"{JOBS}/{job_id}"), "status")
        except ApiError:
            return None
        status = job.get("status")
        return status if isinstance(status, str) else None

    def _wait(self, job_id: str) -> dict:
        deadline = time.monotonic() + self.time_limit
        interval = self.poll_interval
        while True:
            job = _job(self.client.sync_get(f"{JOBS}/{job_id}"), "status")
            status = job.get("status")
            if isinstance(status, str) and status in TERMINAL_STATUSES:
                return job
            if time.monotonic() + interval > deadline:
                raise TargetError(
                    f"sync job {job_id} did not finish within {self.time_limit:.0f}s "
                    f"(status {self.client.server_text(status)}); J1 may still "
                    "finish it, so run plan later to see the result"
                )
            time.sleep(interval)
            interval = min(interval * 2, self.max_poll_interval)

    def _batches(
        self, kind: str, objects: list[dict]
    ) -> Iterator[tuple[str, bytes, int]]:
        """Yield ``(kind, body, count)`` with each body under ``batch_bytes``."""
        opening, closing = f'{{"{kind}":['.encode(), b"]}"
        items: list[bytes] = []
        size = len(opening) + len(closing)
        for obj in objects:
            encoded = json.dumps(
                obj, separators=(",", ":"), ensure_ascii=False
            ).encode()
            if len(opening) + len(encoded) + len(closing) >= self.batch_bytes:
                raise TargetError(
                    f"{_SINGULAR[kind]} {obj.get('_key')!r} is {len(encoded)} bytes of JSON, "
                    f"over J1's {self.batch_bytes}-byte upload limit; shrink its properties"
                )
            if items and size + 1 + len(encoded) >= self.batch_bytes:
                yield kind, opening + b",".join(items) + closing, len(items)
                items, size = [], len(opening) + len(closing)
            size += len(encoded) + (1 if items else 0)
            items.append(encoded)
        if items:
            yield kind, opening + b",".join(items) + closing, len(items)


def _job(reply: dict, step: str) -> dict:
    """Return the job object of a reply, after checking the form of its id."""
    job = reply.get("job")
    if not isinstance(job, dict) or "id" not in job:
        raise ApiError(f"J1's reply to the sync job {step} request has no job object")
    job_id = job["id"]
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise ApiError(
            f"J1's reply to the sync job {step} request has a job id that is "
            "not 1-200 letters, digits and '._:-'; report it to JupiterOne "
            "if it persists"
        )
    return job


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_unique(objects: list[dict], kind: str) -> None:
    seen: set = set()
    for obj in objects:
        key = obj.get("_key")
        if key in seen:
            raise TargetError(f"the desired state has {kind} _key {key!r} twice")
        seen.add(key)
