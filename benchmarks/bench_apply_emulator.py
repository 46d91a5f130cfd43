"""Apply 100,000 entities and 100,000 relationships to the J1 API emulator.

Runs the emulator in a child process on 127.0.0.1 (a fresh SQLite file in a
temporary directory), applies the inventory through JupiterOneTarget, and
prints the emulator's request count, the time, the bytes uploaded, and the
request count of the `j1` CLI's approach (one J1QL query to find an object by
key plus one mutation to write it, per entity and per relationship) for the
same work. The target is at most one request per 5 MB of upload, plus ten.

Run: /work/venv/bin/python benchmarks/bench_apply_emulator.py [--entities N]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time

import requests

from j1gitops.targets.base import DesiredState
from j1gitops.targets.jupiterone import JupiterOneTarget

EMULATOR = """
import sys
from j1gitops.commands.emulator import run_emulator
sys.exit(run_emulator(0, sys.argv[1], control=True))
"""
BYTES_PER_REQUEST = 5_000_000
SCOPE = "benchmark"


def inventory(count: int) -> DesiredState:
    entities = [
        {
            "_key": f"service-{i:06d}",
            "_type": "benchmark_service",
            "_class": "Service",
            "name": f"Service {i}",
            "owner": f"team-{i % 50}@example.com",
            "tier": i % 4,
            "public": i % 7 == 0,
            "tags": ["benchmark", f"group-{i % 10}"],
        }
        for i in range(count)
    ]
    relationships = [
        {
            "_key": f"service-{i:06d}|uses|service-{(i + 1) % count:06d}",
            "_type": "benchmark_service_uses_service",
            "_class": "USES",
            "_fromEntityKey": f"service-{i:06d}",
            "_toEntityKey": f"service-{(i + 1) % count:06d}",
            "protocol": "https",
        }
        for i in range(count)
    ]
    return DesiredState(entities, relationships)


def start_emulator(state: str, environ: dict) -> tuple[subprocess.Popen, str]:
    child = subprocess.Popen(
        [sys.executable, "-c", EMULATOR, state],
        env=environ,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = child.stdout.readline().strip()
    if not line.startswith("listening on "):
        child.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return child, line.removeprefix("listening on ")


def stats(url: str, environ: dict) -> dict:
    headers = {
        "Authorization": f"Bearer {environ['J1_API_KEY']}",
        "JupiterOne-Account": environ["J1_ACCOUNT_ID"],
    }
    return requests.get(f"{url}/_emulator/stats", headers=headers, timeout=30).json()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    count = parser.parse_args().entities
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    desired = inventory(count)
    environ = {
        **os.environ,
        "J1_API_KEY": secrets.token_hex(20),
        "J1_ACCOUNT_ID": "benchmark-account",
    }
    with tempfile.TemporaryDirectory() as directory:
        child, url = start_emulator(os.path.join(directory, "emulator.db"), environ)
        try:
            environ["J1_API_BASE_URL"] = url
            target = JupiterOneTarget.from_environment(environ)
            started = time.perf_counter()
            result = target.apply(SCOPE, desired, lambda line: None)
            elapsed = time.perf_counter() - started
            target.close()
            counts = stats(url, environ)
        finally:
            child.terminate()
            child.wait(30)
    report(desired, result, counts, elapsed)
    return 0 if result.succeeded else 1


def report(desired: DesiredState, result, counts: dict, elapsed: float) -> None:
    # The stats request itself is not part of the apply.
    requests_made = counts["requests"] - 1
    uploaded = counts["request_bytes"]
    allowed = math.ceil(uploaded / BYTES_PER_REQUEST) + 10
    cli_requests = 2 * (len(desired.entities) + len(desired.relationships))
    print(
        f"entities: {len(desired.entities)}, relationships: {len(desired.relationships)}"
    )
    print(f"job status: {result.status}, errors: {result.error_count}")
    print(f"requests: {requests_made}")
    for name, value in sorted(counts.items()):
        if name.startswith(("GET ", "POST ")):
            print(f"  {name}: {value}")
    print(f"uploaded: {uploaded / 1e6:.1f} MB of JSON")
    print(f"time: {elapsed:.1f} s")
    print(
        f"j1 CLI equivalent: {cli_requests} requests (one query and one mutation each)"
    )
    print(f"ratio: {cli_requests / requests_made:.0f} times fewer requests")
    verdict = "met" if requests_made <= allowed else "MISSED"
    print(f"target: at most {allowed} requests (1 per 5 MB + 10): {verdict}")


if __name__ == "__main__":
    sys.exit(main())
