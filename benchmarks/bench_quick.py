"""`gilbench run --quick` over every workload (DESIGN target <= 60 s).

Run: .venv/bin/python benchmarks/bench_quick.py

Runs the command as a user would (a subprocess, default strategies), then prints its wall time
against the target, the rows by status, each workload's verdict, and the load average before
and after: on a shared machine the wall time moves with it.

Exit code 0 when the target is met and no row failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

TARGET_S = 60.0


def main(argv: list[str] | None = None) -> int:
    """Run ``gilbench run --quick`` ``--runs`` times and print each; exit status 0 when every
    run met ``TARGET_S`` seconds with no error or timeout row, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="repeat the command this many times")
    args = parser.parse_args(argv)
    ok = True
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as folder:
            out = os.path.join(folder, "quick.json")
            load = os.getloadavg()[0]
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "gilbench", "run", "--quick", "--json", out],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            wall = time.perf_counter() - started
            if proc.returncode not in (0, 1) or not os.path.exists(out):
                print(f"run {run}: gilbench exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
                return 1
            with open(out) as handle:
                doc = json.load(handle)
        statuses = collections.Counter(r["status"] for r in doc["results"])
        passed = wall <= TARGET_S
        ok &= passed and statuses.get("error", 0) == 0 and statuses.get("timeout", 0) == 0
        print(
            f"run {run}: gilbench run --quick took {wall:.1f} s (target <= {TARGET_S:g} s) "
            f"{'PASS' if passed else 'FAIL'}; load {load:.2f} -> {os.getloadavg()[0]:.2f}"
        )
        print("  rows: " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())))
        for rec in doc["recommendations"]:
            print(
                f"  {rec['workload']:<18} {rec['strategy']:<10} x{rec['workers']} "
                f"{rec['speedup']:.2f}x"
            )
        for warning in doc["warnings"]:
            print(f"  warning: {warning['message']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
