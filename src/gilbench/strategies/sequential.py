"""One task after another in the calling thread: the baseline every speedup is measured
against."""

from __future__ import annotations

from typing import Any

from gilbench.strategies.base import StrategyBase, Traits, task_fn
from gilbench.workloads.call import Call


class Sequential(StrategyBase):
    """Runs the tasks one by one in the worker's main thread; ``workers`` is ignored."""

    name = "sequential"
    traits = Traits(shares_gil=True, core_bound=False, crosses_processes=False, colour="#555555")

    def start(self, workers: int, call: Call) -> None:
        self._fn = task_fn(call)

    def run(self, call: Call, tasks: int) -> list[Any]:
        return [self._fn(i) for i in range(tasks)]
