"""A ThreadPoolExecutor: one interpreter, one GIL, ``workers`` OS threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gilbench.strategies.base import StrategyBase, Traits, noop, task_fn
from gilbench.workloads.call import Call


class Threads(StrategyBase):
    """``workers`` threads of a ``concurrent.futures.ThreadPoolExecutor``, all under one GIL."""

    name = "threads"
    traits = Traits(shares_gil=True, core_bound=False, crosses_processes=False, colour="#D55E00")

    def start(self, workers: int, call: Call) -> None:
        self._fn = task_fn(call)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gilbench")
        # Threads are created lazily; start them all now so start-up is not billed to the tasks.
        list(self._pool.map(noop, range(workers)))

    def run(self, call: Call, tasks: int) -> list[Any]:
        return list(self._pool.map(self._fn, range(tasks)))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
