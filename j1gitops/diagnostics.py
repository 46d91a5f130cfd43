"""Diagnostics: findings of loading and validation, reported all at once and sorted."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A position in a source file: the path as the user gave it, 1-based line and column."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One finding: where, how bad, what, and the rule that produced it.

    ``rule`` is a stable identifier (``duplicate-key``, ``schema``, ...) that the
    config uses to lower findings and that tests match on.
    """

    location: Location
    severity: Severity
    message: str
    rule: str

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        return (
            self.location,
            self.severity is not Severity.ERROR,
            self.rule,
            self.message,
        )

    def __str__(self) -> str:
        return f"{self.location}: {self.severity.value}: {self.message} [{self.rule}]"


def error(location: Location, message: str, rule: str) -> Diagnostic:
    return Diagnostic(location, Severity.ERROR, message, rule)


def warning(location: Location, message: str, rule: str) -> Diagnostic:
    return Diagnostic(location, Severity.WARNING, message, rule)


def sort_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)
