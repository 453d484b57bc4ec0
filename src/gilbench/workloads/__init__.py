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
from dataclasses import dataclass
from typing import Any

from gilbench.workloads.call import Call, resolve

__all__ = [
    "Call",
    "resolve",
    "Workload",
    "Knob",
    "Need",
    "register",
    "all_workloads",
    "get_workload",
]


@dataclass(frozen=True)
class Knob:
    """A workload's size parameter. ``default=None`` means: calibrate to ``target_s`` per task,
    which needs ``name`` to be a keyword argument of the task function."""

    name: str
    default: float | int | None
    help: str
    target_s: float = 0.25
    quick_default: float | int | None = None  # used by --quick when set
    calibrate_from: int = 10_000  # calibration's first try: a value that takes well under target_s

    def value(self, quick: bool) -> float | int | None:
        """The knob's default, ``quick_default`` under ``--quick`` when set; None: calibrate."""
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
    """One registered workload. ``make_call(params, service_urls)`` builds the :class:`Call`
    of one task from the knob's value (``params[knob.name]``) and the URLs of the services it
    ``needs`` (e.g. ``{"delay_server": "http://127.0.0.1:PORT"}``)."""

    name: str
    family: str  # cpu | native | io | mixed
    summary: str
    make_call: Callable[[Mapping[str, Any], Mapping[str, str]], Call]  # (params, service urls)
    default_tasks: int = 2
    default_workers: int = 2
    knob: Knob | None = None
    needs: tuple[Need, ...] = ()
    note: str | None = None  # said on every measured row, e.g. "BLAS pinned to 1 thread"

    def missing(
        self, provided: Collection[str] = (), importable: Callable[[str], bool] | None = None
    ) -> str | None:
        """Why this workload cannot run here, with the fix; else None. Services named in
        ``provided`` are already running (e.g. given by DSN), so what starting them needs is not.
        ``importable`` says whether the trials' interpreter has a package (default: this one)."""
        importable = importable or (lambda name: importlib.util.find_spec(name) is not None)
        for need in self.needs:
            if need.kind == "package" and not importable(need.name):
                return f"needs the Python package {need.name!r}" + (
                    f"; fix: {need.fix}" if need.fix else ""
                )
            if need.kind == "binary" and shutil.which(need.name) is None:
                return f"needs the program {need.name!r} on PATH" + (
                    f"; fix: {need.fix}" if need.fix else ""
                )
            if need.kind == "service" and need.name not in provided:
                from gilbench.services import registry

                if why := registry.missing(need.name):
                    return why
        return None

    @property
    def services(self) -> tuple[str, ...]:
        """The names of the services it needs (see :mod:`gilbench.services.registry`)."""
        return tuple(n.name for n in self.needs if n.kind == "service")


_REGISTRY: dict[str, Workload] = {}


def register(workload: Workload) -> Workload:
    """Add ``workload`` to the registry under its name (replacing one of that name); returns it."""
    _REGISTRY[workload.name] = workload
    return workload


def all_workloads() -> dict[str, Workload]:
    """Name -> workload, for the built-in ones (imported here) and any registered since."""
    _load_builtin()
    return dict(_REGISTRY)


def get_workload(name: str) -> Workload:
    """The workload called ``name``. Raises KeyError listing the known names."""
    workloads = all_workloads()
    if name not in workloads:
        raise KeyError(f"unknown workload {name!r}; known: {', '.join(workloads)}")
    return workloads[name]


def _load_builtin() -> None:
    from gilbench.workloads import (  # noqa: F401  (registration on import)
        cpu,
        data,
        db,
        files,
        io,
        mixed,
        native,
    )
