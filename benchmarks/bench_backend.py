"""Backend workloads and hybrid (issue 3).

Run: .venv/bin/python benchmarks/bench_backend.py [--json PATH]

Measures, with each workload's defaults (2 workers; io.postgres 8 tasks x 8 workers on a
throwaway cluster gilbench starts), the post's summary claims as targets:

- C code that releases the GIL (native.hashlib, native.zlib): threads speedup >= 1.5;
- C code that holds it (cpu.json, cpu.regex): threads <= 1.2, processes >= 1.5;
- a database that waits (io.postgres): threads and asyncio >= 5, and no postgres left after;
- mixed work (mixed.fetch_parse): hybrid at least as fast as the better of threads and
  processes, within that one's 95% interval.

Prints the table (median wall, speedup [95% CI], CPU/wall) with the load average, then one
PASS/FAIL line per target. A shared machine's load moves figures: read the load first.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import psutil

from gilbench.engine.results import write_json_atomic
from gilbench.engine.session import Plan, Session
from gilbench.workloads import get_workload

WORKLOADS = (
    "native.hashlib",
    "native.zlib",
    "cpu.json",
    "cpu.regex",
    "io.postgres",
    "mixed.fetch_parse",
)
STRATEGIES = ["sequential", "threads", "processes", "asyncio", "hybrid"]


# Inherited by every process this run starts (the PostgreSQL cluster included), so its leftovers
# are told apart from other work on the machine.
TAG = f"{os.getpid()}-{time.time_ns()}"
os.environ["GILBENCH_BENCH_TAG"] = TAG


def postgres_processes() -> list[int]:
    """Live PostgreSQL server processes that this run started."""
    found = []
    for p in psutil.process_iter(["name"]):
        try:
            if (
                p.info["name"] == "postgres"
                and p.environ().get("GILBENCH_BENCH_TAG") == TAG
                and p.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(p.pid)
        except psutil.Error:
            continue
    return found


def targets(rows: dict) -> list[tuple[str, bool, str]]:
    """The module docstring's targets as (name, passed, measured value) from ``rows``, keyed
    by (workload, strategy). Raises KeyError when a workload or strategy did not run."""

    def sp(w: str, s: str) -> float:
        return rows[(w, s)].speedup or 0.0

    out = []
    for w in ("native.hashlib", "native.zlib"):
        out.append((f"{w} threads >= 1.5", sp(w, "threads") >= 1.5, f"{sp(w, 'threads'):.2f}"))
    for w in ("cpu.json", "cpu.regex"):
        out.append((f"{w} threads <= 1.2", sp(w, "threads") <= 1.2, f"{sp(w, 'threads'):.2f}"))
        out.append(
            (f"{w} processes >= 1.5", sp(w, "processes") >= 1.5, f"{sp(w, 'processes'):.2f}")
        )
    for s in ("threads", "asyncio"):
        out.append(
            (f"io.postgres {s} >= 5", sp("io.postgres", s) >= 5, f"{sp('io.postgres', s):.2f}")
        )
    best = max(
        (rows[("mixed.fetch_parse", s)] for s in ("threads", "processes")),
        key=lambda r: r.speedup or 0,
    )
    hybrid = rows[("mixed.fetch_parse", "hybrid")]
    low = best.speedup_ci95[0] if best.speedup_ci95 else best.speedup
    out.append(
        (
            f"mixed.fetch_parse hybrid >= {best.strategy} (within its CI)",
            (hybrid.speedup or 0) >= low,
            f"hybrid {hybrid.speedup:.2f} vs {best.strategy} {best.speedup:.2f} "
            f"[{low:.2f}-{best.speedup_ci95[1]:.2f}]",
        )
    )
    return out


def main() -> int:
    """Run the plan, print the table and the targets; exit status 0 when every target passed
    and no PostgreSQL process is left, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results document here")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument(
        "-w", "--workload", action="append", help="a subset of the workloads (targets need all)"
    )
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    plan = Plan(
        [get_workload(w) for w in args.workload or WORKLOADS], STRATEGIES, samples=args.samples
    )
    doc = Session(
        plan,
        on_event=lambda e: e["type"] == "row"
        and print(f"  {e['row'].workload} / {e['row'].strategy}: {e['row'].status}", flush=True),
    ).run()
    print(f"load average after: {os.getloadavg()}")
    if args.json:
        write_json_atomic(args.json, doc.to_dict())
    print(
        f"\n{'workload':18} {'strategy':10} {'w':>2} {'t':>2} {'median':>8} "
        f"{'speedup [95% CI]':>20} {'cpu/wall':>8}  note"
    )
    for r in doc.results:
        if r.status != "ok":
            print(
                f"{r.workload:18} {r.strategy:10} {r.workers:2} {r.tasks:2} "
                f"{r.status}: {r.reason or r.error}"
            )
            continue
        ci = f"[{r.speedup_ci95[0]:.2f}-{r.speedup_ci95[1]:.2f}]" if r.speedup_ci95 else ""
        print(
            f"{r.workload:18} {r.strategy:10} {r.workers:2} {r.tasks:2} "
            f"{r.wall_s['median']:7.3f}s {r.speedup:6.2f}x {ci:>13} {r.cpu_util:8.2f}  "
            f"{r.note or ''}"
        )
    for rec in doc.recommendations:
        print(
            f"verdict {rec['workload']}: {rec['classification']} "
            f"-> {rec['strategy']} x{rec['workers']}"
        )
    left = postgres_processes()
    rows = {(r.workload, r.strategy): r for r in doc.results}
    ok = True
    if args.workload is None:
        print()
        for name, passed, value in targets(rows):
            ok &= passed
            print(f"{'PASS' if passed else 'FAIL'} {name}: {value}")
        print(f"{'PASS' if not left else 'FAIL'} no postgres process left: {left or 'none'}")
    return 0 if ok and not left else 1


if __name__ == "__main__":
    sys.exit(main())
