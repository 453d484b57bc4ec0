"""Runs inside one trial's fresh process (``python -m gilbench.engine.worker``).

Reads a :class:`~gilbench.engine.protocol.TrialSpec` from stdin and runs its mode, one function
each: ``measure`` is pyperf's worker state machine (check the strategy is available, else
``skipped`` -> start the pool, timed apart: ``startup`` -> warm-up passes until two in a row
agree (:func:`warm_up`) -> ``samples`` timed values, each ``loops`` passes long so that it lasts
at least ``MIN_VALUE_S`` (:func:`loops_for`), reported as it ends -> ``done`` with a checksum of
the task results and the warm-up count);
``calibrate`` sizes a workload's knob; ``probe`` (``gilbench bench``) calls the user's function.
Messages (``engine/protocol.py``) are JSON lines on the file descriptor named by
``GILBENCH_RESULT_FD``, so whatever the user's code prints on stdout cannot corrupt them.

Only the standard library is used for metrics so that this runs in any target interpreter
(GIL contention also needs gilknocker there; without it the row says how to install it).
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gilbench.engine import protocol
from gilbench.engine.checksum import checksum
from gilbench.engine.protocol import TrialSpec

if TYPE_CHECKING:
    from gilbench.engine.freethreading import GilWatch

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# A timed value shorter than this cannot be timed to a few percent on a shared machine (a
# scheduler tick, a page fault burst): the pass is repeated until the value lasts this long.
# pyperf's ``--min-time`` default is 0.1 s; gilbench times whole pools, whose jitter is larger.
MIN_VALUE_S = 0.2
MAX_LOOPS = 1000
# Warm-up (pyperf calibrates its warm-ups the same way): passes repeat until two in a row agree
# within STEADY_WITHIN, at most MAX_WARMUPS passes, and stop early once they have taken as long
# as one timed pass (at least MIN_VALUE_S, at most WARMUP_BUDGET_S): warming up longer than
# the measurement costs more than the first calls' excess could bias it.
STEADY_WITHIN = 0.10
MAX_WARMUPS = 6
WARMUP_BUDGET_S = 1.0


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
    """CPU seconds (user + system) of this process, its reaped children, and its live
    multiprocessing children (those read from Linux /proc/<pid>/stat; 0 where unreadable)."""
    t = os.times()
    live = sum(_proc_cpu_s(p.pid) for p in multiprocessing.active_children())
    # process_time() is exact for this process's threads; os.times() counts 10 ms clock ticks.
    return time.process_time() + t.children_user + t.children_system + live


def run_queue() -> dict[str, int]:
    """Thread id -> nanoseconds spent ready to run but waiting for a core, for every thread of
    this process and its live multiprocessing children (field 2 of Linux
    /proc/<pid>/task/<tid>/schedstat). Empty where the kernel does not say."""
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
    """Seconds of run-queue wait since ``before`` (a :func:`run_queue` snapshot); threads that
    ended in between are not counted. None where schedstat is unavailable."""
    after = run_queue()
    if not after:
        return None
    return sum(ns - before.get(tid, 0) for tid, ns in after.items()) / 1e9


def peak_rss_mb() -> float:
    """Peak resident memory so far, MiB: VmHWM (Linux /proc/<pid>/status) of this process plus
    its live multiprocessing children; without /proc, ``getrusage`` ru_maxrss of this process."""
    own = _proc_hwm_mb("self")
    if own is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return own + sum(_proc_hwm_mb(p.pid) or 0.0 for p in multiprocessing.active_children())


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    return text.splitlines()[0] if text else type(exc).__name__


def calibrate(call, knob: str, target_s: float, start: int) -> int:
    """The knob value (int >= 1) for which one task takes about ``target_s`` seconds here.

    Multiplies the knob by 4 from ``start`` until one call takes 50 ms, then scales it by the
    fastest of three calls. The task's exceptions propagate."""
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


Send = Callable[[protocol.Message], None]


def run(spec: TrialSpec, send: Send) -> None:
    """Run one trial of ``spec.mode`` and ``send`` its messages (see ``engine/protocol.py``)."""
    from gilbench.engine.freethreading import GilWatch
    from gilbench.workloads import Call

    call = Call.from_dict(spec.call)
    if spec.mode == "calibrate":
        run_calibrate(spec, call, send)
        return
    # On a free-threaded build: which import, if any, turns the GIL back on (setup's included).
    watch = GilWatch()
    if spec.mode == "probe":  # gilbench bench checks its input here when this is another Python
        from gilbench.engine.usercall import LoadError, load

        try:
            load(call.func, "function", spec.cwd or os.getcwd())
            if spec.setup:
                load(spec.setup, "--setup function", spec.cwd or os.getcwd())
        except LoadError as exc:
            send(protocol.Failed(str(exc), where="load"))
            return
    if spec.setup:  # gilbench bench --setup: build the arguments here, once, untimed
        from gilbench.engine.usercall import with_setup

        try:
            call = with_setup(call, spec.setup)
        except Exception as exc:
            send(
                protocol.Failed(
                    f"setup {spec.setup} failed: {_describe(exc)}",
                    where="setup",
                    traceback=traceback.format_exc()[-4000:],
                )
            )
            return
    if spec.mode == "probe":
        run_probe(call, send)
    else:
        run_measure(spec, call, send, watch)


def run_calibrate(spec: TrialSpec, call, send: Send) -> None:
    """Calibrate mode: one :class:`protocol.Calibrated` with the knob's value."""
    assert spec.knob is not None and spec.target_s is not None  # TrialSpec checks it
    send(protocol.Calibrated(calibrate(call, spec.knob, spec.target_s, spec.start)))


def run_probe(call, send: Send) -> None:
    """Probe mode (gilbench bench): one call's time and what it returns, as
    :class:`protocol.Probed`."""
    from gilbench.engine.usercall import probe

    send(probe(call))


def run_measure(spec: TrialSpec, call, send: Send, watch: GilWatch) -> None:
    """Measure mode: start the pool (timed apart), warm up, time ``spec.samples`` passes.

    Sends Startup, a Sample per pass and Done; or Skipped / Failed when the strategy cannot
    run the call; ``watch`` notes imports that turned the GIL back on. A task's exception
    propagates (``main`` reports it)."""
    from gilbench import strategies
    from gilbench.engine import contention
    from gilbench.engine.freethreading import join_notes

    assert spec.strategy is not None  # TrialSpec checks it
    try:
        strategy = strategies.create(spec.strategy, **spec.options)
    except strategies.Unavailable as exc:
        send(protocol.Skipped(str(exc)))
        return
    try:
        reason = strategy.available(call)
    except Exception as exc:
        send(protocol.Failed(f"cannot load the task: {_describe(exc)}", where="load"))
        return
    if reason:
        send(protocol.Skipped(reason))
        return
    workers, tasks = spec.workers, spec.tasks
    t0 = time.perf_counter()
    strategy.start(workers, call)
    send(protocol.Startup(time.perf_counter() - t0))
    gil = contention.Probe(spec.strategy, enabled=spec.gil_contention)
    try:
        warm_tasks = min(tasks, workers) if spec.short_warmup else tasks
        scale = -(-tasks // warm_tasks)  # warm-up passes in one timed pass, about
        try:
            warm = warm_up(lambda: strategy.run(call, warm_tasks), scale)
        except strategies.Unavailable as exc:  # found only by running it (an import in the task)
            send(protocol.Skipped(str(exc)))
            return
        loops = loops_for(warm.last_s * scale, spec.loops)
        results: list[Any] = []
        for _ in range(spec.samples):
            gil.begin()
            q0 = run_queue()
            c0 = cpu_seconds()
            t0 = time.perf_counter()
            for _ in range(loops):
                results = strategy.run(call, tasks)
            wall = (time.perf_counter() - t0) / loops
            cpu = (cpu_seconds() - c0) / loops
            queued = run_queue_s(q0)
            queued = None if queued is None else queued / loops
            send(protocol.Sample(wall, cpu, peak_rss_mb(), queued, **gil.read(wall), loops=loops))
        digest = checksum(results) if spec.compare_results else None
        send(
            protocol.Done(
                digest,
                join_notes(strategy.note, watch.note()),
                gil.reason,
                watch.reenabled_by(),
                warmups=warm.passes,
                steady=warm.steady,
            )
        )
    finally:
        strategy.close()
        gil.close()


@dataclass
class WarmUp:
    """What :func:`warm_up` did: passes run, the last one's wall seconds, and whether the last
    two agreed within STEADY_WITHIN (False: it stopped at the cap or the time budget)."""

    passes: int
    last_s: float
    steady: bool


def warm_up(one_pass: Callable[[], Any], scale: int = 1) -> WarmUp:
    """Run ``one_pass`` until two passes in a row take times within STEADY_WITHIN (10%) of each
    other, as pyperf's warm-up calibration does: a fresh process is not in its steady state
    after one call (imports, caches, the allocator's first requests for memory from the system).

    At most MAX_WARMUPS passes. It also stops, unsettled, once the warm-up has lasted as long as
    one timed pass, about ``scale`` warm-up passes (within MIN_VALUE_S .. WARMUP_BUDGET_S), and
    two passes ran; a single pass that alone lasts WARMUP_BUDGET_S is its own warm-up.
    Exceptions from ``one_pass`` propagate."""
    spent, previous = 0.0, None
    for n in range(1, MAX_WARMUPS + 1):
        t0 = time.perf_counter()
        one_pass()
        wall = time.perf_counter() - t0
        spent += wall
        if previous is not None and abs(wall - previous) <= STEADY_WITHIN * max(wall, previous):
            return WarmUp(n, wall, True)
        budget = min(WARMUP_BUDGET_S, max(MIN_VALUE_S, wall * scale))
        if wall >= WARMUP_BUDGET_S or (n >= 2 and spent >= budget):
            return WarmUp(n, wall, False)
        previous = wall
    return WarmUp(MAX_WARMUPS, wall, False)


def loops_for(pass_s: float, given: int | None = None) -> int:
    """Passes per timed value: ``given`` when the parent fixed it, else enough that a value lasts
    MIN_VALUE_S (pyperf's loop calibration, on a pass of about ``pass_s`` seconds), 1 to
    MAX_LOOPS."""
    if given:
        return given
    if pass_s >= MIN_VALUE_S:
        return 1
    return min(MAX_LOOPS, math.ceil(MIN_VALUE_S / max(pass_s, 1e-9)))


@contextlib.contextmanager
def call_fixture(spec: TrialSpec) -> Iterator[None]:
    """Enter the call's per-trial fixture (``Call.fixture``, e.g. a database file) around the
    whole trial, calibration included, and add what it yields to the task's kwargs."""
    path = spec.call.get("fixture")
    if not path:
        yield
        return
    from gilbench.workloads import resolve

    with resolve(path)() as extra:
        spec.call["kwargs"] = {**spec.call.get("kwargs", {}), **extra}
        yield


def main() -> None:
    """Entry point: read the spec from stdin, run it, write messages to GILBENCH_RESULT_FD.

    Every exception, SystemExit included, becomes a final ``Failed`` message; raises KeyError
    when GILBENCH_RESULT_FD is unset."""
    out = os.fdopen(int(os.environ["GILBENCH_RESULT_FD"]), "w", buffering=1)

    def send(message: protocol.Message) -> None:
        out.write(message.to_json() + "\n")

    spec = TrialSpec.from_json(sys.stdin.read())
    # The user's modules are found from the directory gilbench was started in.
    sys.path.insert(0, spec.cwd or os.getcwd())
    try:
        with call_fixture(spec):
            run(spec, send)
    except BaseException as exc:  # report everything, including SystemExit from user code
        send(protocol.Failed(_describe(exc), traceback=traceback.format_exc()[-4000:]))
    finally:
        out.close()
        _wait_for_release()


def _wait_for_release() -> None:
    """Block until the parent closes ``GILBENCH_RELEASE_FD`` (it has found this trial's
    descendants, which stay this subreaper's while it lives) or dies. No-op when unset."""
    fd = os.environ.get("GILBENCH_RELEASE_FD")
    if not fd:
        return
    with contextlib.suppress(OSError, ValueError):
        while os.read(int(fd), 64):
            pass


if __name__ == "__main__":
    main()
