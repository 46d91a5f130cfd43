"""The local target: a SQLite file with J1's persister semantics.

``plan`` only reads: when the file does not exist yet, the scope is empty and no
file is created. ``apply`` creates the file and runs one DIFF synchronization in
one transaction, so an apply lands whole or not at all.
"""

from __future__ import annotations

import os

from j1gitops.errors import TargetError
from j1gitops.inventory.model import EntityRef
from j1gitops.store.sqlite import Store, StoreError, SyncDataError
from j1gitops.targets.base import ApplyResult, DesiredState, LiveState, Progress

DEFAULT_PATH = ".j1gitops/local.db"


class LocalTarget:
    name = "local"

    def __init__(self, path: str = DEFAULT_PATH):
        self.path = path
        self._store: Store | None = None

    def store(self, create: bool = False) -> Store | None:
        """Return the store: read-only for reading, writable when ``create``.

        Returns None when there is nothing to read yet: no file, or an empty one.
        """
        if self._store is not None and create and self._store.read_only:
            self._store.close()
            self._store = None
        if self._store is None:
            exists = os.path.exists(self.path) and os.path.getsize(self.path) > 0
            if not create and not exists:
                return None
            try:
                self._store = Store(self.path, read_only=not create)
            except StoreError as exc:
                raise TargetError(str(exc)) from exc
        return self._store

    def read(self, scope: str) -> LiveState:
        store = self.store()
        if store is None:
            return LiveState()
        entities, relationships = store.read_scope(scope)
        return LiveState(entities, relationships)

    def missing_external(self, refs: list[EntityRef]) -> list[EntityRef]:
        store = self.store()
        if store is None:
            return list(refs)
        found_ids = store.find_entities_by_id([ref.id for ref in refs if ref.id])
        missing = []
        for ref in refs:
            if ref.id is not None:
                exists = ref.id in found_ids
            else:
                exists = (
                    store.find_entity_by_key(ref.source or "api", ref.scope, ref.key)
                    is not None
                )
            if not exists:
                missing.append(ref)
        return missing

    def apply(
        self, scope: str, desired: DesiredState, progress: Progress
    ) -> ApplyResult:
        store = self.store(create=True)
        progress(
            f"synchronizing {len(desired.entities)} entities and "
            f"{len(desired.relationships)} relationships into {self.path}"
        )
        try:
            counts = store.synchronize(scope, desired.entities, desired.relationships)
        except SyncDataError as exc:
            raise TargetError(
                f"the local store rejected the upload, so nothing was applied: {exc}"
            ) from exc
        errors = [
            f"relationship {key!r} was not created: {reason}"
            for key, reason in counts.relationship_errors
        ]
        return ApplyResult("FINISHED", counts.as_job_fields(), errors=errors)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
