"""Runs inside one trial's fresh process (``python -m gilbench.engine.worker``).

State machine, as in pyperf's worker: read the spec from stdin -> check the strategy is
available (else report ``skipped``) -> start the pool (timed apart: ``startup``) -> one warm-up
pass -> ``samples`` timed passes, each reported as it ends -> ``done`` with a checksum of the
task results. Messages are JSON lines on the file descriptor named by ``GILBENCH_RESULT_FD``,
so whatever the user's code prints on stdout cannot corrupt them.

Only the standard library is used for metrics so that this runs in any target interpreter
(GIL contention also needs gilknocker there; without it the row says how to install it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import resource
import sys
import time
import traceback
from collections.abc import Iterator
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
    # process_time() is exact for this process's threads; os.times() counts 10 ms clock ticks.
    return time.process_time() + t.children_user + t.children_system + live


def run_queue() -> dict[str, int]:
    """Per thread of this process and its live multiprocessing children: nanoseconds spent ready
    to run but waiting for a core (Linux schedstat). Empty where the kernel does not say."""
    out: dict[str, int] = {}
    for pid in (os.getpid(), *(p.pid for p in multiprocessing.active_children())):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    out[tid] = int(f.read().split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return out


def run_queue_s(before: dict[str, int]) -> float | None:
    """Seconds of run-queue wait since ``before`` (threads that ended in between are not counted)."""
    after = run_queue()
    if not after:
        return None
    return sum(ns - before.get(tid, 0) for tid, ns in after.items()) / 1e9


def peak_rss_mb() -> float:
    own = _proc_hwm_mb("self")
    if own is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return own + sum(_proc_hwm_mb(p.pid) or 0.0 for p in multiprocessing.active_children())


def checksum(results: list[Any]) -> str:
    text = json.dumps(results, sort_keys=True, default=_canonical)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _canonical(obj: Any) -> Any:
    # A set's order follows string hashing, which differs from process to process.
    if isinstance(obj, (set, frozenset)):
        return sorted(repr(x) for x in obj)
    return repr(obj)


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
    from gilbench.engine import contention
    from gilbench.engine.freethreading import GilWatch, join_notes
    from gilbench.workloads import Call

    call = Call.from_dict(spec["call"])
    watch = GilWatch()  # on a free-threaded build: which import, if any, turns the GIL back on
    if spec.get("mode") == "calibrate":
        send(type="calibrated", value=calibrate(call, spec["knob"], spec["target_s"], spec.get("start", 10_000)))
        return
    if spec.get("setup"):  # gilbench bench --setup: build the arguments here, once, untimed
        from gilbench.engine.usercall import with_setup

        try:
            call = with_setup(call, spec["setup"])
        except Exception as exc:
            send(type="error", error=f"setup {spec['setup']} failed: {_describe(exc)}", where="setup", traceback=traceback.format_exc()[-4000:])
            return
    if spec.get("mode") == "probe":  # gilbench bench: one call's time and what it returns
        from gilbench.engine.usercall import probe

        send(type="calibrated", **probe(call))
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
    gil = contention.Probe(spec["strategy"], enabled=spec.get("gil_contention", True))
    try:
        try:
            strategy.run(call, min(tasks, workers) if spec.get("short_warmup", True) else tasks)
        except strategies.Unavailable as exc:  # found out only by running it (e.g. an import inside the task)
            send(type="skipped", reason=str(exc))
            return
        results: list[Any] = []
        for _ in range(spec["samples"]):
            gil.begin()
            q0 = run_queue()
            c0 = cpu_seconds()
            t0 = time.perf_counter()
            results = strategy.run(call, tasks)
            wall = time.perf_counter() - t0
            cpu = cpu_seconds() - c0
            queued = run_queue_s(q0)
            send(type="sample", wall_s=wall, cpu_s=cpu, rss_mb=peak_rss_mb(), run_queue_s=queued, **gil.read(wall))
        digest = checksum(results) if spec.get("compare_results", True) else None
        send(type="done", checksum=digest, note=join_notes(strategy.note, watch.note()), gil_contention_reason=gil.reason)
    finally:
        strategy.close()
        gil.close()


@contextlib.contextmanager
def call_fixture(spec: dict) -> Iterator[None]:
    """Enter the call's per-trial fixture (``Call.fixture``, e.g. a database file) around the
    whole trial, calibration included, and add what it yields to the task's kwargs."""
    path = spec["call"].get("fixture")
    if not path:
        yield
        return
    from gilbench.workloads import resolve

    with resolve(path)() as extra:
        spec["call"]["kwargs"] = {**spec["call"].get("kwargs", {}), **extra}
        yield


def main() -> None:
    out = os.fdopen(int(os.environ["GILBENCH_RESULT_FD"]), "w", buffering=1)

    def send(**message: Any) -> None:
        out.write(json.dumps(message) + "\n")

    spec = json.loads(sys.stdin.read())
    # The user's modules are found from the directory gilbench was started in.
    sys.path.insert(0, spec.get("cwd") or os.getcwd())
    try:
        with call_fixture(spec):
            run(spec, send)
    except BaseException as exc:  # report everything, including SystemExit from user code
        send(type="error", error=_describe(exc), traceback=traceback.format_exc()[-4000:])
    finally:
        out.close()


if __name__ == "__main__":
    main()
