"""The user's function inside a trial process (``gilbench bench``): arguments from ``--setup``,
and the probe that calls it before anything is measured.

Runs in the target interpreter, so only the standard library is used.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from gilbench.engine.checksum import checksum
from gilbench.engine.protocol import Probed
from gilbench.workloads import Call, resolve

# The probe times calls until this much time has passed (after the first two calls).
PROBE_S = 0.05


class LoadError(ValueError):
    """The user's function or setup cannot be reached by name: one line saying why."""


def split_path(path: str, what: str = "function") -> tuple[str, str]:
    """ "module:qualname" -> (module, qualname). Raises LoadError naming ``what`` when a part is
    missing."""
    module_name, sep, qualname = path.partition(":")
    if not sep or not module_name or not qualname:
        raise LoadError(f"expected MODULE:FUNC for the {what}, got {path!r}")
    return module_name, qualname


def load(path: str, what: str = "function", cwd: str | None = None) -> Callable:
    """The callable at "module:qualname", imported in this interpreter with ``cwd`` (where the
    user started gilbench) first on sys.path, as trials import it. ``gilbench bench`` checks
    its input with this, in its own interpreter or, for another ``--python``, in a probe trial
    there. Raises LoadError naming ``what`` when the path is malformed, the import fails or
    raises, the name is missing or not callable."""
    module_name, qualname = split_path(path, what)
    if cwd and cwd not in sys.path:
        sys.path.insert(0, cwd)
    where = f"{cwd} and the Python path" if cwd else "the Python path"
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise LoadError(f"no module named {module_name!r} (looked in {where})") from None
        raise LoadError(f"importing {module_name} failed: {describe(exc)}") from None
    except BaseException as exc:  # the module's own code raised (or exited) on import
        raise LoadError(f"importing {module_name} raised {describe(exc)}") from None
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise LoadError(f"module {module_name!r} has no {what} {qualname!r}") from None
    if not callable(obj):
        raise LoadError(f"{path} is not callable (it is an object of type {type(obj).__name__})")
    return obj


def describe(exc: BaseException) -> str:
    """An exception as one line: "Type: message" (its first line), or the type alone."""
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    return text.splitlines()[0] if text else type(exc).__name__


def setup_arguments(value: Any) -> tuple[tuple, dict]:
    """What a setup function returned, as (args, kwargs).

    A dict is keyword arguments; a pair ``(sequence, mapping)`` is (args, kwargs); any other tuple
    is positional arguments; anything else is the single positional argument.
    """
    if isinstance(value, Mapping):
        return (), dict(value)
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], (tuple, list))
        and isinstance(value[1], Mapping)
    ):
        return tuple(value[0]), dict(value[1])
    if isinstance(value, tuple):
        return value, {}
    return (value,), {}


def with_setup(call: Call, setup: str | None) -> Call:
    """The call with the setup's arguments first, then the call's own (--args / --kwargs).

    ``setup`` is ``module:func``, called once (awaited if a coroutine function). Raises
    ValueError, ImportError or AttributeError from ``resolve``, and whatever the setup raises.
    """
    if not setup:
        return call
    args, kwargs = setup_arguments(_run(resolve(setup)))
    return dataclasses.replace(call, args=(*args, *call.args), kwargs={**kwargs, **call.kwargs})


def probe(call: Call) -> Probed:
    """Call the function a few times in this process: time its calls, check what it returns.

    The first call is untimed (imports, caches). Its result is pickled (timed: the least that
    crossing a process boundary costs) and checksummed; the second call is timed alone (wall
    and CPU seconds, every thread of this process), then calls are timed together until
    ``PROBE_S`` has passed since the second began. Returns seconds per call
    (the timed calls' mean), the calls made, why the result cannot cross a process boundary
    (or None), whether two calls gave equal results, and the cost figures a trial's least
    duration is projected from (``projection.CallCost``): the fastest call's wall seconds,
    the least CPU seconds of a call, the faster of two result checksums, the pickling of one
    result and its size. Exceptions the function raises propagate: the caller reports them.
    """
    from gilbench.strategies import invoke

    args, kwargs = tuple(call.args), dict(call.kwargs)
    first = invoke(call.func, args, kwargs)
    unpicklable, pickle_s, result_bytes = None, None, None
    try:
        t0 = time.perf_counter()
        result_bytes = len(pickle.dumps(first))
        pickle_s = time.perf_counter() - t0
    except Exception as exc:  # pickling raises many types
        unpicklable = f"{type(exc).__name__}: {exc}"
    c0 = time.process_time()
    t0 = time.perf_counter()
    second = invoke(call.func, args, kwargs)
    one_wall, one_cpu = time.perf_counter() - t0, time.process_time() - c0
    calls = 1
    while time.perf_counter() - t0 < PROBE_S:
        invoke(call.func, args, kwargs)
        calls += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if calls > 1:  # the others' mean is a second estimate of one call: keep the lower
        rest = calls - 1
        one_wall = min(one_wall, (wall - one_wall) / rest)
        one_cpu = min(one_cpu, (cpu - one_cpu) / rest)
    sums, checksum_s = [], float("inf")
    for result in (first, second):
        t1 = time.perf_counter()
        sums.append(checksum([result]))
        checksum_s = min(checksum_s, time.perf_counter() - t1)
    return Probed(
        per_call_s=wall / calls,
        calls=calls + 1,
        result_unpicklable=unpicklable,
        deterministic=sums[0] == sums[1],
        fastest_call_s=one_wall,
        fastest_call_cpu_s=one_cpu,
        checksum_s=checksum_s,
        pickle_s=pickle_s,
        result_bytes=result_bytes,
        coroutine=inspect.iscoroutinefunction(resolve(call.func)),
    )


def _run(func) -> Any:
    import asyncio
    import inspect

    return asyncio.run(func()) if inspect.iscoroutinefunction(func) else func()
