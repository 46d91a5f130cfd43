"""Time ``j1gitops import csv`` on a generated CSV next to a bare csv.DictReader pass.

    python benchmarks/bench_import_csv.py [--rows 100000] [--runs 3] [--keep]

Every measurement runs in its own child process, so that each peak RSS
(``ru_maxrss`` from ``os.wait4``) is that process's alone. The script prints the
in-process time of the import (``run_import_csv``, which reads, types and writes
the YAML file, fsync included) and of a DictReader loop over the same file, and
their ratio. In both, the modules are imported before the clock starts, as
``import csv`` is for the DictReader; the data-model schemas are loaded inside
the timed import. Each figure is the best of ``--runs`` runs, with the slowest
next to it, because this machine's timings vary from run to run. The script also
prints the wall time and peak RSS of the real CLI command, start-up included,
and the CLI's start-up time alone. The target is an import within 3x the
DictReader pass.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = [
    "serial",
    "hostname",
    "make",
    "model",
    "osName",
    "osVersion",
    "site",
    "cost",
    "encrypted",
    "lastSeenOn",
    "tags",
    "owner_email",
]
MAKES = [("Apple", "MacBook Pro"), ("Dell", "Latitude 7440"), ("Lenovo", "ThinkPad X1")]
IMPORT_ARGS = [
    "--class",
    "Device",
    "--type",
    "acme_laptop",
    "--key",
    "device:{serial}",
    "--map",
    "owner_email=ownerEmail",
    "--set",
    "name={hostname}",
    "--set",
    "displayName={hostname}",
]
DICTREADER = """
import csv, sys, time
start = time.perf_counter()
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    rows = sum(1 for _ in csv.DictReader(handle))
print(time.perf_counter() - start, rows)
"""
IN_PROCESS = """
import sys, time
from j1gitops.commands.importers import ImportOptions, run_import_csv
import j1gitops.importers.csvfile, j1gitops.importers.entities, j1gitops.importers.output
args = sys.argv[1:]
start = time.perf_counter()
run_import_csv(ImportOptions(
    path=args[0], classes="Device", type="acme_laptop", key="device:{serial}",
    maps=["owner_email=ownerEmail"], sets=["name={hostname}", "displayName={hostname}"],
    output=args[1],
))
print(time.perf_counter() - start, 0)
"""


def generate(path: Path, rows: int) -> None:
    """Write ``rows`` devices; the same ``rows`` always give the same file."""
    rng = random.Random(42)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            make, model = rng.choice(MAKES)
            writer.writerow(
                [
                    f"SER{i:08d}",
                    f"host-{i:06d}",
                    make,
                    model,
                    rng.choice(["macOS", "Windows", "Linux"]),
                    f"{rng.randint(10, 14)}.{rng.randint(0, 9)}",
                    rng.choice(["ber", "lon", "nyc", "sfo"]),
                    f"{rng.randint(500, 3000)}.{rng.randint(0, 99):02d}",
                    rng.choice(["true", "false"]),
                    f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                    f"{rng.randint(0, 23):02d}:00:00Z",
                    "laptop,managed",
                    f"user{rng.randint(0, 5000)}@example.com",
                ]
            )


def run(command: list[str]) -> tuple[float, int, str]:
    """Run ``command``; return its wall time, peak RSS in bytes and stdout."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    output = process.stdout.read().decode()
    errors = process.stderr.read().decode()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{errors}")
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return wall, usage.ru_maxrss * scale, output


def best_of(runs: int, command: list[str]) -> tuple[list[float], int]:
    """Run ``command`` ``runs`` times; return the times it printed, fastest
    first, and the largest peak RSS."""
    times, peak = [], 0
    for _ in range(runs):
        _, rss, output = run(command)
        times.append(float(output.split()[0]))
        peak = max(peak, rss)
    return sorted(times), peak


def megabytes(size: int) -> str:
    return f"{size / 2**20:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows to generate")
    parser.add_argument("--runs", type=int, default=3, help="runs of each timing")
    parser.add_argument("--keep", action="store_true", help="keep the files")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="j1gitops-bench-"))
    source = folder / "devices.csv"
    generate(source, options.rows)

    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(
        f"input:   {source} ({options.rows} rows, {megabytes(source.stat().st_size)})"
    )

    python = sys.executable
    reader_times, reader_rss = best_of(
        options.runs, [python, "-c", DICTREADER, str(source)]
    )
    import_times, import_rss = best_of(
        options.runs,
        [python, "-c", IN_PROCESS, str(source), str(folder / "in_process.yaml")],
    )
    cli = [
        python,
        "-m",
        "j1gitops",
        "import",
        "csv",
        str(source),
        *IMPORT_ARGS,
        "-o",
        str(folder / "cli.yaml"),
    ]
    cli_wall, cli_rss, _ = run(cli)
    startup_wall, _, _ = run([python, "-m", "j1gitops", "--version"])

    print()
    print(f"runs:                  best of {options.runs} (slowest in brackets)")
    print(
        f"csv.DictReader pass:   {reader_times[0]:6.2f} s ({reader_times[-1]:.2f} s)"
        f"   peak RSS {megabytes(reader_rss)}"
    )
    print(
        f"import (in process):   {import_times[0]:6.2f} s ({import_times[-1]:.2f} s)"
        f"   peak RSS {megabytes(import_rss)}"
    )
    print(
        f"ratio:                 {import_times[0] / reader_times[0]:6.1f}x  "
        "(target: 3x or less)"
    )
    print(f"CLI, wall time:        {cli_wall:6.2f} s   peak RSS {megabytes(cli_rss)}")
    print(f"CLI start-up only:     {startup_wall:6.2f} s   (j1gitops --version)")
    print(f"CLI command: {' '.join(cli)}")
    if options.keep:
        print(f"files kept in {folder}")
    else:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
