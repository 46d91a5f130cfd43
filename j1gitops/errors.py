"""Errors that j1gitops raises, each meant to reach the user as one line.

    J1GitOpsError                 base: an expected failure, exit code 1
    ├── UsageError                a bad option or combination of options
    ├── ConfigError               j1gitops.yaml is missing a value or holds a bad one
    ├── LoadError                 an inventory file cannot be read or parsed
    ├── ValidationFailed          validation found errors (the diagnostics travel with it)
    ├── TargetError               the target failed to read or apply
    │   ├── CredentialsError      J1 credentials are missing or were rejected
    │   └── ApiError              J1 (or the emulator) answered with an error
    ├── StalePlanError            a saved plan no longer matches the live or desired state
    └── GuardError                a deletion guard fired (protected entity, threshold)

The CLI maps each class to an exit code in one place (``j1gitops.cli``).
"""

from __future__ import annotations


class J1GitOpsError(Exception):
    """An expected failure whose message is shown to the user as one line."""

    exit_code = 1


class UsageError(J1GitOpsError):
    """An option or argument is invalid, or options conflict."""


class ConfigError(J1GitOpsError):
    """The configuration file is invalid."""


class LoadError(J1GitOpsError):
    """An inventory or data file cannot be read, decoded or parsed."""


class ValidationFailed(J1GitOpsError):
    """Validation reported at least one error."""

    def __init__(self, message: str, diagnostics: list | None = None):
        super().__init__(message)
        self.diagnostics = diagnostics or []


class TargetError(J1GitOpsError):
    """A target failed to read the scope or to apply a plan."""


class CredentialsError(TargetError):
    """J1 credentials are missing, malformed or were rejected."""


class ApiError(TargetError):
    """J1 returned an error for one request."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: int | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.method = method
        self.url = url
        self.status = status
        self.code = code


class StalePlanError(J1GitOpsError):
    """A saved plan was computed from a state that has changed since."""

    exit_code = 3


class GuardError(J1GitOpsError):
    """A deletion guard stopped the plan: a protected entity or too many deletes."""

    exit_code = 4
