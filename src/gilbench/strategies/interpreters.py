"""Subinterpreters, each with its own GIL (PEP 684, PEP 734): ``workers`` interpreters in one
process.

The machinery depends on the version of the interpreter the trial runs in:

- 3.14+: ``concurrent.futures.InterpreterPoolExecutor`` (standard library).
- 3.13: the same executor from the PEP 734 backport (``interpreters-pep-734``, installed in
  gilbench's venv for 3.13): ``interpreters_backport.concurrent.futures.interpreter``.
- 3.12: no executor exists (the backport needs ``_interpreters``, which 3.12 lacks). The
  low-level ``_xxsubinterpreters`` module does: each worker is a thread that owns one interpreter
  made with ``create(isolated=True)`` (its own GIL, single-phase extensions refused), runs tasks
  with ``run_string`` and returns each result pickled over its own ``_xxinterpchannels`` channel.
- 3.11 and older: no per-interpreter GIL; the strategy is unavailable.

What a subinterpreter can run is checked before anything starts (``available``): the function
must be reachable by name (not in ``__main__``, picklable) and its module must import in a fresh
isolated subinterpreter, where extension modules without multi-interpreter support (numpy's)
refuse to load. That answer is cached on disk per interpreter, module and installed packages.
A refusing module imported inside the task's body shows only when it runs: ``run`` turns that
ImportError into Unavailable, which the worker's warm-up reports as skipped.
The checks matter twice over: the 3.13 backport waits forever for a result when a task cannot
be unpickled in the subinterpreter.

Each subinterpreter gets the worker's ``sys.path`` first, since the user's modules are found
from the directory gilbench was started in, which only the main interpreter has on its path.
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import re
import sys
import threading
import time
from typing import Any

from gilbench.fsio import cache_dir, write_json_atomic
from gilbench.strategies.base import StrategyBase, Traits, Unavailable, cannot_cross, task_fn
from gilbench.workloads.call import Call, resolve

BACKPORT = "interpreters-pep-734==0.5.0"


def set_sys_path(paths: list[str]) -> None:
    """Runs first in every executor subinterpreter: the worker's import path."""
    sys.path[:] = paths


class Interpreters(StrategyBase):
    """``workers`` subinterpreters in this process, each with its own GIL (PEP 684), through
    ``InterpreterPoolExecutor`` (PEP 734) on 3.13+ or ``_xxsubinterpreters`` on 3.12.
    Raises :class:`Unavailable` on 3.11 and older, or on 3.13 without the backport."""

    name = "interpreters"
    traits = Traits(
        shares_gil=False,
        core_bound=True,
        crosses_processes=True,
        colour="#CC79A7",
        gil_note="each interpreter has its own GIL",
        min_python=(3, 12),
        min_python_why="has no per-interpreter GIL",
    )

    def __init__(self) -> None:
        if sys.version_info[:2] < self.traits.min_python:
            raise Unavailable(
                f"Python {sys.version_info[0]}.{sys.version_info[1]} "
                f"{self.traits.min_python_why} (needs 3.12+)"
            )
        self._executor_cls = None
        if sys.version_info >= (3, 14):
            from concurrent.futures import InterpreterPoolExecutor

            self._executor_cls, self.note = (
                InterpreterPoolExecutor,
                "concurrent.futures.InterpreterPoolExecutor",
            )
        elif sys.version_info >= (3, 13):
            try:
                from interpreters_backport.concurrent.futures.interpreter import (
                    InterpreterPoolExecutor,
                )
            except ImportError:
                raise Unavailable(
                    "Python 3.13 needs the PEP 734 backport for InterpreterPoolExecutor; "
                    f"fix: {sys.executable} -m pip install '{BACKPORT}'"
                ) from None
            self._executor_cls, self.note = (
                InterpreterPoolExecutor,
                "InterpreterPoolExecutor from the interpreters-pep-734 backport",
            )
        else:
            self.note = "_xxsubinterpreters: isolated interpreters (own GIL), one thread each"
        self._pool: Any = None

    def available(self, call: Call) -> str | None:
        """Checks the function is importable and picklable, and its module imports in a fresh
        isolated subinterpreter (:func:`import_error_in_subinterpreter`, cached)."""
        module_name = call.func.partition(":")[0]
        if module_name == "__main__":
            return (
                "function defined in __main__: a subinterpreter cannot import it; "
                "move it into a module"
            )
        if why := cannot_cross(call.func, call.args, call.kwargs, where="a subinterpreter"):
            return f"{why}; move it into a module" if "__main__" in why else why
        module_name = getattr(resolve(call.func), "__module__", None) or module_name
        error = import_error_in_subinterpreter(module_name)
        if error:
            return f"module {module_name} cannot be imported in a subinterpreter: {error}"
        return None

    def start(self, workers: int, call: Call) -> None:
        if self._executor_cls is None:
            self._pool = _LowLevelPool(workers, list(sys.path))
            return
        self._fn = task_fn(call)
        self._pool = self._executor_cls(
            max_workers=workers, initializer=set_sys_path, initargs=(list(sys.path),)
        )
        # Each worker thread makes its interpreter when it starts, and threads start lazily; keep
        # handing out short sleeps until all exist, so their start-up is not billed to the tasks.
        for _ in range(50):
            list(self._pool.map(time.sleep, [0.02] * workers))
            if len(self._pool._threads) >= workers:
                break

    def run(self, call: Call, tasks: int) -> list[Any]:
        """Turns a task's ImportError about subinterpreters into :class:`Unavailable`."""
        try:
            if isinstance(self._pool, _LowLevelPool):
                return self._pool.map(call, tasks)
            return list(self._pool.map(self._fn, range(tasks)))
        except ImportError as exc:
            # A module the task imports inside its body, which available() could not see.
            if "subinterpreter" not in str(exc):
                raise
            raise Unavailable(
                "the task imports a module that cannot be loaded in a subinterpreter: "
                f"{_summarise(type(exc).__name__, str(exc))}"
            ) from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# -- 3.12: the low-level module ------------------------------------------------------------------
# Runs once in each new interpreter. Only light modules are imported here: on 3.12.1, an isolated
# subinterpreter that imported _asyncio (or ssl) corrupts memory when the process exits. But
# threading is imported here, in the thread that will destroy the interpreter: imported first by
# a task in a worker thread, it takes that thread for the interpreter's main thread, and
# destroy() waits for it forever. A task's result or exception travels back pickled as a value,
# so the task's own exception type reaches the worker, not RunFailedError's text.
_PRELUDE = """
import importlib, pickle, threading
import _xxinterpchannels as _gilbench_channels

def _gilbench_call(payload, cid):
    try:
        func_path, args, kwargs = pickle.loads(payload)
        module, _, qualname = func_path.partition(":")
        func = importlib.import_module(module)
        for part in qualname.split("."):
            func = getattr(func, part)
        result = func(*args, **kwargs)
        if hasattr(result, "__await__"):
            import asyncio
            result = asyncio.run(result)
        message = pickle.dumps((True, result))
    except BaseException as exc:
        try:
            message = pickle.dumps((False, exc))
        except Exception:
            message = pickle.dumps((False, RuntimeError(type(exc).__name__ + ": " + str(exc))))
    _gilbench_channels.send(cid, message)
"""


class _LowLevelPool:
    """``workers`` threads, each owning one isolated subinterpreter, serving one job queue."""

    def __init__(self, workers: int, paths: list[str]):
        import _xxsubinterpreters as interpreters

        import _xxinterpchannels as channels

        self._interpreters, self._channels = interpreters, channels
        self._jobs: queue.Queue = queue.Queue()
        self._members: list[tuple[Any, Any]] = []
        try:
            for _ in range(workers):
                iid = interpreters.create(isolated=True)
                self._members.append((iid, channels.create()))
                interpreters.run_string(iid, f"import sys\nsys.path[:] = {paths!r}\n" + _PRELUDE)
        except BaseException:
            self._destroy()
            raise
        self._threads = [
            threading.Thread(target=self._serve, args=m, name=f"gilbench-interp-{i}", daemon=True)
            for i, m in enumerate(self._members)
        ]
        for t in self._threads:
            t.start()

    def map(self, call: Call, tasks: int) -> list[Any]:
        payload = pickle.dumps((call.func, tuple(call.args), dict(call.kwargs)))
        done: queue.Queue = queue.Queue()
        for index in range(tasks):
            self._jobs.put((index, payload, done))
        results: list[Any] = [None] * tasks
        failure = None
        for _ in range(tasks):
            index, data, exc = done.get()
            if exc is None:
                ok, value = pickle.loads(data)
                exc = None if ok else value
            if exc is not None:
                failure = failure or exc
            else:
                results[index] = value
        if failure is not None:
            raise failure
        return results

    def _serve(self, iid, cid) -> None:
        while (job := self._jobs.get()) is not None:
            index, payload, done = job
            try:
                self._interpreters.run_string(
                    iid, "_gilbench_call(payload, cid)", {"payload": payload, "cid": cid}
                )
                done.put((index, self._channels.recv(cid), None))
            except Exception as exc:
                done.put((index, None, _readable(exc)))

    def shutdown(self, wait: bool = True, cancel_futures: bool = True) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for t in self._threads:
            t.join()
        self._destroy()

    def _destroy(self) -> None:
        # Best effort: whatever is already gone, or failed to be made, is nothing to clean up.
        for iid, cid in self._members:
            try:
                self._channels.destroy(cid)
            except Exception:
                pass
            try:
                self._interpreters.destroy(iid)
            except Exception:
                pass
        self._members = []


def _readable(exc: Exception) -> Exception:
    """3.12 reports a task's exception as RunFailedError("<class 'ValueError'>: text")."""
    text = re.sub(r"^<class '(?:builtins\.)?([\w.]+)'>", r"\1", str(exc))
    return RuntimeError(f"in a subinterpreter: {text}")


# -- can this module be imported in a subinterpreter? ---------------------------------------------
_CACHE_NAME = "subinterpreter-imports.json"


def import_error_in_subinterpreter(module: str) -> str | None:
    """Why ``module`` fails to import in a fresh isolated subinterpreter ("ImportError: ..."),
    or None; cached on disk in gilbench's cache directory (``subinterpreter-imports.json``)."""
    key = _cache_key(module)
    cache = _read_cache()
    if key in cache:
        return cache[key]
    error = _try_import(module)
    cache[key] = error
    _write_cache(cache)
    return error


def _try_import(module: str) -> str | None:
    script = f"import sys\nsys.path[:] = {list(sys.path)!r}\nimport {module}\n"
    if sys.version_info >= (3, 13):
        import _interpreters

        iid = _interpreters.create()  # the "isolated" configuration: own GIL, strict extensions
        try:
            info = _interpreters.exec(iid, script)
        finally:
            _interpreters.destroy(iid)
        if info is None:
            return None
        return _summarise(getattr(info.type, "__name__", "Error"), info.msg or info.formatted or "")
    import _xxsubinterpreters as interpreters

    iid = interpreters.create(isolated=True)
    try:
        interpreters.run_string(iid, script)
    except interpreters.RunFailedError as exc:
        kind, _, message = str(exc).partition(": ")
        return _summarise(re.sub(r"^<class '(?:builtins\.)?([\w.]+)'>$", r"\1", kind), message)
    finally:
        interpreters.destroy(iid)
    return None


def _summarise(kind: str, message: str) -> str:
    """The telling line of an import failure: numpy buries it under a page of advice."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    telling = next((line for line in lines if "subinterpreter" in line), lines[0] if lines else "")
    telling = telling.removeprefix("Original error was:").strip()
    return f"{kind}: {telling}" if telling else kind


def _cache_key(module: str) -> str:
    """Interpreter, module and what it imports from: editing the module, or installing or
    removing a package (which touches site-packages), tests again."""
    origin = getattr(sys.modules.get(module), "__file__", None)
    stamps = []
    for path in [origin, *(p for p in sys.path if "site-packages" in p)]:
        try:
            stamps.append(str(os.stat(path).st_mtime_ns))
        except (OSError, TypeError):
            continue
    return f"{sys.executable}|{sys.version.split()[0]}|{module}|{'.'.join(stamps)}"


def _cache_path() -> str:
    return os.path.join(str(cache_dir()), _CACHE_NAME)


def _read_cache() -> dict[str, str | None]:
    try:
        with open(_cache_path(), encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_cache(cache: dict[str, str | None]) -> None:
    path = _cache_path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_json_atomic(path, cache, indent=None)
    except OSError:
        pass  # a cache that cannot be written only costs a re-test next time
