"""J1's synchronization ("persister") jobs, over the store.

A job starts in ``AWAITING_UPLOADS`` and collects uploads in memory. Finalize
returns ``FINALIZE_PENDING`` and runs the DIFF in a background thread
(``FINALIZING_ENTITIES``, ``FINALIZING_RELATIONSHIPS``, then ``FINISHED``),
so clients poll the job as they must against J1. The store changes only in
that final step, in one transaction: an aborted or failed job changes nothing.
Errors are ``{"error": {"code", "message"}}`` with a 4xx status. The codes
``ENTITY_IS_NOT_ARRAY`` and ``JOB_NOT_AWAITING_UPLOADS`` are J1's, as J1's
integration SDK tests show; the others are the emulator's own guesses.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from j1gitops.emulator.backend import Backend
from j1gitops.store.sqlite import SyncCounts, SyncDataError

SUPPORTED_MODES = ("DIFF",)
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


class SyncApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass
class Job:
    id: str
    source: str
    scope: str | None
    sync_mode: str
    account_id: str
    ignore_duplicates: bool
    status: str = "AWAITING_UPLOADS"
    start_timestamp: int = field(default_factory=lambda: int(time.time() * 1000))
    entities: list = field(default_factory=list)
    relationships: list = field(default_factory=list)
    counts: SyncCounts = field(default_factory=SyncCounts)
    # How many objects arrived, including repeats that ignoreDuplicates drops.
    entities_uploaded: int = 0
    relationships_uploaded: int = 0

    def view(self) -> dict:
        fields = self.counts.as_job_fields()
        fields["numEntitiesUploaded"] = self.entities_uploaded
        fields["numRelationshipsUploaded"] = self.relationships_uploaded
        return {
            "id": self.id,
            "source": self.source,
            "scope": self.scope,
            "syncMode": self.sync_mode,
            "accountId": self.account_id,
            "integrationInstanceId": None,
            "integrationJobId": None,
            "status": self.status,
            "done": self.status in TERMINAL_STATUSES,
            "startTimestamp": self.start_timestamp,
            **fields,
        }


class SyncJobs:
    def __init__(self, backend: Backend, finalize_delay: float = 0.0):
        self.backend = backend
        self.finalize_delay = finalize_delay
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.workers: list[threading.Thread] = []

    def close(self) -> None:
        """Stop pending finalizes before the store closes; they end UNKNOWN."""
        self.closing.set()
        for worker in self.workers:
            worker.join()

    def start(self, body: dict, ignore_duplicates: bool) -> dict:
        source = body.get("source")
        mode = body.get("syncMode") or "DIFF"
        scope = body.get("scope")
        if source != "api":
            raise SyncApiError(
                400,
                "UNSUPPORTED_SOURCE",
                f"source {source!r} is not supported: use 'api'",
            )
        if mode == "CREATE_OR_UPDATE":
            raise SyncApiError(
                400, "INVALID_SYNC_MODE", "CREATE_OR_UPDATE is deprecated: use PATCH"
            )
        if mode not in SUPPORTED_MODES:
            # NOTE: J1 also has PATCH, CROSS_SCOPE and OVERRIDE; the emulator
            # serves DIFF only, which is all j1gitops uses.
            raise SyncApiError(
                400, "INVALID_SYNC_MODE", f"syncMode {mode!r} is not supported here"
            )
        if not isinstance(scope, str) or not scope:
            raise SyncApiError(
                400, "MISSING_SCOPE", "scope is required when syncMode is DIFF"
            )
        job = Job(str(uuid.uuid4()), source, scope, mode, self.backend.account_id,
                  ignore_duplicates)  # fmt: skip
        with self.lock:
            self.jobs[job.id] = job
        return {"job": job.view()}

    def get(self, job_id: str) -> Job:
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise SyncApiError(
                404, "NOT_FOUND", f"synchronization job {job_id} not found"
            )
        return job

    def status(self, job_id: str) -> dict:
        return {"job": self.get(job_id).view()}

    def upload(self, job_id: str, body: dict, kinds: tuple[str, ...]) -> dict:
        """Add ``entities`` and/or ``relationships`` from one upload to the job."""
        job = self.get(job_id)
        batches = {}
        for kind in kinds:
            batches[kind] = _objects(body, kind, required=len(kinds) == 1)
        for unsupported in ("deleteEntities", "deleteRelationships"):
            if body.get(unsupported):
                raise SyncApiError(
                    400, "BAD_REQUEST", f"{unsupported} is not supported in a DIFF job"
                )
        with self.lock:
            _require_awaiting(job)
            job.entities.extend(batches.get("entities", []))
            job.relationships.extend(batches.get("relationships", []))
            job.entities_uploaded += len(batches.get("entities", []))
            job.relationships_uploaded += len(batches.get("relationships", []))
        return {"job": job.view()}

    def finalize(self, job_id: str, fail_status: str | None = None) -> dict:
        """Start finalizing; ``fail_status`` makes the job end in that status."""
        job = self.get(job_id)
        with self.lock:
            _require_awaiting(job)
            job.status = "FINALIZE_PENDING"
        worker = threading.Thread(
            target=self._run_finalize, args=(job, fail_status), daemon=True,
            name=f"finalize-{job.id}",
        )  # fmt: skip
        self.workers = [w for w in self.workers if w.is_alive()] + [worker]
        worker.start()
        return {"job": job.view()}

    def abort(self, job_id: str) -> dict:
        job = self.get(job_id)
        with self.lock:
            _require_awaiting(job)
            job.status = "ABORTED"
            job.entities, job.relationships = [], []
        return {"job": job.view()}

    def _run_finalize(self, job: Job, fail_status: str | None) -> None:
        if self.closing.wait(self.finalize_delay):
            job.status = "UNKNOWN"
            return
        job.status = "FINALIZING_ENTITIES"
        if fail_status is not None:
            job.status = fail_status
            return
        try:
            with self.backend.lock:
                if self.closing.is_set():
                    job.status = "UNKNOWN"
                    return
                counts = self.backend.store.synchronize(
                    job.scope, job.entities, job.relationships,
                    source=job.source, ignore_duplicates=job.ignore_duplicates,
                )  # fmt: skip
        except SyncDataError:
            job.status = "ERROR_BAD_DATA"
            return
        except Exception:
            job.status = "ERROR_UNEXPECTED_FAILURE"
            raise
        job.counts = counts
        job.status = "FINALIZING_RELATIONSHIPS"
        job.status = "FINISHED"
        job.entities, job.relationships = [], []


def _require_awaiting(job: Job) -> None:
    if job.status != "AWAITING_UPLOADS":
        raise SyncApiError(
            400,
            "JOB_NOT_AWAITING_UPLOADS",
            f"synchronization job {job.id} is {job.status}, not AWAITING_UPLOADS",
        )


def _objects(body: dict, kind: str, required: bool) -> list[dict]:
    items = body.get(kind)
    if items is None and not required:
        return []
    if not isinstance(items, list):
        code = (
            "ENTITY_IS_NOT_ARRAY" if kind == "entities" else "RELATIONSHIP_IS_NOT_ARRAY"
        )
        raise SyncApiError(400, code, f'"{kind}" should be an array')
    for item in items:
        _check_object(item, kind)
    return items


def _check_object(item, kind: str) -> None:
    """Reject values J1 does not store: nested objects and mixed or object lists."""
    if not isinstance(item, dict):
        raise SyncApiError(400, "BAD_REQUEST", f"each item of {kind} must be an object")
    for name, value in item.items():
        if name == "_rawData" or _valid_value(value):
            continue
        raise SyncApiError(
            400,
            "INVALID_PROPERTY_VALUE",
            f"property {name!r} of {_SINGULAR[kind]} {item.get('_key')!r} must be a string, "
            "number, boolean, null or a list of one of those",
        )


def _valid_value(value) -> bool:
    scalar = (str, int, float, bool)
    if value is None or isinstance(value, scalar):
        return True
    if isinstance(value, list):
        kinds = {_value_kind(item) for item in value}
        return len(kinds) <= 1 and kinds <= {"string", "number", "boolean"}
    return False


def _value_kind(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__
