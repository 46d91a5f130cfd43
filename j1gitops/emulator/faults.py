"""Fault injection: rules that make chosen requests fail the ways J1 can fail.

A rule is written ``KIND[:option=value,...]``, for example
``rate-limit:every=3,retry-after=1`` or ``drop:nth=2+5,path=/persister``.

Kinds:
    rate-limit       HTTP 429, with ``Retry-After`` only when ``retry-after`` is set
    rate-limit-200   HTTP 200 whose ``errors`` report a 429, as J1 may send
    server-error     HTTP ``status`` (default 503) with a JSON error body
    slow             wait ``delay`` seconds, then reply normally
    drop             close the connection before handling the request
    drop-after       handle the request, then close the connection unanswered
    job-error        a finalized sync job ends in ``job-status`` instead of FINISHED

Which matching requests fire: ``nth=2+5`` (their ordinal numbers, from 1),
``every=N``, or ``probability=P`` drawn from a generator seeded with the
emulator's seed, so that runs repeat exactly; with none of these, every one.
``times=N`` caps how often the rule fires. ``path`` matches any part of the
request path (``/persister`` or ``/finalize``) and ``method`` the HTTP method. ``job-error`` applies to finalize requests only.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = (
    "rate-limit",
    "rate-limit-200",
    "server-error",
    "slow",
    "drop",
    "drop-after",
    "job-error",
)
JOB_ERROR_STATUSES = (
    "ERROR_UNEXPECTED_FAILURE",
    "ERROR_BAD_DATA",
    "ABORTED",
    "UNKNOWN",
)


class FaultSpecError(ValueError):
    """A fault rule is written wrong."""


@dataclass
class FaultRule:
    kind: str
    path: str = ""
    method: str | None = None
    nth: frozenset[int] = frozenset()
    every: int | None = None
    probability: float | None = None
    times: int | None = None
    status: int = 503  # server-error
    retry_after: int | None = None  # rate-limit: seconds sent in Retry-After
    delay: float = 1.0  # slow: seconds
    job_status: str = "ERROR_UNEXPECTED_FAILURE"  # job-error
    # Runtime counters: matching requests seen, and how often the rule fired.
    seen: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "path": self.path,
            "seen": self.seen,
            "fired": self.fired,
        }


def parse_fault(spec: str) -> FaultRule:
    """Parse ``KIND[:option=value,...]`` into a rule; raise ``FaultSpecError``."""
    kind, _, options = spec.strip().partition(":")
    if kind not in KINDS:
        raise FaultSpecError(
            f"unknown fault kind {kind!r} in {spec!r}: use one of {', '.join(KINDS)}"
        )
    rule = FaultRule(kind)
    for option in filter(None, (part.strip() for part in options.split(","))):
        name, separator, value = option.partition("=")
        if not separator:
            raise FaultSpecError(f"fault option {option!r} in {spec!r} has no =value")
        _set_option(rule, name.strip().replace("-", "_"), value.strip(), spec)
    return rule


def _set_option(rule: FaultRule, name: str, value: str, spec: str) -> None:
    try:
        if name == "nth":
            rule.nth = frozenset(int(part) for part in value.split("+"))
        elif name in ("every", "times", "status", "retry_after"):
            setattr(rule, name, int(value))
        elif name in ("probability", "delay"):
            setattr(rule, name, float(value))
        elif name == "path":
            rule.path = value
        elif name == "method":
            rule.method = value.upper()
        elif name == "job_status":
            if value not in JOB_ERROR_STATUSES:
                raise FaultSpecError(
                    f"job-status {value!r} in {spec!r} is not one of "
                    f"{', '.join(JOB_ERROR_STATUSES)}"
                )
            rule.job_status = value
        else:
            raise FaultSpecError(f"unknown fault option {name!r} in {spec!r}")
    except ValueError as exc:
        if isinstance(exc, FaultSpecError):
            raise
        raise FaultSpecError(
            f"fault option {name}={value!r} in {spec!r} is not a number"
        ) from exc


class FaultInjector:
    """Decides, request by request, which rule (if any) fires. Thread-safe."""

    def __init__(self, rules: list[FaultRule] | None = None, seed: int = 0):
        self.lock = threading.Lock()
        self.set_rules(rules or [], seed)

    def set_rules(self, rules: list[FaultRule], seed: int = 0) -> None:
        with self.lock:
            self.rules = list(rules)
            self.random = random.Random(seed)  # noqa: S311 (test faults, not secrets)

    def decide(self, method: str, path: str) -> FaultRule | None:
        """Count the request against every matching rule; return the first that fires."""
        chosen = None
        with self.lock:
            for rule in self.rules:
                if not _matches(rule, method, path):
                    continue
                rule.seen += 1
                if chosen is None and self._fires(rule):
                    rule.fired += 1
                    chosen = rule
        return chosen

    def _fires(self, rule: FaultRule) -> bool:
        if rule.times is not None and rule.fired >= rule.times:
            return False
        if rule.nth:
            return rule.seen in rule.nth
        if rule.every:
            return rule.seen % rule.every == 0
        if rule.probability is not None:
            return self.random.random() < rule.probability
        return True

    def describe(self) -> list[dict]:
        with self.lock:
            return [rule.describe() for rule in self.rules]


def _matches(rule: FaultRule, method: str, path: str) -> bool:
    if rule.method and rule.method != method:
        return False
    if rule.kind == "job-error" and not path.endswith("/finalize"):
        return False
    return rule.path in path
