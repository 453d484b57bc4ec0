"""What every strategy is: the protocol it runs behind and the traits it declares about itself.

A strategy runs inside a trial's worker process: ``available(call)`` says why it cannot run
here (or None), ``start(workers, call)`` builds its pool (timed apart as start-up),
``run(call, tasks)`` executes ``tasks`` copies of the call and returns their results in task
order, and ``close()`` releases everything. Its class also carries ``traits``, a
:class:`Traits` value that the rest of gilbench reads instead of testing the strategy's name:
the engine (options, GIL contention, known skips), the analysis (what is bound by cores), the
report (order, colour) and ``gilbench bench`` (what crosses a process boundary).

Only the standard library is imported here: this module runs in every target interpreter.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import multiprocessing
import os
import pickle
import time
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from gilbench.workloads.call import Call, resolve


@dataclass(frozen=True)
class Traits:
    """What a strategy declares about itself; every field is read somewhere outside strategies/.

    ``shares_gil``: all its workers run Python under one GIL, so GIL contention is measured and
    threads' limits apply. When False, ``gil_note`` says why contention means nothing there
    (e.g. "each process has its own GIL").
    ``core_bound``: its workers run in parallel on separate cores, so its speedup on CPU-bound
    work cannot exceed the usable cores (a warning past them; recommendations capped by them).
    ``crosses_processes``: task results are pickled back from another process or interpreter,
    so an unpicklable result cannot run there.
    ``slow_to_start``: why it is left out of ``bench`` and ``run --quick`` unless named with -s
    (None: it starts fast enough).
    ``in_default_set``: run when no -s is given (False: only when named).
    ``min_python``: the oldest (major, minor) that has it, ``min_python_why`` what older ones lack.
    ``options``: the keyword options its constructor takes from the plan (e.g. "start_method").
    ``colour``: its line in the report's charts (Okabe-Ito palette, readable by colour-blind
    readers: https://jfly.uni-koeln.de/color/).
    """

    shares_gil: bool
    core_bound: bool
    crosses_processes: bool
    colour: str
    gil_note: str | None = None
    slow_to_start: str | None = None
    in_default_set: bool = True
    min_python: tuple[int, int] = (3, 11)
    min_python_why: str = "is too old for it"
    options: tuple[str, ...] = ()


class Strategy(Protocol):
    """One concurrency model behind gilbench's protocol (see the module docstring)."""

    name: ClassVar[str]
    traits: ClassVar[Traits]
    note: str | None  # said on the result row, e.g. "no async variant: ran via asyncio.to_thread"

    @staticmethod
    def skip_reason(call: Call, by_default: bool) -> str | None:
        """Why this strategy will not run ``call``, judged from the call alone (no import, no
        process), so the parent can skip it without starting a trial. ``by_default``: the
        strategy runs because it is in the default set, not because -s named it, so a row
        that would only repeat another one by construction may be left out. None: a trial
        will tell."""
        ...

    def available(self, call: Call) -> str | None:
        """Why the strategy cannot run ``call`` in this process (imports allowed), or None."""
        ...

    def start(self, workers: int, call: Call) -> None:
        """Build the pool of ``workers`` and have every worker up (timed as start-up)."""
        ...

    def run(self, call: Call, tasks: int) -> list[Any]:
        """Run ``tasks`` copies of ``call``; their results in task order. Raises what a task
        raised, or :class:`Unavailable` when running shows the strategy cannot run it here."""
        ...

    def close(self) -> None:
        """Release every thread, process and interpreter the strategy started."""
        ...


class Unavailable(Exception):
    """Raised by a strategy's constructor when the strategy does not exist on this interpreter,
    or by ``run`` when running the task shows it cannot run it here (the worker's warm-up
    reports it as skipped)."""


def never_skip(call: Call, quick: bool) -> str | None:
    """The default ``skip_reason``: a trial decides."""
    return None


def invoke(func_path: str, args: tuple, kwargs: dict, _index: int = 0) -> Any:
    """Run one task by reference ("module:func"); a coroutine function gets its own event loop.
    Module-level so process pools can pickle it."""
    func = resolve(func_path)
    if inspect.iscoroutinefunction(func):
        return asyncio.run(func(*args, **kwargs))
    return func(*args, **kwargs)


def task_fn(call: Call) -> functools.partial:
    """A picklable one-argument callable (the task index) that runs ``call``."""
    return functools.partial(invoke, call.func, tuple(call.args), dict(call.kwargs))


def noop(i: int) -> int:
    """A task that does nothing: used to start a thread pool's threads before timing."""
    return i


def pid_after(delay: float) -> int:
    """Sleep ``delay`` seconds, return this process's id: used to see every pool process up."""
    time.sleep(delay)
    return os.getpid()


def wait_for_processes(map_fn, workers: int, attempts: int = 50) -> None:
    """Keep handing ``pid_after`` tasks to a process pool's ``map_fn`` until ``workers``
    distinct processes have answered, so the pool's start-up is measured before the first
    sample (non-fork start methods spawn workers on demand)."""
    pids: set[int] = set()
    for _ in range(attempts):
        pids.update(map_fn(pid_after, [0.005] * workers))
        if len(pids) >= workers:
            return


def cannot_cross(
    func_path: str, args: tuple, kwargs: dict, where: str = "process workers"
) -> str | None:
    """Why a function and its arguments cannot be sent to ``where``: defined in ``__main__``
    (the other side cannot import it) or not picklable; None when they can."""
    func = resolve(func_path)
    if getattr(func, "__module__", None) == "__main__":
        return f"function defined in __main__: {where} cannot import it"
    try:
        pickle.dumps((func, tuple(args), dict(kwargs)))
    except Exception as exc:  # pickling raises many types
        return f"function or arguments not picklable: {type(exc).__name__}: {exc}"
    return None


def start_method_missing(start_method: str) -> str | None:
    """Why ``start_method`` cannot be used on this platform, or None."""
    if start_method not in multiprocessing.get_all_start_methods():
        return f"start method {start_method!r} not available here"
    return None


class StrategyBase:
    """The protocol's defaults, for a strategy to inherit what it does not change: no note, no
    cheap skip, available wherever it was created, nothing to release. ``name`` and ``traits``
    are the strategy's own; ``start`` and ``run`` are its whole point."""

    note: str | None = None
    skip_reason = staticmethod(never_skip)

    def available(self, call: Call) -> str | None:
        """None: a strategy that exists here runs any call."""
        return None

    def close(self) -> None:
        """Nothing to release."""


class ProcessPoolBase(StrategyBase):
    """Shared by the strategies whose tasks run in a pool of worker processes: the
    ``start_method`` option (``multiprocessing``'s fork / spawn / forkserver; default the
    platform's) and the check that the task can be sent to those processes."""

    def __init__(self, start_method: str | None = None):
        self.start_method = start_method or multiprocessing.get_start_method()

    def available(self, call: Call) -> str | None:
        """Why not: the start method is missing here, or the function or its arguments cannot
        be pickled or imported by the worker processes."""
        return start_method_missing(self.start_method) or cannot_cross(
            call.func, call.args, call.kwargs
        )
