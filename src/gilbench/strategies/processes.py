"""A ProcessPoolExecutor: one interpreter and one GIL per worker process."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from gilbench.strategies import task_fn
from gilbench.workloads import Call, resolve


class Processes:
    name = "processes"

    def __init__(self, start_method: str | None = None):
        self.start_method = start_method or multiprocessing.get_start_method()
        self.note = f"start method {self.start_method}"

    def available(self, call: Call) -> str | None:
        if self.start_method not in multiprocessing.get_all_start_methods():
            return f"start method {self.start_method!r} not available here"
        func = resolve(call.func)
        if getattr(func, "__module__", None) == "__main__":
            return "function defined in __main__: process workers cannot import it"
        try:
            pickle.dumps((func, tuple(call.args), dict(call.kwargs)))
        except Exception as exc:  # pickling raises many types
            return f"function or arguments not picklable: {type(exc).__name__}: {exc}"
        return None

    def start(self, workers: int, call: Call) -> None:
        self._fn = task_fn(call)
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(self.start_method))
        # Non-fork start methods spawn workers on demand; keep pinging until all have answered,
        # so the pool's start-up is measured here and not inside the first sample.
        pids: set[int] = set()
        for _ in range(50):
            pids.update(self._pool.map(_pid_after, [0.005] * workers))
            if len(pids) >= workers:
                break

    def run(self, call: Call, tasks: int) -> list[Any]:
        return list(self._pool.map(self._fn, range(tasks)))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _pid_after(delay: float) -> int:
    time.sleep(delay)
    return os.getpid()
