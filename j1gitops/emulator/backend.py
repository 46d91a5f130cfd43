"""The emulator's account: one store, and one lock around it.

The store has one SQLite connection. Request threads and finalize threads
share it, so every use takes ``lock``. A transaction in one thread therefore
never sees another thread's statements.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from j1gitops.emulator.j1ql import EntityHint
from j1gitops.store.sqlite import Store


class Backend:
    def __init__(self, store: Store, account_id: str):
        self.store = store
        self.account_id = account_id
        self.lock = threading.RLock()

    # The GraphSource protocol of the J1QL evaluator

    def entities(self, hint: EntityHint, include_deleted: bool) -> list[dict]:
        with self.lock:
            if include_deleted:
                return list(self.store.all_entities(include_deleted=True))
            if hint.ids is not None:
                return list(self.store.find_entities_by_id(hint.ids).values())
            if hint.source is not None and hint.scope is not None:
                return self.store.read_scope(hint.scope, hint.source)[0]
            return list(self.store.all_entities())

    def entities_by_id(self, ids: Iterable[str], include_deleted: bool) -> dict:
        with self.lock:
            if include_deleted:
                wanted = set(ids)
                return {
                    entity["_id"]: entity
                    for entity in self.store.all_entities(include_deleted=True)
                    if entity["_id"] in wanted
                }
            return self.store.find_entities_by_id(ids)

    def relationships_touching(
        self, ids: Iterable[str], include_deleted: bool
    ) -> list[dict]:
        with self.lock:
            return self.store.relationships_touching(ids, include_deleted)
