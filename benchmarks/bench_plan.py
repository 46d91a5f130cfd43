"""Benchmark validate and plan on a large generated inventory.

Generates N Device entities (15 properties, one list) and N relationships in 200
files, and a local target that contains the same data with 1% of the entities
changed, 0.5% removed and 0.5% added. Then times, each in a fresh process,
a bare PyYAML C-loader ``yaml.load`` of the files, ``j1gitops validate`` and
``j1gitops plan``, and prints each time, its ratio to the bare parse, and the
peak RSS of each process.

    python benchmarks/bench_plan.py [--entities 100000] [--files 200] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SCOPE = "bench"
RUNNER = r"""
import json, sys, time
started = time.perf_counter()
code = 0
try:
    if sys.argv[1] == "bare-parse":
        import glob, yaml
        for path in sorted(glob.glob("inventory/*.yaml")):
            with open(path, "rb") as handle:
                yaml.load(handle, Loader=yaml.CSafeLoader)
    else:
        from j1gitops.cli import main
        main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
elapsed = time.perf_counter() - started
# VmHWM is this process's own peak; ru_maxrss would include the parent's
# peak, which Linux carries across fork and exec.
with open("/proc/self/status") as status:
    peak = next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM"))
print(json.dumps({"seconds": elapsed, "peak_rss": peak, "exit_code": code}), file=sys.stderr)
"""


def device(index: int) -> dict:
    return {
        "_key": f"device:bench-{index:07d}",
        "_type": "bench_laptop",
        "_class": "Device",
        "name": f"laptop-{index:07d}",
        "displayName": f"Laptop {index}",
        "category": "endpoint",
        "make": "Apple",
        "model": "MacBook Pro 14",
        "serial": f"C02X{index:08d}",
        "hostname": f"laptop-{index:07d}",
        "osName": "macOS",
        "osType": "darwin",
        "osVersion": "14.6.1",
        "encrypted": True,
        "cost": 2499.5,
        "status": "deployed",
        "userEmails": [f"user{index}@bench.example"],
    }


def relationship(index: int, count: int) -> dict:
    return {
        "_class": "CONNECTS",
        "_fromEntityKey": f"device:bench-{index:07d}",
        "_toEntityKey": f"device:bench-{(index + 1) % count:07d}",
    }


def write_inventory(root: Path, count: int, files: int) -> None:
    inventory = root / "inventory"
    inventory.mkdir(parents=True)
    per_file = count // files
    for number in range(files):
        indexes = range(number * per_file, (number + 1) * per_file)
        document = {
            "entities": [device(i) for i in indexes],
            "relationships": [relationship(i, count) for i in indexes],
        }
        with open(inventory / f"devices-{number:03d}.yaml", "w") as handle:
            yaml.dump(document, handle, Dumper=yaml.CSafeDumper, sort_keys=False)
    (root / "j1gitops.yaml").write_text(
        f"scope: {SCOPE}\ninventory: [inventory]\nlocal: {{path: local.db}}\n"
        "deletes: {max_percent: 100}\n"
    )


def seed_target(root: Path, count: int) -> dict:
    """Fill the local target with the inventory's data, 1% changed, 0.5% gone, 0.5% new."""
    from j1gitops.config import load_config
    from j1gitops.pipeline import check_inventory
    from j1gitops.plan.planner import desired_state
    from j1gitops.store.sqlite import Store

    random.seed(1)
    config = load_config(root=str(root))
    os.chdir(root)
    desired = desired_state(check_inventory(config).inventory)
    entities = desired.entities
    picks = random.sample(range(count), count // 50)
    changed, removed = (
        picks[: count // 100],
        set(picks[count // 100 : count // 100 * 3 // 2]),
    )
    for index in changed:
        entities[index] = dict(entities[index], osVersion="13.0")
    kept = [e for i, e in enumerate(entities) if i not in removed]
    extra = [
        dict(device(count + i), _key=f"device:extra-{i:07d}")
        for i in range(count // 200)
    ]
    with Store(root / "local.db") as store:
        store.synchronize(SCOPE, kept + extra, desired.relationships)
    return {
        "changed": len(changed),
        "removed_from_target": len(removed),
        "extra": len(extra),
    }


def measure(root: Path, *args: str) -> dict:
    process = subprocess.run(
        [sys.executable, "-c", RUNNER, *args], cwd=root, capture_output=True, text=True
    )
    report = json.loads(process.stderr.strip().splitlines()[-1])
    report["stdout_lines"] = process.stdout.count("\n")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--workdir", help="keep the generated files here")
    options = parser.parse_args()
    root = Path(options.workdir or tempfile.mkdtemp(prefix="j1gitops-bench-"))
    started = time.perf_counter()
    write_inventory(root, options.entities, options.files)
    seeded = seed_target(root, options.entities)
    setup = time.perf_counter() - started
    size = sum(p.stat().st_size for p in (root / "inventory").iterdir())
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"inventory: {options.entities} entities + {options.entities} relationships, "
        f"{options.files} files, {size / 1e6:.1f} MB; target: {seeded}; setup {setup:.1f} s"
    )
    bare = measure(root, "bare-parse")
    print(f"{'step':<12} {'seconds':>8} {'x bare':>7} {'peak RSS':>10}  exit")
    for name, args in (
        ("bare parse", ("bare-parse",)),
        ("validate", ("validate",)),
        ("plan", ("plan", "--format", "json")),
    ):
        result = bare if name == "bare parse" else measure(root, *args)
        ratio = result["seconds"] / bare["seconds"]
        print(
            f"{name:<12} {result['seconds']:>8.2f} {ratio:>7.2f} "
            f"{result['peak_rss'] / 2**20:>8.0f} MB  {result['exit_code']}"
        )


if __name__ == "__main__":
    main()
