"""GIL contention figures (issue 5).

Run: .venv/bin/python benchmarks/bench_contention.py

Prints:
- the overhead of measuring GIL contention (gilknocker, 1 ms knocks) on cpu.count: sequential
  and threads x2 trials with and without it, interleaved in fresh processes; the ratio of
  medians (target <= 1.03);
- what the knocks see for different kinds of work, one thread each: contention, the GIL's
  typical hold stretch, and the classification it leads to (pure Python ~5 ms, one long C call
  holding the GIL ~ the call's length, C code releasing the GIL ~0).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# -- functions the trials call (importable from this directory) ---------------------------------
_DOC = None
_TEXT = None
_DATA = bytes(range(256)) * 4096 * 8  # 8 MiB


def py_loop(n: int = 3_000_000) -> int:
    """Pure Python: the counting loop, ``n`` iterations; returns ``n``."""
    x = 0
    for _ in range(n):
        x += 1
    return x


def json_dumps_big(items: int = 100_000) -> int:
    """One json.dumps call of ~100 ms: C code that keeps the GIL the whole time."""
    import json

    global _DOC
    _DOC = _DOC or [{"a": i, "b": str(i) * 5, "c": [i, i + 1, {"d": 1.5}]} for i in range(items)]
    return len(json.dumps(_DOC))


def json_dumps_small(calls: int = 20_000) -> int:
    """Many short json.dumps calls: C code, but the GIL changes hands between calls."""
    import json

    doc = {"a": 1, "b": [1, 2, 3], "c": "hello"}
    return sum(len(json.dumps(doc)) for _ in range(calls))


def regex_big(size: int = 2_000_000) -> int:
    """One re.findall over 16 MB: the regex engine holds the GIL for the whole call."""
    import re

    global _TEXT
    _TEXT = _TEXT or ("abc def " * size) + "needle"
    return len(re.findall(r"\b\w+e\b", _TEXT))


def sha256_big(rounds: int = 4) -> str:
    """SHA-256 over ``rounds`` x 8 MiB: C code that releases the GIL; the hex digest."""
    import hashlib

    h = hashlib.sha256()
    for _ in range(rounds):
        h.update(_DATA)
    return h.hexdigest()


# -- measuring ----------------------------------------------------------------------------------
def trial(func: str, strategy: str, workers: int, tasks: int, contention: bool, **kwargs) -> dict:
    """One sample of ``func(**kwargs)`` in a fresh trial process, GIL contention measured when
    ``contention``; the sample's dict (``wall_s``, ``cpu_s``, ``gil_contention``, ...). Exits
    with the reason when the trial does not succeed."""
    from gilbench.engine.runner import run_trial
    from gilbench.workloads import Call

    spec = {
        "call": Call(func, kwargs=kwargs).to_dict(),
        "strategy": strategy,
        "workers": workers,
        "tasks": tasks,
        "samples": 1,
        "cwd": HERE,
        "gil_contention": contention,
    }
    out = run_trial(sys.executable, spec, timeout=300)
    if out.status != "ok":
        raise SystemExit(f"{func} / {strategy}: {out.status}: {out.error or out.reason}")
    return out.samples[0]


def overhead(rounds: int, count: int) -> None:
    """Print wall and CPU time with and without contention measurement, ``rounds`` each."""
    print(
        f"overhead of measuring GIL contention on cpu.count ({count:,} iterations x 2 tasks, "
        f"{rounds} interleaved rounds):"
    )
    for strategy, workers in (("sequential", 1), ("threads", 2)):
        samples: dict[bool, list[dict]] = {True: [], False: []}
        for i in range(rounds):
            for on in (True, False) if i % 2 == 0 else (False, True):  # alternate who goes first
                samples[on].append(
                    trial("gilbench.workloads.cpu:count", strategy, workers, 2, on, count=count)
                )

        def median(on: bool, key: str, samples: dict = samples) -> float:
            return statistics.median(s[key] or 0.0 for s in samples[on])

        def least(on: bool, key: str, samples: dict = samples) -> float:
            """The least disturbed pass: robust on a shared machine."""
            return min(s[key] for s in samples[on])

        wall, cpu = (
            (median(True, "wall_s"), median(False, "wall_s")),
            (median(True, "cpu_s"), median(False, "cpu_s")),
        )
        print(
            f"  {strategy:<10} x{workers}: wall with {wall[0]:.4f} s, without {wall[1]:.4f} s, "
            f"ratio {wall[0] / wall[1]:.4f} (target <= 1.03);"
            f" ratio of minima {least(True, 'wall_s') / least(False, 'wall_s'):.4f}"
        )
        print(
            f"  {'':<13} CPU  with {cpu[0]:.4f} s, without {cpu[1]:.4f} s, "
            f"ratio {cpu[0] / cpu[1]:.4f}; ratio of minima"
            f" {least(True, 'cpu_s') / least(False, 'cpu_s'):.4f}; "
            f"waited for a core: with {median(True, 'run_queue_s'):.4f} s,"
            f" without {median(False, 'run_queue_s'):.4f} s"
        )


def kinds() -> None:
    """Print the median contention and GIL hold (ms) of 3 trials per kind of work, and how
    gilbench's thresholds (``analysis.recommend``) read them."""
    from gilbench.analysis.recommend import FREE_GIL_CONTENTION, HOLDS_GIL_MS

    print("what one thread's GIL looks like to the knocks (median of 3 fresh-process trials):")
    print(f"  {'function':<28}{'contention':>11}{'hold':>10}  reads as")
    for name, tasks in (
        ("py_loop", 2),
        ("json_dumps_small", 4),
        ("json_dumps_big", 3),
        ("regex_big", 1),
        ("sha256_big", 8),
    ):
        samples = [
            trial(f"bench_contention:{name}", "sequential", 1, tasks, True) for _ in range(3)
        ]
        c = statistics.median(s["gil_contention"] for s in samples)
        hold = statistics.median(s["gil_hold_ms"] for s in samples)
        reads = (
            "C code releasing the GIL"
            if c < FREE_GIL_CONTENTION
            else "C code holding the GIL"
            if hold >= HOLDS_GIL_MS
            else "Python code (switch interval)"
        )
        print(f"  {name:<28}{c:>11.3f}{hold:>8.1f} ms  {reads}")


def main() -> None:
    """Print the load average, the overhead (``--rounds``, ``--count``), then the kinds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--count", type=int, default=8_000_000, help="cpu.count iterations per task"
    )
    args = parser.parse_args()
    print(
        f"load average before: {os.getloadavg()[0]:.2f} "
        f"on {len(os.sched_getaffinity(0))} usable cores"
    )
    overhead(args.rounds, args.count)
    kinds()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
