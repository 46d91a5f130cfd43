"""Time ``validate_inventory`` on generated Device entities and relationships.

Run: ``python benchmarks/bench_validate.py [COUNT]`` (default 100,000 of each).
Each entity has 15 properties, one of them a list, and one ISO date to convert,
like the workload behind the project's measured parsing costs. One entity in
1,000 is invalid, so the slow (message-building) path runs too.
"""

from __future__ import annotations

import sys
import time

from j1gitops.diagnostics import Location
from j1gitops.inventory.model import Entity, EntityRef, Inventory, Relationship
from j1gitops.validation import ValidationSettings, validate_inventory


def device(index: int) -> Entity:
    properties = {
        "name": f"device-{index}",
        "displayName": f"Device {index}",
        "category": "endpoint",
        "serial": f"SN{index:08d}",
        "make": "Acme",
        "model": "X1",
        "osName": "linux",
        "osType": "linux" if index % 1000 else "Linux",
        "osVersion": "6.1",
        "osDetails": "Debian 12",
        "hostname": f"dev{index}",
        "ipv4Addresses": [f"10.{index // 65536}.{index // 256 % 256}.{index % 256}"],
        "lastSeenOn": 1_700_000_000_000 + index,
        "createdOn": "2024-01-31T12:00:00Z",
        "active": True,
    }
    return Entity(
        key=f"device-{index:08d}",
        type="acme_device",
        classes=("Device",),
        properties=properties,
        location=Location("bench.yaml", index + 1),
    )


def relationship(index: int, count: int) -> Relationship:
    from_key = f"device-{index:08d}"
    to_key = f"device-{(index + 1) % count:08d}"
    return Relationship(
        key=f"{from_key}|connects|{to_key}",
        type="acme_device_connects_device",
        verb="CONNECTS",
        from_ref=EntityRef(key=from_key),
        to_ref=EntityRef(key=to_key),
        properties={"port": index % 65536, "protocol": "tcp"},
        location=Location("bench.yaml", index + 1),
    )


def main(count: int) -> None:
    inventory = Inventory(
        entities=[device(i) for i in range(count)],
        relationships=[relationship(i, count) for i in range(count)],
    )
    started = time.perf_counter()
    diagnostics = validate_inventory(inventory, ValidationSettings())
    elapsed = time.perf_counter() - started
    rate = 2 * count / elapsed
    print(
        f"{count} entities + {count} relationships: {elapsed:.2f} s, "
        f"{rate:,.0f} objects/s, {len(diagnostics)} diagnostics"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
