"""The post's advice for mixed work: the I/O step in threads, the CPU step in processes.

For a call that declares its steps (``Call.io_func``, ``Call.cpu_func``), ``workers`` threads
run the I/O step and, as each one finishes, its result goes to a pool of ``workers`` processes
for the CPU step: waiting overlaps in one interpreter while parsing runs on every core. The
two are pipelined, so a task's CPU step can start while later tasks still wait.
"""

from __future__ import annotations

import functools
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from typing import Any

from gilbench.strategies.base import (
    ProcessPoolBase,
    Traits,
    cannot_cross,
    invoke,
    noop,
    start_method_missing,
    wait_for_processes,
)
from gilbench.workloads.call import Call


class Hybrid(ProcessPoolBase):
    """``workers`` threads for ``call.io_func`` pipelined into a ``ProcessPoolExecutor`` of
    ``workers`` processes for ``call.cpu_func``; each task's result is the CPU step's."""

    name = "hybrid"
    traits = Traits(
        shares_gil=False,
        core_bound=True,
        crosses_processes=True,
        colour="#E69F00",
        gil_note="its CPU step runs in processes, each with its own GIL",
        options=("start_method",),
    )

    @staticmethod
    def skip_reason(call: Call, by_default: bool) -> str | None:
        """Why hybrid cannot split this call: it declares no I/O and CPU steps."""
        if not (call.io_func and call.cpu_func):
            return (
                "the workload declares no I/O and CPU steps (Call.io_func, Call.cpu_func) "
                "to split between threads and processes"
            )
        return None

    def available(self, call: Call) -> str | None:
        """Checks the call declares both steps, the start method exists and the CPU step can
        be pickled to a process (its input, the I/O step's result, is only known at run time)."""
        if why := self.skip_reason(call, by_default=False) or start_method_missing(
            self.start_method
        ):
            return why
        if why := cannot_cross(call.cpu_func, (), {}):
            return f"CPU step: {why}"
        return None

    def start(self, workers: int, call: Call) -> None:
        self._io = functools.partial(invoke, call.io_func, tuple(call.args), dict(call.kwargs))
        self._cpu = functools.partial(invoke, call.cpu_func)
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gilbench-io")
        self._procs = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context(self.start_method)
        )
        list(self._threads.map(noop, range(workers)))
        wait_for_processes(self._procs.map, workers)
        self.note = (
            f"I/O step in {workers} threads, CPU step in {workers} processes "
            f"(start method {self.start_method})"
        )

    def run(self, call: Call, tasks: int) -> list[Any]:
        waiting = {self._threads.submit(self._io, i): i for i in range(tasks)}
        parsing: list[Future | None] = [None] * tasks
        for done in as_completed(waiting):
            parsing[waiting[done]] = self._procs.submit(self._cpu, (done.result(),), {})
        return [f.result() for f in parsing]

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        self._procs.shutdown(wait=True, cancel_futures=True)
