"""One event loop: the workload's native coroutine, ``workers`` at a time.

A call without an async variant runs through ``asyncio.to_thread`` on a default executor of
``workers`` threads, and the row says so: that is threads with an event loop in front.
"""

from __future__ import annotations

import asyncio
import inspect
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gilbench.strategies.base import Traits, task_fn
from gilbench.workloads.call import Call, resolve

NO_COROUTINE = (
    "left out: the call has no coroutine, so asyncio would run it through asyncio.to_thread, "
    "which is the threads row again; -s asyncio measures it"
)


class Asyncio:
    """The tasks as coroutines on one ``asyncio.Runner`` loop, at most ``workers`` at a time
    (an ``asyncio.Semaphore``); without a coroutine, ``asyncio.to_thread`` on ``workers``
    threads."""

    name = "asyncio"
    traits = Traits(shares_gil=True, core_bound=False, crosses_processes=False, colour="#009E73")
    note = None

    @staticmethod
    def skip_reason(call: Call, by_default: bool) -> str | None:
        """Unless -s named asyncio, a call with no coroutine (``Call.async_func``; bench sets it
        when the user's function is one) is left out: asyncio would be the threads row again
        (``asyncio.to_thread``)."""
        if by_default and call.async_func is None:
            return NO_COROUTINE
        return None

    def available(self, call: Call) -> str | None:
        return None

    def start(self, workers: int, call: Call) -> None:
        """Makes the loop and its default executor; picks ``call.async_func``, else ``call.func``
        when it is a coroutine function, else falls back to ``asyncio.to_thread``."""
        self._workers = workers
        self._runner = asyncio.Runner()
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="gilbench-async"
        )
        self._runner.get_loop().set_default_executor(self._executor)
        coro_path = call.async_func or (
            call.func if inspect.iscoroutinefunction(resolve(call.func)) else None
        )
        if coro_path:
            self._coro = resolve(coro_path)
        else:
            self._coro = None
            self._fn = task_fn(call)
            self.note = "no async variant: ran through asyncio.to_thread"

    def run(self, call: Call, tasks: int) -> list[Any]:
        """The tasks' results, in order. They come back through ``results``, not as the main
        task's result: CPython 3.11's ``Runner.run`` ends with ``signal.getsignal``, whose enum
        error message reprs its handler, which holds the main task, whose repr reprs its result
        in full (each 300 MB bytes result cost a second per pass, issue 14)."""
        results: list[Any] = []
        self._runner.run(self._gather(call, tasks, results))
        return results

    async def _gather(self, call: Call, tasks: int, results: list[Any]) -> None:
        limit = asyncio.Semaphore(self._workers)

        async def one(i: int) -> Any:
            async with limit:
                if self._coro is not None:
                    return await self._coro(*call.args, **call.kwargs)
                return await asyncio.to_thread(self._fn, i)

        results.extend(await asyncio.gather(*(one(i) for i in range(tasks))))

    def close(self) -> None:
        self._runner.close()
        self._executor.shutdown(wait=True, cancel_futures=True)
