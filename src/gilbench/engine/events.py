"""What a session tells its caller while it runs: small typed values, one per kind of news.

The session never prints; the CLI's progress bar and ``gilbench.bench(on_event=...)`` receive
these and dispatch on their type. Every field is data, so a test can record and compare them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gilbench.engine.results import Row


@dataclass(frozen=True)
class Planned:
    """The run is planned: ``trials`` (strategy, workers, interpreter) measurements, each made
    of ``samples`` timed passes, one per round."""

    trials: int
    samples: int


@dataclass(frozen=True)
class VenvStep:
    """Provisioning an interpreter's venv (``engine/venvs.py``), a step of it."""

    python: str  # the interpreter's label
    step: str  # wait | create | install | install-one | ready | removed-stale
    path: str  # the venv's directory
    packages: int | None = None  # install: how many worker packages
    requirement: str | None = None  # install-one: the one being retried
    failed: dict[str, str] | None = None  # ready: requirement -> why pip could not install it

    @classmethod
    def from_dict(cls, e: dict) -> VenvStep:
        """From ``venvs.ensure``'s event dict ({"type": "venv", "python", "step", ...})."""
        return cls(
            e["python"],
            e["step"],
            e["path"],
            e.get("packages"),
            e.get("requirement"),
            e.get("failed"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The dict ``venvs.ensure`` emitted (what ``report.interpreters.venv_event_text``
        reads): the set fields and ``"type": "venv"``."""
        out: dict[str, Any] = {
            "type": "venv",
            "python": self.python,
            "step": self.step,
            "path": self.path,
        }
        extra = {"packages": self.packages, "requirement": self.requirement, "failed": self.failed}
        return {**out, **{k: v for k, v in extra.items() if v is not None}}


@dataclass(frozen=True)
class ServiceStarting:
    """A service a workload needs (e.g. ``postgres``) is being started."""

    name: str


@dataclass(frozen=True)
class Calibrating:
    """A workload's size knob is being calibrated so one task takes about ``target_s`` s."""

    workload: str
    target_s: float


@dataclass(frozen=True)
class TrialStarted:
    """One trial process is starting: round ``round`` (from 0) of one measurement."""

    workload: str
    strategy: str
    workers: int
    python: str  # the interpreter's label
    round: int


@dataclass(frozen=True)
class SampleTaken:
    """A trial reported one timed pass."""

    workload: str
    strategy: str


@dataclass(frozen=True)
class RowDone:
    """A measurement is final (ok, skipped, error or timeout): no more samples will come."""

    row: Row


Event = Planned | VenvStep | ServiceStarting | Calibrating | TrialStarted | SampleTaken | RowDone
OnEvent = Callable[[Event], None]
