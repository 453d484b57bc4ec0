"""Workloads: what a task does, as data.

A workload is a :class:`Workload` record: its name (a contract, see DESIGN.md), what kind of
work it is, how to build the :class:`Call` one task makes, its size knob and what it needs
(a server, a database, a package). Task functions live in importable modules so that every
strategy, including process pools in another interpreter, can reach them by name.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
from collections.abc import Callable, Collection, Mapping
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
        return {
            "func": self.func, "args": list(self.args), "kwargs": dict(self.kwargs), "async_func": self.async_func,
            "io_func": self.io_func, "cpu_func": self.cpu_func, "fixture": self.fixture,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Call":
        return cls(
            d["func"], tuple(d.get("args", ())), dict(d.get("kwargs", {})), d.get("async_func"),
            d.get("io_func"), d.get("cpu_func"), d.get("fixture"),
        )


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
    calibrate_from: int = 10_000  # calibration's first try: a value that takes well under target_s

    def value(self, quick: bool) -> float | int | None:
        return self.quick_default if quick and self.quick_default is not None else self.default


@dataclass(frozen=True)
class Need:
    """Something a workload needs. ``kind`` is "service" (started by gilbench unless given),
    "package" (importable) or "binary" (an executable on PATH)."""

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
    note: str | None = None  # said on every measured row, e.g. "BLAS pinned to 1 thread"

    def missing(self, provided: Collection[str] = (), importable: Callable[[str], bool] | None = None) -> str | None:
        """Why this workload cannot run here, with the fix; else None. Services named in
        ``provided`` are already running (e.g. given by DSN), so what starting them needs is not.
        ``importable`` says whether the trials' interpreter has a package (default: this one)."""
        importable = importable or (lambda name: importlib.util.find_spec(name) is not None)
        for need in self.needs:
            if need.kind == "package" and not importable(need.name):
                return f"needs the Python package {need.name!r}" + (f"; fix: {need.fix}" if need.fix else "")
            if need.kind == "binary" and shutil.which(need.name) is None:
                return f"needs the program {need.name!r} on PATH" + (f"; fix: {need.fix}" if need.fix else "")
            if need.kind == "service" and need.name not in provided:
                from gilbench.services import registry

                if why := registry.missing(need.name):
                    return why
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
    from gilbench.workloads import cpu, data, db, files, io, mixed, native  # noqa: F401  (registration on import)
