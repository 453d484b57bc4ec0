"""One task after another in the calling thread: the baseline every speedup is measured
against."""

from __future__ import annotations

from typing import Any

from gilbench.strategies.base import Traits, never_skip, task_fn
from gilbench.workloads.call import Call


class Sequential:
    """Runs the tasks one by one in the worker's main thread; ``workers`` is ignored."""

    name = "sequential"
    traits = Traits(shares_gil=True, core_bound=False, crosses_processes=False, colour="#555555")
    note = None
    skip_reason = staticmethod(never_skip)

    def available(self, call: Call) -> str | None:
        return None

    def start(self, workers: int, call: Call) -> None:
        self._fn = task_fn(call)

    def run(self, call: Call, tasks: int) -> list[Any]:
        return [self._fn(i) for i in range(tasks)]

    def close(self) -> None:
        pass
