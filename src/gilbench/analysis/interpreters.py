"""Across interpreters: which interpreter *and* strategy is fastest in absolute time, and what a
free-threaded build (PEP 703) costs and gains against the default build of its version.

Each interpreter's recommendation compares its strategies with its own sequential run; this
compares median wall times across interpreters, by the same rule as ``recommend`` (a lead counts
when it is at least 10% and its bootstrap 95% interval lies above 1: ``recommend.lead`` and
``recommend.is_real``). A free-threaded build runs as two entries (``3.13.15t``, GIL off, and
``3.13.15t+gil``, ``PYTHON_GIL=1``); the GIL-off one is paired with the default build of the same
version (else the same major.minor). A row whose worker imported an extension that turned the GIL
back on (its ``gil_reenabled_by``) ran with the GIL: its interpreter's figures are then not a
free-threaded verdict. Pure functions of rows and the document's ``interpreters`` entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from gilbench.analysis.recommend import (
    duration,
    faster,
    gil_off,
    gil_reenabled_by,
    is_real,
    lead,
    ok_row,
)
from gilbench.engine.results import Row
from gilbench.strategies import BASELINE, sort_key

# Threads on a free-threaded build that keep this many cores busy per worker (CPU/wall) ...
BUSY_PER_WORKER = 0.8
# ... yet gain less than this much per worker are held back inside the interpreter, not by a GIL.
GAIN_PER_WORKER = 0.75


@dataclass
class Timing:
    """One measured row, named: the ``fastest``, ``runner_up``, ``best`` and ``baseline_best``
    objects of a ``cross_interpreter`` entry."""

    python: str  # the interpreter's label
    strategy: str
    workers: int
    wall_s: float  # median seconds of one pass over all tasks (the row's wall_s.median)

    @classmethod
    def of(cls, row: Row) -> Timing:
        """The row's label, strategy, workers and median wall time (it must have wall_s)."""
        return cls(row.python, row.strategy, row.workers, row.wall_s["median"])

    def text(self, with_python: bool = True) -> str:
        """'3.13.15t threads x2 595.0 ms' (without the label when ``with_python`` is false)."""
        what = f"{self.strategy} x{self.workers} {duration(self.wall_s)}"
        return f"{self.python} {what}" if with_python else what


@dataclass
class FreeThreaded:
    """A free-threaded build with the GIL off against the default build of its version, on one
    workload: a ``cross_interpreter`` entry's ``free_threaded`` item."""

    python: str  # the free-threaded entry's label, e.g. "3.13.15t"
    baseline: str | None  # the default (GIL) build's label; None: none was measured
    # ft sequential median / baseline sequential median - 1: +0.24 is 24% slower on one thread
    single_thread_cost: float | None = None
    single_thread_cost_ci95: list[float] | None = None  # bootstrap 95% interval, minus 1
    best: Timing | None = None  # the ft build's fastest ok row
    baseline_best: Timing | None = None  # the default build's fastest ok row
    vs_baseline_best: float | None = None  # baseline_best median / best median: >1, ft faster
    vs_baseline_best_ci95: list[float] | None = None
    # True: the ft best really beats the default build's best (>= 10%, significant); False: the
    # reverse; None: within noise, a figure is missing, or the GIL came back (gil_reenabled_by)
    beats_baseline: bool | None = None
    limited_by: str | None = None  # threads busy on every core yet slow: why (one sentence)
    gil_reenabled_by: list[str] | None = None  # modules whose import turned the GIL back on
    reason: str | None = None  # why beats_baseline is None or a figure is missing


@dataclass
class CrossInterpreter:
    """The verdict across interpreters for one workload measured on two or more: a
    ``cross_interpreter`` item of the results JSON, field for field."""

    workload: str
    fastest: Timing  # the ok row with the lowest median wall time, any interpreter
    runner_up: Timing | None  # the fastest ok row on another interpreter
    lead: float | None  # runner_up median / fastest median
    lead_ci95: list[float] | None  # its bootstrap 95% interval (samples_s)
    decided: bool  # the lead is real: >= 10% and its interval above 1 (recommend.is_real)
    free_threaded: list[FreeThreaded] = field(default_factory=list)
    why: str = ""  # one sentence with the numbers

    def to_dict(self) -> dict:
        """The verdict as the results JSON's ``cross_interpreter`` item: every field."""
        return asdict(self)


def cross_interpreter(
    rows: Iterable[Row], interpreters: Sequence[Mapping]
) -> list[CrossInterpreter]:
    """One verdict per workload that has ok rows with samples on two interpreters or more, in
    the order workloads first appear in ``rows``. ``interpreters``: the document's entries
    (``label``, ``version``, ``version_info``, ``free_threaded_build``, ``gil_enabled``)."""
    by_workload: dict[str, dict[str, list[Row]]] = {}
    for r in rows:
        by_workload.setdefault(r.workload, {}).setdefault(r.python, []).append(r)
    entries = []
    for workload, by_python in by_workload.items():
        measured = {p: ok for p, rs in by_python.items() if (ok := _measured(rs))}
        if len(measured) >= 2:
            entries.append(_verdict(workload, by_python, measured, interpreters))
    return entries


def _verdict(
    workload: str,
    by_python: dict[str, list[Row]],
    measured: dict[str, list[Row]],
    interpreters: Sequence[Mapping],
) -> CrossInterpreter:
    first = _fastest([r for rs in measured.values() for r in rs])
    second = _fastest([r for p, rs in measured.items() if p != first.python for r in rs])
    ratio = lead(first, second)
    ft = [
        _free_threaded(i, by_python[i["label"]], measured, interpreters)
        for i in interpreters
        if gil_off(i) and i.get("label") in by_python
    ]
    entry = CrossInterpreter(
        workload=workload,
        fastest=Timing.of(first),
        runner_up=Timing.of(second),
        lead=ratio[0] if ratio else None,
        lead_ci95=[ratio[1], ratio[2]] if ratio else None,
        decided=bool(ratio and is_real(ratio[0], ratio[1])),
        free_threaded=ft,
    )
    entry.why = "; ".join([_lead_text(entry), *map(_free_threaded_text, ft)])
    return entry


def _free_threaded(
    interp: Mapping,
    rows: list[Row],
    measured: dict[str, list[Row]],
    interpreters: Sequence[Mapping],
) -> FreeThreaded:
    """The GIL-off entry ``interp`` (its rows on one workload) against its default build."""
    label = interp["label"]
    base = _baseline(interp, interpreters, measured)
    reenabled = gil_reenabled_by(rows)
    entry = FreeThreaded(python=label, baseline=base, gil_reenabled_by=reenabled or None)
    if reenabled:
        entry.reason = (
            f"importing {', '.join(reenabled)} turned the GIL back on, "
            "so these figures ran with the GIL"
        )
    else:
        entry.limited_by = _limited_by(measured.get(label, []))
    if base is None:
        entry.reason = entry.reason or (
            f"no default (GIL) build of {interp.get('version')} measured this workload"
        )
        return entry
    ft_ok, base_ok = measured.get(label, []), measured[base]
    ft_seq, base_seq = ok_row(ft_ok, BASELINE), ok_row(base_ok, BASELINE)
    if ft_seq and base_seq and (cost := lead(base_seq, ft_seq)):
        entry.single_thread_cost = cost[0] - 1
        entry.single_thread_cost_ci95 = [cost[1] - 1, cost[2] - 1]
    if not ft_ok:
        entry.reason = entry.reason or f"{label} has no ok row on this workload"
        return entry
    best, base_best = _fastest(ft_ok), _fastest(base_ok)
    entry.best, entry.baseline_best = Timing.of(best), Timing.of(base_best)
    vs = lead(best, base_best)
    if vs:
        entry.vs_baseline_best, entry.vs_baseline_best_ci95 = vs[0], [vs[1], vs[2]]
    if reenabled:
        return entry
    if vs and is_real(vs[0], vs[1]):
        entry.beats_baseline = True
    elif faster(base_best, best):
        entry.beats_baseline = False
    else:
        entry.reason = "within noise (neither leads by a significant 10%)"
    return entry


def _baseline(
    interp: Mapping, interpreters: Sequence[Mapping], measured: Mapping[str, list[Row]]
) -> str | None:
    """The label of the default (GIL) build paired with the free-threaded ``interp``: the same
    ``version`` first, else the same major.minor; only builds with ok rows (``measured``)."""
    builds = [
        i for i in interpreters if not i.get("free_threaded_build") and i.get("label") in measured
    ]
    for same in (
        lambda i: i.get("version") == interp.get("version"),
        lambda i: _minor(i) == _minor(interp),
    ):
        found = next((i["label"] for i in builds if same(i)), None)
        if found is not None:
            return found
    return None


def _minor(interp: Mapping) -> tuple[str, ...]:
    """(major, minor) of an entry, as text: from ``version_info``, else ``version``."""
    info = interp.get("version_info")
    if isinstance(info, Sequence) and len(info) >= 2:
        return (str(info[0]), str(info[1]))
    return tuple(str(interp.get("version", "")).split(".")[:2])


def _limited_by(rows: list[Row]) -> str | None:
    """Why threads gained little while busy on every core, from the threads row with the most
    workers (>= 2): CPU/wall >= BUSY_PER_WORKER x workers, speedup < GAIN_PER_WORKER x workers.
    None otherwise."""
    threads = [r for r in rows if r.strategy == "threads" and r.workers >= 2]
    if not threads:
        return None
    top = max(threads, key=lambda r: r.workers)
    busy, gain, n = top.cpu_util, top.speedup, top.workers
    if busy is None or gain is None or busy < BUSY_PER_WORKER * n or gain >= GAIN_PER_WORKER * n:
        return None
    return (
        f"threads kept {n} cores busy (CPU/wall {busy:.2f}) but gained only {gain:.2f}x: "
        "the limit is not the GIL but contention inside the interpreter (shared reference "
        "counts, per-object locks, the allocator, memory bandwidth); see CPython's "
        "free-threading HOWTO and Tools/ftscalingbench"
    )


def _measured(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.status == "ok" and r.samples_s and r.wall_s]


def _fastest(rows: list[Row]) -> Row:
    """The row with the lowest median wall time; ties: the simpler strategy, fewer workers."""
    return min(rows, key=lambda r: (r.wall_s["median"], sort_key(r.strategy), r.workers))


def _ci(interval: list[float] | None, fmt: str) -> str:
    return f"95% CI {interval[0]:{fmt}} to {interval[1]:{fmt}}" if interval else "no interval"


def _lead_text(e: CrossInterpreter) -> str:
    if e.runner_up is None or e.lead is None:
        return f"{e.fastest.text()} is the fastest"
    interval = _ci(e.lead_ci95, ".2f")
    if e.decided:
        return (
            f"{e.fastest.text()} is the fastest, {e.lead:.2f}x ({interval}) ahead of "
            f"{e.runner_up.text()}"
        )
    return (
        f"{e.fastest.text()} and {e.runner_up.text()} are within noise "
        f"({e.lead:.2f}x, {interval}: not a significant 10%)"
    )


def _free_threaded_text(e: FreeThreaded) -> str:
    parts = []
    if e.single_thread_cost is not None:
        parts.append(
            f"sequential takes {e.single_thread_cost:+.0%} "
            f"({_ci(e.single_thread_cost_ci95, '+.0%')}) vs {e.baseline}"
        )
    if e.best and e.baseline_best and e.vs_baseline_best is not None:
        outcome = {True: "faster", False: "slower", None: e.reason or "undecided"}
        parts.append(
            f"its best, {e.best.text(False)}, runs at {e.vs_baseline_best:.2f}x "
            f"({_ci(e.vs_baseline_best_ci95, '.2f')}) the speed of {e.baseline}'s best, "
            f"{e.baseline_best.text(False)}: {outcome[e.beats_baseline]}"
        )
    elif e.reason:
        parts.append(e.reason)
    return f"free-threaded {e.python}: " + ", ".join(parts)
