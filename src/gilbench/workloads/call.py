"""A task by reference (:class:`Call`) and how to reach its function (:func:`resolve`).

Kept apart from the workload registry so that strategies, which run inside trial processes in
any target interpreter, import only this: the standard library and nothing that starts services.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    """One task, by reference: ``func(*args, **kwargs)``; JSON-able so it crosses processes."""

    func: str  # "module:qualname"
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    async_func: str | None = None  # a coroutine function with the same signature, for asyncio
    # The task's two steps, for hybrid: cpu_func(io_func(*args, **kwargs)) == func(*args, **kwargs).
    io_func: str | None = None
    cpu_func: str | None = None
    # Entered once per trial around all its tasks: a context manager function (no arguments) that
    # yields kwargs added to every task's, e.g. the path of a database file it creates and removes.
    fixture: str | None = None

    def to_dict(self) -> dict:
        """Every field as JSON-able values (``args`` a list); :meth:`from_dict` reads it back."""
        return {
            "func": self.func,
            "args": list(self.args),
            "kwargs": dict(self.kwargs),
            "async_func": self.async_func,
            "io_func": self.io_func,
            "cpu_func": self.cpu_func,
            "fixture": self.fixture,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Call:
        """The Call :meth:`to_dict` wrote; only ``func`` is required (KeyError without it)."""
        return cls(
            d["func"],
            tuple(d.get("args", ())),
            dict(d.get("kwargs", {})),
            d.get("async_func"),
            d.get("io_func"),
            d.get("cpu_func"),
            d.get("fixture"),
        )


def resolve(path: str) -> Callable:
    """Import ``module:qualname`` and return the object. Raises ValueError for a path without
    both parts, ImportError or AttributeError when it is not there."""
    module_name, _, qualname = path.partition(":")
    if not module_name or not qualname:
        raise ValueError(f"expected MODULE:FUNC, got {path!r}")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj
