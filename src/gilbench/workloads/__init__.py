"""Workloads: what a task does, as data.

A workload is a :class:`Workload` record: its name (a contract, see DESIGN.md), what kind of
work it is, how to build the :class:`Call` one task makes, its size knob and what it needs
(a server, a database, a package). Task functions live in importable modules so that every
strategy, including process pools in another interpreter, can reach them by name.
"""

from __future__ import annotations

import importlib
import importlib.util
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

    def to_dict(self) -> dict:
        return {"func": self.func, "args": list(self.args), "kwargs": dict(self.kwargs), "async_func": self.async_func}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Call":
        return cls(d["func"], tuple(d.get("args", ())), dict(d.get("kwargs", {})), d.get("async_func"))


def resolve(path: str) -> Callable:
    """Import ``module:qualname`` and return the object."""
    module_name, _, qualname = path.partition(":")
    if not module_name or not qualname:
        raise ValueError(f"expected MODULE:FUNC, got {path!r}")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Knob:
    """A workload's size parameter. ``default=None`` means: calibrate to ``target_s`` per task,
    which needs ``name`` to be a keyword argument of the task function."""

    name: str
    default: float | int | None
    help: str
    target_s: float = 0.5
    quick_default: float | int | None = None  # used by --quick when set

    def value(self, quick: bool) -> float | int | None:
        return self.quick_default if quick and self.quick_default is not None else self.default


@dataclass(frozen=True)
class Need:
    """Something a workload needs. ``kind`` is "service" (started by gilbench) or "package"."""

    kind: str
    name: str
    fix: str = ""


@dataclass(frozen=True)
class Workload:
    name: str
    family: str  # cpu | native | io | mixed
    summary: str
    make_call: Callable[[Mapping[str, Any], Mapping[str, str]], Call]  # (params, service urls)
    default_tasks: int = 2
    default_workers: int = 2
    knob: Knob | None = None
    needs: tuple[Need, ...] = ()

    def missing(self) -> str | None:
        """Why this workload cannot run here (a package is missing), with the fix; else None."""
        for need in self.needs:
            if need.kind == "package" and importlib.util.find_spec(need.name) is None:
                return f"needs the Python package {need.name!r}" + (f"; fix: {need.fix}" if need.fix else "")
        return None

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.needs if n.kind == "service")


_REGISTRY: dict[str, Workload] = {}


def register(workload: Workload) -> Workload:
    _REGISTRY[workload.name] = workload
    return workload


def all_workloads() -> dict[str, Workload]:
    _load_builtin()
    return dict(_REGISTRY)


def get_workload(name: str) -> Workload:
    workloads = all_workloads()
    if name not in workloads:
        raise KeyError(f"unknown workload {name!r}; known: {', '.join(workloads)}")
    return workloads[name]


def _load_builtin() -> None:
    from gilbench.workloads import cpu, io  # noqa: F401  (registration on import)
