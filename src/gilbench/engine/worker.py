"""Runs inside one trial's fresh process (``python -m gilbench.engine.worker``).

State machine, as in pyperf's worker: read the spec from stdin -> check the strategy is
available (else report ``skipped``) -> start the pool (timed apart: ``startup``) -> one warm-up
pass -> ``samples`` timed passes, each reported as it ends -> ``done`` with a checksum of the
task results. Messages are JSON lines on the file descriptor named by ``GILBENCH_RESULT_FD``,
so whatever the user's code prints on stdout cannot corrupt them.

Only the standard library is used for metrics so that this runs in any target interpreter.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import resource
import sys
import time
import traceback
from typing import Any

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu_s(pid: int) -> float:
    """user+system seconds of a live process, from /proc (Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def _proc_hwm_mb(pid: int | str) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def cpu_seconds() -> float:
    """CPU of this process, its reaped children, and its live multiprocessing children."""
    t = os.times()
    live = sum(_proc_cpu_s(p.pid) for p in multiprocessing.active_children())
    return t.user + t.system + t.children_user + t.children_system + live


def peak_rss_mb() -> float:
    own = _proc_hwm_mb("self")
    if own is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return own + sum(_proc_hwm_mb(p.pid) or 0.0 for p in multiprocessing.active_children())


def checksum(results: list[Any]) -> str:
    text = json.dumps(results, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    return text.splitlines()[0] if text else type(exc).__name__


def calibrate(call, knob: str, target_s: float, start: int) -> int:
    """The knob value for which one task takes about ``target_s`` here."""
    from gilbench.strategies import invoke

    n = start
    while True:
        kwargs = dict(call.kwargs, **{knob: n})
        t0 = time.perf_counter()
        invoke(call.func, tuple(call.args), kwargs)
        elapsed = time.perf_counter() - t0
        if elapsed >= 0.05 or n > 10**12:
            break
        n *= 4
    best = elapsed
    for _ in range(2):  # the fastest of three: the least disturbed by the machine
        t0 = time.perf_counter()
        invoke(call.func, tuple(call.args), kwargs)
        best = min(best, time.perf_counter() - t0)
    return max(1, int(n * target_s / best))


def run(spec: dict, send) -> None:
    from gilbench import strategies
    from gilbench.workloads import Call

    call = Call.from_dict(spec["call"])
    if spec.get("mode") == "calibrate":
        send(type="calibrated", value=calibrate(call, spec["knob"], spec["target_s"], spec.get("start", 10_000)))
        return
    try:
        strategy = strategies.create(spec["strategy"], **spec.get("options", {}))
    except strategies.Unavailable as exc:
        send(type="skipped", reason=str(exc))
        return
    try:
        reason = strategy.available(call)
    except Exception as exc:
        send(type="error", error=f"cannot load the task: {_describe(exc)}", where="load")
        return
    if reason:
        send(type="skipped", reason=reason)
        return
    workers, tasks = spec["workers"], spec["tasks"]
    t0 = time.perf_counter()
    strategy.start(workers, call)
    send(type="startup", startup_s=time.perf_counter() - t0)
    try:
        strategy.run(call, min(tasks, workers) if spec.get("short_warmup", True) else tasks)
        results: list[Any] = []
        for _ in range(spec["samples"]):
            c0 = cpu_seconds()
            t0 = time.perf_counter()
            results = strategy.run(call, tasks)
            wall = time.perf_counter() - t0
            cpu = cpu_seconds() - c0
            send(type="sample", wall_s=wall, cpu_s=cpu, rss_mb=peak_rss_mb())
        send(type="done", checksum=checksum(results), note=strategy.note)
    finally:
        strategy.close()


def main() -> None:
    out = os.fdopen(int(os.environ["GILBENCH_RESULT_FD"]), "w", buffering=1)

    def send(**message: Any) -> None:
        out.write(json.dumps(message) + "\n")

    spec = json.loads(sys.stdin.read())
    # The user's modules are found from the directory gilbench was started in.
    sys.path.insert(0, spec.get("cwd") or os.getcwd())
    try:
        run(spec, send)
    except BaseException as exc:  # report everything, including SystemExit from user code
        send(type="error", error=_describe(exc), traceback=traceback.format_exc()[-4000:])
    finally:
        out.close()


if __name__ == "__main__":
    main()
