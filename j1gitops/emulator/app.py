"""Request routing for the emulator, apart from the HTTP mechanics in server.py.

Routes, as J1 serves them:
    POST /  and  POST /graphql                    GraphQL (one operation, or a JSON array)
    POST /persister/synchronization/jobs          start a sync job
    GET  /persister/synchronization/jobs/ID       job status
    POST .../jobs/ID/entities|relationships|upload|finalize|abort
    GET  /deferred/TOKEN/state.json|results.json  deferred query results, no credentials
    GET|POST /_emulator/faults, GET /_emulator/stats   only with the control option
"""

from __future__ import annotations

import hmac
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from j1gitops.emulator.backend import Backend
from j1gitops.emulator.faults import (
    FaultInjector,
    FaultRule,
    FaultSpecError,
    parse_fault,
)
from j1gitops.emulator.graphql.execute import error_entry, execute
from j1gitops.emulator.mutations import Mutations
from j1gitops.emulator.queries import QueryService
from j1gitops.emulator.sync_jobs import SyncApiError, SyncJobs
from j1gitops.store.sqlite import Store

JOBS_PATH = "/persister/synchronization/jobs"
_JOB_ROUTE = re.compile(
    r"^/persister/synchronization/jobs/([^/]+)(?:/(entities|relationships|upload|finalize|abort))?$"
)
_DEFERRED_ROUTE = re.compile(
    r"^/deferred/([A-Za-z0-9_-]+)/(state\.json|results\.json)$"
)
# J1 rejects a body above about 6 MiB with HTTP 413. The figure is AWS Lambda's
# limit, which J1's integration SDK tests quote as 6291456 bytes.
MAX_BODY_BYTES = 6_291_456


@dataclass
class EmulatorOptions:
    """Settings of one emulator. Faults are off unless rules are given."""

    state: str
    api_key: str
    account_id: str
    port: int = 0
    faults: list[FaultRule] = field(default_factory=list)
    seed: int = 0
    page_size: int = 250
    variable_pages: bool = False
    defer_over: int = 5000
    deferred_polls: int = 0
    finalize_delay: float = 0.0
    max_body_bytes: int = MAX_BODY_BYTES
    control: bool = False


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Any  # case-insensitive, like http.client.HTTPMessage
    body: bytes


@dataclass
class Response:
    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without a reply


class EmulatorApp:
    def __init__(self, options: EmulatorOptions, store: Store):
        self.options = options
        self.backend = Backend(store, options.account_id)
        self.faults = FaultInjector(options.faults, options.seed)
        self.queries = QueryService(
            self.backend,
            page_size=options.page_size,
            variable_pages=options.variable_pages,
            defer_over=options.defer_over,
            deferred_polls=options.deferred_polls,
            seed=options.seed,
        )
        self.jobs = SyncJobs(self.backend, options.finalize_delay)
        self.resolvers = {
            "queryV1": self.queries.resolve,
            **Mutations(self.backend).resolvers(),
        }
        self.stats: Counter[str] = Counter()
        self.stats_lock = threading.Lock()

    def count(self, request: Request) -> None:
        route = _JOB_ROUTE.sub(
            lambda m: f"{JOBS_PATH}/ID/{m.group(2) or ''}", request.path
        )
        route = _DEFERRED_ROUTE.sub(lambda m: f"/deferred/TOKEN/{m.group(2)}", route)
        with self.stats_lock:
            self.stats["requests"] += 1
            self.stats[f"{request.method} {route.rstrip('/')}"] += 1
            self.stats["request_bytes"] += len(request.body)

    def handle(self, request: Request, fault: FaultRule | None) -> Response:
        deferred = _DEFERRED_ROUTE.match(request.path)
        if deferred and request.method == "GET":
            document = self.queries.deferred_document(*deferred.groups())
            return Response(200, document) if document else _not_found(request)
        if not self.authorized(request.headers):
            return _unauthorized(request)
        if request.path.startswith("/_emulator/") and self.options.control:
            return self.control(request)
        if request.path in ("/", "/graphql") and request.method == "POST":
            return self.graphql(request)
        if request.path.startswith(JOBS_PATH):
            return self.sync(request, fault)
        return _not_found(request)

    def authorized(self, headers) -> bool:
        expected = f"Bearer {self.options.api_key}"
        given = headers.get("Authorization", "")
        account = (
            headers.get("JupiterOne-Account") or headers.get("LifeOmic-Account") or ""
        )
        key_ok = hmac.compare_digest(given.encode(), expected.encode())
        return key_ok and hmac.compare_digest(
            account.encode(), self.options.account_id.encode()
        )

    def graphql(self, request: Request) -> Response:
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return Response(
                400, {"errors": [error_entry("Invalid JSON body", "BAD_REQUEST")]}
            )
        if isinstance(body, list):
            return Response(200, [self._operation(item) for item in body])
        return Response(200, self._operation(body))

    def _operation(self, body) -> dict:
        if not isinstance(body, dict):
            return {
                "errors": [
                    error_entry("Each operation must be an object", "BAD_REQUEST")
                ]
            }
        # The top-level "flags" key that J1's Python client adds is ignored.
        return execute(body, self.resolvers)

    def sync(self, request: Request, fault: FaultRule | None) -> Response:
        try:
            body = json.loads(request.body) if request.body else {}
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return Response(
                400, SyncApiError(400, "BAD_REQUEST", "invalid JSON body").body()
            )
        try:
            return Response(200, self._sync_route(request, body, fault))
        except SyncApiError as exc:
            return Response(exc.status, exc.body())

    def _sync_route(
        self, request: Request, body: dict, fault: FaultRule | None
    ) -> dict:
        if request.path == JOBS_PATH and request.method == "POST":
            ignore = request.query.get("ignoreDuplicates", "").lower() == "true"
            return self.jobs.start(body, ignore)
        match = _JOB_ROUTE.match(request.path)
        if match is None:
            raise SyncApiError(404, "NOT_FOUND", f"no route for {request.path}")
        job_id, action = match.groups()
        if action is None and request.method == "GET":
            return self.jobs.status(job_id)
        if request.method != "POST" or action is None:
            raise SyncApiError(
                405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here"
            )
        if action in ("entities", "relationships"):
            return self.jobs.upload(job_id, body, (action,))
        if action == "upload":
            return self.jobs.upload(job_id, body, ("entities", "relationships"))
        if action == "finalize":
            failing = fault is not None and fault.kind == "job-error"
            return self.jobs.finalize(job_id, fault.job_status if failing else None)
        return self.jobs.abort(job_id)

    def control(self, request: Request) -> Response:
        if request.path == "/_emulator/stats" and request.method == "GET":
            with self.stats_lock:
                return Response(200, dict(self.stats))
        if request.path != "/_emulator/faults":
            return _not_found(request)
        if request.method == "POST":
            try:
                body = json.loads(request.body or b"{}")
                rules = [parse_fault(spec) for spec in body.get("faults", [])]
            except (ValueError, FaultSpecError, AttributeError) as exc:
                return Response(
                    400, {"error": {"code": "BAD_REQUEST", "message": str(exc)}}
                )
            self.faults.set_rules(rules, int(body.get("seed", self.options.seed)))
        return Response(200, {"faults": self.faults.describe()})


def fault_response(rule: FaultRule) -> Response | None:
    """Return the reply a fault sends in place of the real one, if it replaces it."""
    if rule.kind == "rate-limit":
        headers = (
            {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
        )
        body = {"error": {"code": "RATE_LIMITED", "message": "Too Many Requests"}}
        return Response(429, body, headers)
    if rule.kind == "rate-limit-200":
        message = "429: Too Many Requests: the rate limit was exceeded"
        return Response(
            200, {"errors": [error_entry(message, "RATE_LIMITED")], "data": None}
        )
    if rule.kind == "server-error":
        body = {
            "error": {
                "code": "INTERNAL_SERVER_ERROR",
                "message": "Injected server error",
            }
        }
        return Response(rule.status, body)
    if rule.kind == "drop":
        return Response(0, drop=True)
    return None


def _unauthorized(request: Request) -> Response:
    # NOTE: the body J1 sends with 401 is unconfirmed; the shape follows each API.
    message = "Unauthorized: a valid API key and account id are required"
    if request.path.startswith(JOBS_PATH):
        return Response(401, {"error": {"code": "UNAUTHORIZED", "message": message}})
    return Response(401, {"errors": [error_entry(message, "UNAUTHENTICATED")]})


def _not_found(request: Request) -> Response:
    message = f"{request.method} {request.path} is not a route of the J1 API emulator"
    return Response(404, {"error": {"code": "NOT_FOUND", "message": message}})
