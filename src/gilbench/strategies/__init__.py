"""Concurrency strategies: one module each, all behind one protocol, in one ordered registry.

The protocol and the traits a strategy declares about itself live in :mod:`.base`. Everything
outside this package asks the registry (``traits``, ``core_bound``, ``skip_reason``, ...)
instead of testing a strategy's name, so adding a strategy is adding one module and one line
in ``REGISTRY``; the conformance tests (tests/test_strategies.py) then cover it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from gilbench.strategies import (
    asyncio_,
    dask_,
    hybrid,
    interpreters,
    pool,
    processes,
    sequential,
    threads,
)
from gilbench.strategies.base import Strategy, Traits, Unavailable, invoke, task_fn
from gilbench.workloads.call import Call

__all__ = [
    "BASELINE",
    "NAMES",
    "DEFAULT",
    "REGISTRY",
    "Strategy",
    "Traits",
    "Unavailable",
    "invoke",
    "task_fn",
]

# Simplest first: recommendations prefer the earlier of two equals, and reports follow this order.
REGISTRY: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        sequential.Sequential,
        threads.Threads,
        asyncio_.Asyncio,
        processes.Processes,
        interpreters.Interpreters,
        hybrid.Hybrid,
        dask_.Dask,
        pool.Pool,
    )
}
NAMES: tuple[str, ...] = tuple(REGISTRY)
# Every speedup is measured against this one, on the same tasks and interpreter.
BASELINE = "sequential"
# -s all: every registered strategy, the slow-to-start and opt-in ones included.
ALL = "all"
# What runs when no -s is given.
DEFAULT: tuple[str, ...] = tuple(n for n, cls in REGISTRY.items() if cls.traits.in_default_set)
# The report's colour for a strategy no longer registered (an old document's row).
UNKNOWN_COLOUR = "#999999"


def traits(name: str) -> Traits | None:
    """The traits of a registered strategy; None for a name this version does not know."""
    cls = REGISTRY.get(name)
    return cls.traits if cls else None


def select(names: Sequence[str] | None) -> list[str]:
    """The strategies to run: ``names`` (``ALL``: every registered one; none: the default set),
    the baseline first, registry order for ``ALL``, no repeats. Raises ValueError naming the
    first unknown name."""
    for name in names or ():
        if name not in REGISTRY and name != ALL:
            raise ValueError(f"unknown strategy {name!r}; known: {', '.join(NAMES)}, or {ALL}")
    if names and ALL in names:
        return list(dict.fromkeys([BASELINE, *NAMES]))
    return list(dict.fromkeys([BASELINE, *(names or DEFAULT)]))


def named(name: str, requested: Collection[str]) -> bool:
    """Did the user ask for ``name`` with -s (by name, or with ``-s all``)?"""
    return name in requested or ALL in requested


def create(name: str, **options: Any) -> Strategy:
    """A new strategy object. Raises KeyError for an unknown name, :class:`Unavailable` when
    it does not exist on this interpreter."""
    if name not in REGISTRY:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(NAMES)}")
    return REGISTRY[name](**options)


def options_for(name: str, **offered: Any) -> dict[str, Any]:
    """The plan's options that ``name`` takes (``Traits.options``), those given (not None)."""
    t = traits(name)
    return {k: v for k, v in offered.items() if t and k in t.options and v is not None}


def core_bound() -> tuple[str, ...]:
    """Strategies whose workers run on separate cores (speedup capped by the usable cores)."""
    return tuple(n for n, cls in REGISTRY.items() if cls.traits.core_bound)


def crossing_processes(names: Collection[str]) -> list[str]:
    """Those of ``names`` whose task results are pickled back across a process boundary."""
    return [n for n in names if (t := traits(n)) and t.crosses_processes]


def gil_unmeasurable(name: str) -> str | None:
    """Why GIL contention means nothing under ``name`` (its workers do not share one GIL)."""
    t = traits(name)
    if t is None:
        return f"unknown strategy {name!r}"
    return None if t.shares_gil else t.gil_note


def version_reason(name: str, version_info: Sequence[int]) -> str | None:
    """Why an interpreter of this version cannot run ``name`` (``Traits.min_python``), or None."""
    t = traits(name)
    if t is None or tuple(version_info[:2]) >= t.min_python:
        return None
    major, minor = version_info[0], version_info[1]
    return f"Python {major}.{minor} {t.min_python_why} (needs {t.min_python[0]}.{t.min_python[1]}+)"


def skip_reason(name: str, call: Call, by_default: bool = False) -> str | None:
    """Why ``name`` will not run ``call``, known from the call alone (see
    ``Strategy.skip_reason``; ``by_default``: -s did not name it); None for an unknown name or
    when a trial will tell."""
    cls = REGISTRY.get(name)
    return cls.skip_reason(call, by_default) if cls else None


def left_out(
    why_here: str, strategies: Collection[str], requested: Collection[str] = ()
) -> dict[str, str]:
    """Strategy -> reason, for the slow-to-start strategies among ``strategies`` not
    ``requested``; ``why_here`` opens each reason (e.g. "left out by --quick")."""
    out = {}
    for name in strategies:
        slow = (t := traits(name)) and t.slow_to_start
        if slow and not named(name, requested):
            out[name] = f"{why_here}: {slow}; -s all (or -s {name}) includes it"
    return out


def sort_key(name: object) -> tuple[int, str]:
    """Registry order for reports; unknown names after every registered one, by name."""
    s = str(name)
    return (NAMES.index(s) if s in REGISTRY else len(NAMES), s)


def colour(name: str) -> str:
    """The report's colour for ``name`` (``Traits.colour``; grey for an unknown name)."""
    t = traits(name)
    return t.colour if t else UNKNOWN_COLOUR
