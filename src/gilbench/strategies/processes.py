"""A ProcessPoolExecutor: one interpreter and one GIL per worker process."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from gilbench.strategies.base import ProcessPoolBase, Traits, task_fn, wait_for_processes
from gilbench.workloads.call import Call


class Processes(ProcessPoolBase):
    """``workers`` processes of a ``concurrent.futures.ProcessPoolExecutor``, started with
    ``start_method`` (default: the platform's, ``multiprocessing.get_start_method()``)."""

    name = "processes"
    traits = Traits(
        shares_gil=False,
        core_bound=True,
        crosses_processes=True,
        colour="#0072B2",
        gil_note="each process has its own GIL",
        options=("start_method",),
    )

    def __init__(self, start_method: str | None = None):
        super().__init__(start_method)
        self.note = f"start method {self.start_method}"

    def start(self, workers: int, call: Call) -> None:
        self._fn = task_fn(call)
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context(self.start_method)
        )
        wait_for_processes(self._pool.map, workers)

    def run(self, call: Call, tasks: int) -> list[Any]:
        return list(self._pool.map(self._fn, range(tasks)))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
