"""The post's advice for mixed work: the I/O step in threads, the CPU step in processes.

For a call that declares its steps (``Call.io_func``, ``Call.cpu_func``), ``workers`` threads
run the I/O step and, as each one finishes, its result goes to a pool of ``workers`` processes
for the CPU step: waiting overlaps in one interpreter while parsing runs on every core. The
two are pipelined, so a task's CPU step can start while later tasks still wait.
"""

from __future__ import annotations

import functools
import multiprocessing
import pickle
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from typing import Any

from gilbench.strategies import invoke
from gilbench.strategies.processes import _pid_after
from gilbench.strategies.threads import _noop
from gilbench.workloads import Call, resolve


def no_steps(call: Call) -> str | None:
    """Why hybrid cannot split this call, judged from the call alone (no import, no process)."""
    if not (call.io_func and call.cpu_func):
        return "the workload declares no I/O and CPU steps (Call.io_func, Call.cpu_func) to split between threads and processes"
    return None


class Hybrid:
    name = "hybrid"

    def __init__(self, start_method: str | None = None):
        self.start_method = start_method or multiprocessing.get_start_method()
        self.note: str | None = None

    def available(self, call: Call) -> str | None:
        if why := no_steps(call):
            return why
        if self.start_method not in multiprocessing.get_all_start_methods():
            return f"start method {self.start_method!r} not available here"
        cpu = resolve(call.cpu_func)
        if getattr(cpu, "__module__", None) == "__main__":
            return "CPU step defined in __main__: process workers cannot import it"
        try:
            pickle.dumps(cpu)
        except Exception as exc:  # pickling raises many types
            return f"CPU step not picklable: {type(exc).__name__}: {exc}"
        return None

    def start(self, workers: int, call: Call) -> None:
        self._io = functools.partial(invoke, call.io_func, tuple(call.args), dict(call.kwargs))
        self._cpu = functools.partial(invoke, call.cpu_func)
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gilbench-io")
        self._procs = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(self.start_method))
        list(self._threads.map(_noop, range(workers)))
        pids: set[int] = set()  # as Processes.start: every process up before the first sample
        for _ in range(50):
            pids.update(self._procs.map(_pid_after, [0.005] * workers))
            if len(pids) >= workers:
                break
        self.note = f"I/O step in {workers} threads, CPU step in {workers} processes (start method {self.start_method})"

    def run(self, call: Call, tasks: int) -> list[Any]:
        waiting = {self._threads.submit(self._io, i): i for i in range(tasks)}
        parsing: list[Future | None] = [None] * tasks
        for done in as_completed(waiting):
            parsing[waiting[done]] = self._procs.submit(self._cpu, (done.result(),), {})
        return [f.result() for f in parsing]

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        self._procs.shutdown(wait=True, cancel_futures=True)
