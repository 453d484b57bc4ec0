"""What the parent and a trial's worker process say to each other, typed, in one place.

The parent (``engine/runner.py``) writes one :class:`TrialSpec` as JSON on the worker's stdin;
the worker (``engine/worker.py``) answers with JSON lines on the file descriptor named by
``GILBENCH_RESULT_FD``, each a message below with a ``"type"`` key (as pyperf sends a typed
Run over its pipe). Per mode, the worker sends:

- ``measure``: :class:`Startup`, one :class:`Sample` per timed pass, then :class:`Done`;
- ``calibrate``: :class:`Calibrated`;
- ``probe``: :class:`Probed`;

or, in any mode, :class:`Skipped` or :class:`Failed` as its last message. The format is
internal to one gilbench version (both ends run the same source), so it has no version.

Only the standard library is used: this module runs in every target interpreter (3.11+,
free-threaded builds too).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

MODES = ("measure", "calibrate", "probe")


@dataclass
class TrialSpec:
    """One trial, as the parent asks for it. Build it with :meth:`measure`, :meth:`calibrate`
    or :meth:`probe`; raises ValueError when a mode's own fields are missing."""

    mode: str  # measure | calibrate | probe
    call: dict  # the task, as ``gilbench.workloads.Call.to_dict()``
    cwd: str | None = None  # where the user's modules are imported from (None: the worker's cwd)
    setup: str | None = None  # measure, probe: "module:func" building the call's arguments, untimed
    # -- measure --
    strategy: str | None = None  # a registered strategy name
    options: dict[str, Any] = field(default_factory=dict)  # its constructor's keyword options
    workers: int = 1
    tasks: int = 1  # tasks per timed pass
    samples: int = 1  # timed passes
    compare_results: bool = True  # False: no checksum (results legitimately vary between calls)
    gil_contention: bool = True  # measure GIL contention around each pass (gilknocker)
    short_warmup: bool = True  # warm up with min(tasks, workers) tasks instead of all of them
    # passes per timed value; None: the worker calibrates it (worker.loops_for). The parent
    # fixes it after a row's first trial so every value of the row times the same work.
    loops: int | None = None
    # -- calibrate --
    knob: str | None = None  # the keyword argument that sizes one task
    target_s: float | None = None  # seconds one task should take
    start: int = 10_000  # the knob's first value tried

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown trial mode {self.mode!r}; known: {', '.join(MODES)}")
        if self.mode == "measure" and not self.strategy:
            raise ValueError("a measure trial needs a strategy")
        if self.mode == "calibrate" and (not self.knob or self.target_s is None):
            raise ValueError("a calibrate trial needs a knob and a target_s")

    @classmethod
    def measure(
        cls, call: dict, strategy: str, workers: int, tasks: int, samples: int, **more: Any
    ) -> TrialSpec:
        """Time ``samples`` passes of ``tasks`` tasks under ``strategy`` with ``workers``."""
        return cls(
            "measure",
            call,
            strategy=strategy,
            workers=workers,
            tasks=tasks,
            samples=samples,
            **more,
        )

    @classmethod
    def calibrate(
        cls, call: dict, knob: str, target_s: float, start: int = 10_000, **more: Any
    ) -> TrialSpec:
        """Find the ``knob`` value for which one task takes about ``target_s`` seconds."""
        return cls("calibrate", call, knob=knob, target_s=target_s, start=start, **more)

    @classmethod
    def probe(cls, call: dict, setup: str | None = None, cwd: str | None = None) -> TrialSpec:
        """Call the function a few times: its time per call and what it returns."""
        return cls("probe", call, setup=setup, cwd=cwd)

    def to_json(self) -> str:
        """The spec as one JSON object (every field), as the worker reads it on stdin."""
        return json.dumps(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> TrialSpec:
        """A spec from its JSON object; ``mode`` defaults to measure. Raises TypeError on an
        unknown key, ValueError as the constructor."""
        return cls(**{"mode": "measure", **data})

    @classmethod
    def from_json(cls, text: str | bytes) -> TrialSpec:
        """A spec from JSON text; raises ValueError on bad JSON, else as :meth:`from_dict`."""
        return cls.from_dict(json.loads(text))


# -- worker -> parent --------------------------------------------------------------------------
class _Message:
    TYPE: ClassVar[str]  # the JSON line's "type"

    def to_json(self) -> str:
        """One JSON line (no newline): the fields and the ``"type"``; :func:`decode` reads it."""
        return json.dumps({"type": self.TYPE, **asdict(self)})  # type: ignore[call-overload]


@dataclass
class Startup(_Message):
    """The pool is up (measure mode)."""

    TYPE: ClassVar[str] = "startup"
    startup_s: float  # seconds ``strategy.start`` took, timed apart from the tasks


@dataclass
class Sample(_Message):
    """One timed pass over all tasks (measure mode)."""

    TYPE: ClassVar[str] = "sample"
    wall_s: float  # wall-clock seconds of the pass
    cpu_s: float  # CPU seconds of the worker, its reaped and live children, during the pass
    rss_mb: float  # peak resident memory so far of the worker and its live children, MiB
    run_queue_s: float | None = None  # seconds its threads were ready but waited for a core
    gil_contention: float | None = None  # 0..1, None where not measured (see Done)
    gil_hold_ms: float | None = None  # typical stretch the GIL is held, milliseconds
    loops: int = 1  # passes timed together; the figures above are per pass (divided by it)


@dataclass
class Done(_Message):
    """Every pass is done (measure mode): the last message."""

    TYPE: ClassVar[str] = "done"
    checksum: str | None = None  # of the last pass's task results; None when not compared
    note: str | None = None  # how it ran, when that differs from the strategy's name
    gil_contention_reason: str | None = None  # why the samples carry no GIL contention
    # free-threaded build, GIL off at start: the modules whose import turned it back on
    # (``freethreading.GilWatch.reenabled_by``); None when it stayed as it started
    gil_reenabled_by: list[str] | None = None
    warmups: int | None = None  # warm-up passes run before the timed ones (worker.warm_up)
    steady: bool | None = None  # False: the warm-up passes never agreed (cap or time budget)


@dataclass
class Skipped(_Message):
    """The strategy cannot run this call here: the last message."""

    TYPE: ClassVar[str] = "skipped"
    reason: str


@dataclass
class Failed(_Message):
    """The trial failed (the task, the setup or the worker raised): the last message."""

    TYPE: ClassVar[str] = "error"
    error: str  # one line: "ExceptionType: message"
    where: str | None = None  # setup | load, when it failed before the tasks ran
    traceback: str | None = None  # its last 4000 characters


@dataclass
class Calibrated(_Message):
    """The knob's value (calibrate mode): the last message."""

    TYPE: ClassVar[str] = "calibrated"
    value: int  # the knob value for which one task takes about ``target_s``


@dataclass
class Probed(_Message):
    """The function's first calls (probe mode): the last message."""

    TYPE: ClassVar[str] = "probed"
    per_call_s: float  # seconds per call, timed over about ``usercall.PROBE_S``
    calls: int  # calls made, the untimed first one included
    result_unpicklable: str | None = None  # why the result cannot cross a process boundary
    deterministic: bool = True  # two calls returned equal results (by checksum)
    # What one call and its result cost, the fastest seen (``projection.CallCost``): a trial's
    # least duration is projected from these before it starts. None: not measured.
    fastest_call_s: float | None = None  # wall seconds of the fastest timed call
    fastest_call_cpu_s: float | None = None  # CPU seconds (all threads) of the least CPU call
    checksum_s: float | None = None  # seconds to checksum one result (faster of two)
    pickle_s: float | None = None  # seconds to pickle one result (None: it cannot be)
    result_bytes: int | None = None  # size of one pickled result, bytes
    coroutine: bool = False  # the function is a coroutine function (``async def``)


Message = Startup | Sample | Done | Skipped | Failed | Calibrated | Probed
# A message of one of these types is the worker's last.
FINAL = (Done, Skipped, Failed, Calibrated, Probed)
_BY_TYPE: dict[str, type] = {cls.TYPE: cls for cls in (Startup, Sample, *FINAL)}


def decode(line: str | bytes | dict) -> Message:
    """The message a JSON line (or its parsed object) carries; unknown keys are ignored.
    Raises ValueError for an unknown type or a malformed line, TypeError when a field its
    type requires is missing."""
    data = json.loads(line) if isinstance(line, (str, bytes)) else dict(line)
    cls = _BY_TYPE.get(data.pop("type", None))
    if cls is None:
        raise ValueError(f"not a worker message: {line!r}")
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})
