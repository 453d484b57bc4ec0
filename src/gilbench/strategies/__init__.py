"""Concurrency strategies, all behind one small protocol.

A strategy runs inside a trial's worker process: ``available(call)`` says why it cannot run
here (or None), ``start(workers)`` builds its pool (timed apart as start-up), ``run(call,
tasks)`` executes ``tasks`` copies of the call and returns their results in task order, and
``close()`` releases everything. Adding a strategy is adding one module and one line in
``_FACTORIES``.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
from collections.abc import Collection
from typing import Any, Protocol

from gilbench.workloads import Call, resolve

# The contract's names, simplest first: recommendations prefer the earlier of two equals.
NAMES = ("sequential", "threads", "asyncio", "processes", "interpreters", "hybrid", "dask")

# Strategies whose start-up outweighs short tasks: `bench` and `run --quick` leave them out
# unless they are named with -s.
SLOW_TO_START = {"dask": "a Dask cluster takes about a second to start for every sample"}


def left_out(why_here: str, strategies: Collection[str], requested: Collection[str] = ()) -> dict[str, str]:
    """Strategy -> reason, for the slow-to-start strategies among ``strategies`` not ``requested``."""
    return {
        s: f"{why_here}: {slow}; add -s {s} to include it"
        for s, slow in SLOW_TO_START.items() if s in strategies and s not in requested
    }  # fmt: skip

_FACTORIES = {
    "sequential": "gilbench.strategies.sequential:Sequential",
    "threads": "gilbench.strategies.threads:Threads",
    "asyncio": "gilbench.strategies.asyncio_:Asyncio",
    "processes": "gilbench.strategies.processes:Processes",
    "interpreters": "gilbench.strategies.interpreters:Interpreters",
    "hybrid": "gilbench.strategies.hybrid:Hybrid",
    "dask": "gilbench.strategies.dask_:Dask",
}


class Strategy(Protocol):
    name: str
    note: str | None  # said on the result row, e.g. "no async variant: ran via asyncio.to_thread"

    def available(self, call: Call) -> str | None: ...
    def start(self, workers: int, call: Call) -> None: ...
    def run(self, call: Call, tasks: int) -> list[Any]: ...
    def close(self) -> None: ...


class Unavailable(Exception):
    """Raised by a strategy factory when the strategy does not exist on this interpreter, or by
    ``run`` when running the task shows it cannot run it here (the worker's warm-up: skipped)."""


def create(name: str, **options: Any) -> Strategy:
    if name not in NAMES:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(NAMES)}")
    if name not in _FACTORIES:
        raise Unavailable(f"strategy {name!r} is not implemented in this version of gilbench")
    module, _, cls = _FACTORIES[name].partition(":")
    return getattr(importlib.import_module(module), cls)(**options)


def invoke(func_path: str, args: tuple, kwargs: dict, _index: int = 0) -> Any:
    """Run one task by reference. Module-level so process pools can pickle it."""
    func = resolve(func_path)
    if inspect.iscoroutinefunction(func):
        return asyncio.run(func(*args, **kwargs))
    return func(*args, **kwargs)


def task_fn(call: Call):
    """A picklable one-argument callable (the task index) that runs ``call``."""
    return functools.partial(invoke, call.func, tuple(call.args), dict(call.kwargs))
