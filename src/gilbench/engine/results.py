"""The results document (schema ``gilbench/1``): typed rows whose fields document the JSON.

Schema history (keep in step with DESIGN.md):
- gilbench/1: first version. Fields beyond the contract (``samples_s``, ``note``,
  ``efficiency``, ``checksum``, ``warnings``, ``command``) are additions readers may ignore.
- gilbench/1, later: row ``gil_reenabled_by`` (free-threaded builds: the imports that turned
  the GIL back on), ``leaked_processes``; document ``cross_interpreter`` (documents.py has
  the whole history).
- gilbench/1, later: row status ``pending``, in the file a run writes before and while it
  measures (engine/session.py).
- gilbench/1, later: row ``loops``, ``warmups``, ``steady``; recommendation ``decided``,
  ``undecided``, ``inconclusive``; scaling ``predicted_ci95``.
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
    # ok | error | timeout | skipped | pending (not measured yet: only in a file written
    # mid-run; a run that ends leaves none, an interrupted one skips them, "not run: ...")
    status: str = "ok"
    # seconds of one pass over all tasks: median, mean, stdev, min, max, n (stats.summarize)
    wall_s: dict | None = None
    cpu_s: float | None = None  # median CPU seconds (process + children) of one pass
    cpu_util: float | None = None  # cpu_s / median wall: the effective parallelism
    # median seconds its threads were ready but waited for a core (other load; Linux schedstat)
    run_queue_s: float | None = None
    # sequential median wall / this median wall, same tasks and python
    speedup: float | None = None
    speedup_ci95: list[float] | None = None  # percentile-bootstrap 95% interval of the speedup
    efficiency: float | None = None  # speedup / workers
    # 0..1 share of time a 1 ms gilknocker knock waited for the GIL (median); None: see reason
    gil_contention: float | None = None
    # typical stretch the GIL is held, ms, from the knocks' waits (~5 ms: Python code)
    gil_hold_ms: float | None = None
    max_rss_mb: float | None = None  # peak resident memory of the trial's processes, MiB
    startup_s: float | None = None  # pool start-up, seconds, measured apart from the tasks
    error: str | None = None  # one line, "ExceptionType: message", when status is error
    reason: str | None = None  # why skipped, or why a metric is missing
    # how it ran, when that differs from the name (e.g. via asyncio.to_thread)
    note: str | None = None
    samples_s: list[float] = field(default_factory=list)  # every timed pass's wall time, s
    checksum: str | None = None  # hash of the task results, compared with sequential's
    # Free-threaded build started with the GIL off: the modules whose import turned it back on
    # in this row's worker, in import order ("?" when unnamed); the row then ran with the GIL
    # and is not free-threaded (its note says so too). None: no re-enabled GIL.
    gil_reenabled_by: list[str] | None = None
    # processes the code under test started and left running, over all trials; gilbench ended
    # them at each trial's end (services/lifeline.py) and the note says so
    leaked_processes: int = 0
    # passes timed together in one value (worker.loops_for: a pass too short to time alone is
    # repeated until a value lasts 0.2 s); the row's times are per pass
    loops: int = 1
    # warm-up passes a trial ran before timing, most over its trials (worker.warm_up: until two
    # in a row agree within 10%); None: not measured
    warmups: int | None = None
    # False when some trial's warm-up passes never agreed (stopped at the cap or its time budget)
    steady: bool | None = None

    def to_dict(self) -> dict:
        """The row as the document's ``results`` item: every field, nested values copied."""
        return asdict(self)

    @property
    def key(self) -> tuple[str, str, int, str]:
        """(workload, strategy, workers, python): what identifies a row within one run."""
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
        """The warning as the document's ``warnings`` item: every field, None included."""
        return asdict(self)


class Serialisable(Protocol):
    """A typed part of the document that the engine stores but does not define (the analysis's
    ``Recommendation`` and ``ScalingEntry``): it says what it is as JSON."""

    def to_dict(self) -> dict:
        """The value as a JSON object."""
        ...


@dataclass
class Document:
    """A whole results document (``gilbench run`` or ``gilbench bench``), before it is JSON."""

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
        """The JSON object of schema ``gilbench/1``: schema, kind, version, command, created,
        environment, interpreters, results, recommendations, warnings, ``extra``'s keys at the
        top level, and ``scaling`` when analysed."""
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
