"""``queryV1``: J1QL results in pages, with cursors and deferred responses.

A query runs once; its rows wait under an opaque cursor for the next pages, as
J1's do. Only a null or absent ``cursor`` ends the results, and with
``variable_pages`` page sizes vary and may be zero, so clients that stop on a
short page fail here as they would against J1. Tree results come in one page.

With ``deferredResponse: FORCE``, or ``OPTIONAL`` and more rows than
``defer_over`` (J1's rule for OPTIONAL is unconfirmed), the reply is ``{type: "deferred", url}``. The URL is a state
document served without credentials. It reads ``IN_PROGRESS`` for
``deferred_polls`` reads, then ``COMPLETED`` with ``type``, ``data``,
``totalCount``, ``cursor`` and ``url``, which serves the same page as a results
document. ``cursor`` is absent on the last page, because J1's Python client
loops for as long as the key is present.
"""

from __future__ import annotations

import random
import secrets
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from j1gitops.emulator import render
from j1gitops.emulator.backend import Backend
from j1gitops.emulator.graphql.execute import GraphQLError
from j1gitops.emulator.j1ql import Evaluator, J1QLSyntaxError, QueryResult, parse

# How many pending cursors and deferred documents are kept; older ones expire.
MAX_PENDING = 2000


@dataclass
class _Pending:
    kind: str
    rows: list
    offset: int
    total: int


class QueryService:
    def __init__(
        self,
        backend: Backend,
        *,
        page_size: int = 250,
        variable_pages: bool = False,
        defer_over: int = 5000,
        deferred_polls: int = 0,
        seed: int = 0,
    ):
        self.backend = backend
        self.page_size = page_size
        self.variable_pages = variable_pages
        self.defer_over = defer_over
        self.deferred_polls = deferred_polls
        self.random = random.Random(seed)  # noqa: S311 (page sizes, not secrets)
        self.base_url = ""  # the server sets it once its port is bound
        self.lock = threading.Lock()
        self.cursors: OrderedDict[str, _Pending] = OrderedDict()
        self.deferred: OrderedDict[str, dict] = OrderedDict()

    def resolve(self, arguments: dict) -> dict:
        """Resolve one ``queryV1`` field from its GraphQL arguments."""
        if arguments.get("deferredFormat") not in (None, "JSON"):
            raise GraphQLError("deferredFormat CSV is not supported by the emulator")
        if arguments.get("scopeFilters"):
            raise GraphQLError("scopeFilters are not supported by the emulator")
        cursor = arguments.get("cursor")
        pending = self._take_cursor(cursor) if cursor else self._run(arguments)
        page = self._page(pending)
        mode = arguments.get("deferredResponse") or "DISABLED"
        if mode == "FORCE" or (mode == "OPTIONAL" and pending.total > self.defer_over):
            return self._defer(page)
        return {"__typename": "QueryV1Response", **page, "url": None}

    def _run(self, arguments: dict) -> _Pending:
        text = arguments.get("query")
        if not isinstance(text, str) or not text.strip():
            raise GraphQLError("query must be a non-empty J1QL string")
        variables = arguments.get("variables") or {}
        if not isinstance(variables, dict):
            raise GraphQLError("variables must be an object")
        account = self.backend.account_id
        evaluator = Evaluator(
            self.backend,
            variables,
            include_deleted=bool(arguments.get("includeDeleted")),
            project=lambda obj: render.columns(obj, account),
        )
        try:
            # NOTE: J1 rejects SKIP since 2024-09-01; the emulator still accepts
            # it because the 0.21.2 Node client appends SKIP and LIMIT to queries.
            result = evaluator.run(parse(text))
        except J1QLSyntaxError as exc:
            raise GraphQLError(f"Error parsing J1QL query: {exc}") from exc
        return _pending(result, account)

    def _take_cursor(self, cursor: str) -> _Pending:
        with self.lock:
            pending = self.cursors.pop(cursor, None)
        if pending is None:
            raise GraphQLError(f"cursor {cursor!r} is invalid or has expired")
        return pending

    def _page(self, pending: _Pending) -> dict:
        page = {"type": pending.kind, "totalCount": pending.total}
        page["correlationId"] = str(uuid.uuid4())
        if pending.kind == "tree":
            return {**page, "data": pending.rows, "cursor": None}
        size = self.page_size
        if self.variable_pages:
            with self.lock:
                size = self.random.randint(0, self.page_size)
        end = pending.offset + size
        page["data"] = pending.rows[pending.offset : end]
        page["cursor"] = None
        if end < len(pending.rows) or (
            size == 0 and pending.offset < len(pending.rows)
        ):
            page["cursor"] = self._keep(
                self.cursors, _Pending(pending.kind, pending.rows, end, pending.total)
            )
        return page

    def _defer(self, page: dict) -> dict:
        state = {"status": "COMPLETED", **page}
        if state["cursor"] is None:
            del state["cursor"]
        token = self._keep(
            self.deferred, {"polls": self.deferred_polls, "state": state}
        )
        state["url"] = f"{self.base_url}/deferred/{token}/results.json"
        return {
            "__typename": "QueryV1Response",
            "type": "deferred",
            "data": None,
            "url": f"{self.base_url}/deferred/{token}/state.json",
            "correlationId": page["correlationId"],
            "totalCount": None,
            "cursor": None,
        }

    def deferred_document(self, token: str, name: str) -> dict | None:
        """Return the state or results document of a deferred reply, or None."""
        with self.lock:
            entry = self.deferred.get(token)
            if entry is None:
                return None
            state = entry["state"]
            if name == "results.json":
                return {key: state[key] for key in ("type", "data", "totalCount", "cursor")
                        if key in state}  # fmt: skip
            if entry["polls"] > 0:
                entry["polls"] -= 1
                return {
                    "status": "IN_PROGRESS",
                    "correlationId": state["correlationId"],
                }
            return state

    def _keep(self, table: OrderedDict, value) -> str:
        token = secrets.token_urlsafe(18)
        with self.lock:
            table[token] = value
            while len(table) > MAX_PENDING:
                table.popitem(last=False)
        return token


def _pending(result: QueryResult, account: str) -> _Pending:
    if result.kind == "tree":
        tree = {
            "vertices": [render.vertex(e, account) for e in result.entities],
            "edges": [render.edge(r, account) for r in result.relationships],
        }
        return _Pending("tree", tree, 0, len(tree["vertices"]) + len(tree["edges"]))
    if result.kind == "list":
        rows = [render.vertex(entity, account) for entity in result.entities]
    else:
        rows = result.rows
    return _Pending(result.kind, rows, 0, len(rows))
