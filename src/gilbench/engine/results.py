"""The results document (schema ``gilbench/1``): typed rows whose fields document the JSON.

Schema history (keep in step with DESIGN.md):
- gilbench/1: first version. Fields beyond the contract (``samples_s``, ``note``,
  ``efficiency``, ``checksum``, ``warnings``, ``command``) are additions readers may ignore.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from gilbench.documents import SCHEMA
from gilbench.fsio import check_writable, write_json_atomic  # noqa: F401  (re-exported)


@dataclass
class Row:
    """One measurement: a workload under one strategy with one worker count on one interpreter."""

    workload: str
    strategy: str
    workers: int
    tasks: int
    python: str  # the interpreter's label
    status: str = "ok"  # ok | error | timeout | skipped
    wall_s: dict | None = None  # median, mean, stdev, min, max, n of one pass over all tasks
    cpu_s: float | None = None  # median CPU seconds (process + children) of one pass
    cpu_util: float | None = None  # cpu_s / median wall: the effective parallelism
    run_queue_s: float | None = None  # median seconds its threads were ready but waited for a core (other load)
    speedup: float | None = None  # sequential median wall / this median wall, same tasks and python
    speedup_ci95: list[float] | None = None  # percentile-bootstrap 95% interval of the speedup
    efficiency: float | None = None  # speedup / workers
    gil_contention: float | None = None  # 0..1 share of time a 1 ms knock waited for the GIL (median); None: see reason
    gil_hold_ms: float | None = None  # typical stretch the GIL is held, from the knocks' waits (~5 ms: Python code)
    max_rss_mb: float | None = None  # peak resident memory of the trial's processes
    startup_s: float | None = None  # pool start-up, measured apart from the tasks
    error: str | None = None
    reason: str | None = None  # why skipped, or why a metric is missing
    note: str | None = None  # how it ran, when that differs from the name (e.g. via asyncio.to_thread)
    samples_s: list[float] = field(default_factory=list)  # every timed pass's wall time
    checksum: str | None = None  # hash of the task results, compared with sequential's

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.workload, self.strategy, self.workers, self.python)


@dataclass
class Warning_:
    """A measurement caveat, as data; the CLI and the report show it."""

    code: str  # wide-spread | loaded-machine | workers-exceed-cores | results-differ | ...
    message: str
    workload: str | None = None
    strategy: str | None = None
    workers: int | None = None
    python: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class Serialisable(Protocol):
    """A typed part of the document that the engine stores but does not define (the analysis's
    ``Recommendation`` and ``ScalingEntry``): it says what it is as JSON."""

    def to_dict(self) -> dict: ...


@dataclass
class Document:
    kind: str  # run | bench
    command: str
    created: str
    environment: dict
    interpreters: list[dict] = field(default_factory=list)
    results: list[Row] = field(default_factory=list)
    # analysis.recommend.Recommendation values: one verdict per (workload, python)
    recommendations: list[Serialisable] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. calibrated knob values
    # analysis.scaling.ScalingEntry values, the JSON's "scaling"; None: not analysed (no key)
    scaling: list[Serialisable] | None = None

    def to_dict(self) -> dict:
        from gilbench._version import __version__

        return {
            "schema": SCHEMA,
            "kind": self.kind,
            "gilbench_version": __version__,
            "command": self.command,
            "created": self.created,
            "environment": self.environment,
            "interpreters": self.interpreters,
            "results": [r.to_dict() for r in self.results],
            "recommendations": [r.to_dict() for r in self.recommendations],
            "warnings": [w.to_dict() for w in self.warnings],
            **self.extra,
            **({} if self.scaling is None else {"scaling": [e.to_dict() for e in self.scaling]}),
        }
