"""The free-threaded build against the default build of the same source (issue 12).

Run: .venv/bin/python benchmarks/bench_freethreaded.py [--json PATH] [--samples N]

Builds (or finds, cached) CPython 3.13 twice with ``scripts/build-python.sh``, the default build
and ``--disable-gil``, then measures ``cpu.count`` (the post's loop) and ``cpu.json`` on both
through ``gilbench run``: sequential, threads and processes at 1 and 2 workers. The
free-threaded binary runs twice, GIL off (``3.13.15t``) and ``PYTHON_GIL=1`` (``3.13.15t+gil``).

Prints the build time, then per workload: each interpreter's threads x2 speedup over its own
sequential, the free-threaded single-thread cost (its sequential against the default build's,
with the 95% interval), and the cross-interpreter verdict; then one PASS/FAIL line per target:

- ``cpu.count`` on the free-threaded build, GIL off: threads x2 >= 1.5x its own sequential;
- ``cpu.count`` with ``PYTHON_GIL=1``: threads x2 <= 1.15x.

All figures are ratios measured in one run. A shared machine's load moves them: the load
average is printed first, and nothing else should run beside this.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = ("cpu.count", "cpu.json")


def build() -> tuple[list[str], float]:
    """Run scripts/build-python.sh; returns (interpreter paths it printed, seconds it took).
    Exits with the script's message when it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["bash", os.path.join(ROOT, "scripts", "build-python.sh")],
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"build-python.sh failed: {proc.stderr.strip().splitlines()[-1:]}")
    paths = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    return paths, took


def row(doc: dict, workload: str, python: str, strategy: str, workers: int) -> dict | None:
    """The results row for that cell, or None."""
    return next(
        (
            r
            for r in doc["results"]
            if (r["workload"], r["python"], r["strategy"], r["workers"])
            == (workload, python, strategy, workers)
        ),
        None,
    )


def speedup_text(r: dict | None) -> str:
    """``1.89x [1.18-2.02] CPU/wall 1.95`` for an ok row, else its status."""
    if r is None:
        return "missing"
    if r["status"] != "ok" or r.get("speedup") is None:
        return f"{r['status']}: {r.get('error') or r.get('reason')}"
    low, high = r.get("speedup_ci95") or (None, None)
    interval = f" [{low:.2f}-{high:.2f}]" if low is not None else ""
    return f"{r['speedup']:.2f}x{interval} CPU/wall {r.get('cpu_util') or 0:.2f}"


def main() -> int:
    """Build, measure, print figures and targets; exit 0 when every target passes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="keep the results document here")
    parser.add_argument("--samples", type=int, default=7, help="timed passes per cell")
    args = parser.parse_args()

    paths, took = build()
    print(f"build-python.sh: {took:.1f} s (cached when well under a minute)")
    default, free = paths[0], paths[1]
    print(f"interpreters: {default} (default build), {free} (free-threaded)")
    print(f"load average (1 min) before: {os.getloadavg()[0]:.2f}")

    with tempfile.TemporaryDirectory() as tmp:
        out = args.json or os.path.join(tmp, "ft.json")
        cmd = [sys.executable, "-m", "gilbench", "run", "--python", default, "--python", free]
        for w in WORKLOADS:
            cmd += ["-w", w]
        for s in ("sequential", "threads", "processes"):
            cmd += ["-s", s]
        cmd += ["--workers", "1,2", "--samples", str(args.samples), "--json", out]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        print(f"gilbench run: {time.perf_counter() - t0:.0f} s, exit {proc.returncode}")
        with open(out) as f:
            doc = json.load(f)

    labels = [i["label"] for i in doc["interpreters"]]
    for workload in WORKLOADS:
        print(f"\n{workload}")
        for label in labels:
            print(
                f"  {label:14} threads x2 {speedup_text(row(doc, workload, label, 'threads', 2))}"
            )
            print(
                f"  {'':14} processes x2 {speedup_text(row(doc, workload, label, 'processes', 2))}"
            )
        for entry in doc.get("cross_interpreter", []):
            if entry["workload"] == workload:
                print(f"  verdict: {entry['why']}")
                for ft in entry.get("free_threaded", []):
                    if ft.get("limited_by"):
                        print(f"  limited by: {ft['limited_by']}")
    print(f"\nload average (1 min) after: {os.getloadavg()[0]:.2f}")

    ft_label = next(i["label"] for i in doc["interpreters"] if i["free_threaded_build"])
    targets = [
        ("cpu.count threads x2 on the free-threaded build >= 1.5x", ft_label, lambda s: s >= 1.5),
        ("cpu.count threads x2 with PYTHON_GIL=1 <= 1.15x", ft_label + "+gil", lambda s: s <= 1.15),
    ]
    failed = 0
    for text, label, ok in targets:
        r = row(doc, "cpu.count", label, "threads", 2)
        passed = bool(r and r.get("speedup") is not None and ok(r["speedup"]))
        failed += not passed
        print(f"{'PASS' if passed else 'FAIL'}  {text}: {speedup_text(r)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
