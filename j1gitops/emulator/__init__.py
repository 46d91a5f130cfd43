"""A local emulator of JupiterOne's GraphQL and synchronization APIs.

It serves J1's wire formats over HTTP on 127.0.0.1, backed by the same store as
the local target, so that j1gitops, J1's official clients and users rehearsing
a pipeline can run against it. Faults can be injected to test retries.
"""

from j1gitops.emulator.app import EmulatorOptions
from j1gitops.emulator.faults import FaultRule, FaultSpecError, parse_fault
from j1gitops.emulator.server import EmulatorServer

__all__ = [
    "EmulatorOptions",
    "EmulatorServer",
    "FaultRule",
    "FaultSpecError",
    "parse_fault",
]
