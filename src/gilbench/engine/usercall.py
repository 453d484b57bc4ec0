"""The user's function inside a trial process (``gilbench bench``): arguments from ``--setup``,
and the probe that calls it before anything is measured.

Runs in the target interpreter, so only the standard library is used.
"""

from __future__ import annotations

import dataclasses
import pickle
import time
from collections.abc import Mapping
from typing import Any

from gilbench.engine.checksum import checksum
from gilbench.engine.protocol import Probed
from gilbench.workloads import Call, resolve

# The probe times calls until this much time has passed (after the first two calls).
PROBE_S = 0.05


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
    """Call the function a few times in this process: time one call, check what it returns.

    Returns seconds per call, the calls made, why the result cannot cross a process boundary
    (or None) and whether two calls gave equal results. Exceptions propagate: the caller
    reports them.
    """
    from gilbench.strategies import invoke

    args, kwargs = tuple(call.args), dict(call.kwargs)
    first = invoke(call.func, args, kwargs)
    unpicklable = None
    try:
        pickle.dumps(first)
    except Exception as exc:  # pickling raises many types
        unpicklable = f"{type(exc).__name__}: {exc}"
    calls, t0 = 0, time.perf_counter()
    second = invoke(call.func, args, kwargs)
    calls += 1
    while time.perf_counter() - t0 < PROBE_S:
        invoke(call.func, args, kwargs)
        calls += 1
    wall = time.perf_counter() - t0
    return Probed(
        per_call_s=wall / calls,
        calls=calls + 1,
        result_unpicklable=unpicklable,
        deterministic=checksum([first]) == checksum([second]),
    )


def _run(func) -> Any:
    import asyncio
    import inspect

    return asyncio.run(func()) if inspect.iscoroutinefunction(func) else func()
