"""``multiprocessing.Pool``: the classic process pool, as most pre-3.2 code and tutorials use it.

Like ``processes`` (one interpreter and one GIL per worker process), but through the older API:
``Pool.map`` with ``chunksize=1`` so every task is dispatched on its own, as the executor does.
Its workers are daemonic, so a task that starts processes of its own fails here ("daemonic
processes are not allowed to have children") where it runs under ``processes``. Not in the
default set: name it with ``-s pool`` to compare it with ``processes``.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from gilbench.strategies.base import ProcessPoolBase, Traits, task_fn, wait_for_processes
from gilbench.workloads.call import Call


class Pool(ProcessPoolBase):
    """``workers`` processes of a ``multiprocessing.Pool`` (``map``, ``chunksize=1``), started
    with ``start_method`` (default: the platform's)."""

    name = "pool"
    traits = Traits(
        shares_gil=False,
        core_bound=True,
        crosses_processes=True,
        colour="#000000",
        gil_note="each process has its own GIL",
        in_default_set=False,
        options=("start_method",),
    )

    def __init__(self, start_method: str | None = None):
        super().__init__(start_method)
        self.note = f"multiprocessing.Pool, start method {self.start_method}"
        self._pool: Any = None

    def start(self, workers: int, call: Call) -> None:
        self._fn = task_fn(call)
        context = multiprocessing.get_context(self.start_method)
        self._pool = context.Pool(processes=workers)
        wait_for_processes(self._pool.map, workers)

    def run(self, call: Call, tasks: int) -> list[Any]:
        return self._pool.map(self._fn, range(tasks), chunksize=1)

    def close(self) -> None:
        """Terminates the pool rather than waiting for it: a hung task would block forever."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
