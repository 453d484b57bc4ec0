"""Across interpreters: which interpreter *and* strategy is fastest in absolute time, and what a
free-threaded build (PEP 703) costs and gains against the default build of its version.

Each interpreter's recommendation compares its strategies with its own sequential run; this
compares median wall times across interpreters, by the same rule as ``recommend`` (a lead counts
when it is at least 10% and its bootstrap 95% interval lies above 1: ``recommend.lead`` and
``recommend.is_real``). A free-threaded build runs as two entries (``3.13.15t``, GIL off, and
``3.13.15t+gil``, ``PYTHON_GIL=1``); the GIL-off one is paired with the default build of the same
version (else the same major.minor). A row whose worker imported an extension that turned the GIL
back on (its ``gil_reenabled_by``) ran with the GIL: its interpreter's figures are then not a
free-threaded verdict.

A row past a physical limit (``engine.limits.flags`` against its own interpreter's sequential
row, on the usable cores: the rule ``recommend.split_flagged`` applies to every verdict) is a
wrong measurement, so it is never named the fastest, the best on another interpreter, a
free-threaded build's best or its default build's best. One that would have been is listed in
``left_out`` with its flags' reasons, and when counting it would change the verdict (it would
have been the fastest; or the lead, or whether a free-threaded build beats its default build,
would differ), that verdict is left open: ``decided`` false, ``beats_baseline`` None, and the
why says which row was left out and why. Pure functions of rows, the document's
``interpreters`` entries and the usable cores.
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
    split_flagged,
)
from gilbench.engine.limits import Flag
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


# What a left-out row would have been named, as a sentence says it.
WOULD_BE = {
    "fastest": "the fastest",
    "runner_up": "the best on another interpreter",
    "best": "its best",
    "baseline_best": "the default build's best",
}


@dataclass
class LeftOut:
    """A row past a physical limit that a verdict would otherwise have named: a ``left_out``
    item of a ``cross_interpreter`` entry or of its ``free_threaded`` item."""

    python: str  # the interpreter's label
    strategy: str
    workers: int
    wall_s: float  # median seconds of one pass over all tasks (the row's wall_s.median)
    speedup: float | None  # against its own interpreter's sequential row
    # what it would have been named, being faster than the row named so: fastest | runner_up
    # (another interpreter than ``fastest``'s) on the cross_interpreter entry, best |
    # baseline_best on a free_threaded item; see WOULD_BE
    would_be: str
    # why it was left out: each {"code", "reason"} of ``engine.limits.flags`` (impossible-speedup,
    # impossible-cpu, wide-interval), in that order
    flags: list[Flag] = field(default_factory=list)

    @classmethod
    def of(cls, row: Row, would_be: str, flags: list[Flag]) -> LeftOut:
        """The row (it must have wall_s), what it would have been named, and its flags."""
        return cls(
            row.python,
            row.strategy,
            row.workers,
            row.wall_s["median"],
            row.speedup,
            would_be,
            flags,
        )

    def text(self) -> str:
        """'3.13.15t threads x2 0.300 s (4.33x its sequential) would have been the fastest but
        is left out: above the physical limit of 2x on 2 usable cores'."""
        timing = Timing(self.python, self.strategy, self.workers, self.wall_s).text()
        speedup = f" ({self.speedup:.2f}x its sequential)" if self.speedup is not None else ""
        named = WOULD_BE.get(self.would_be, self.would_be)
        reasons = " and ".join(f.reason for f in self.flags)
        return f"{timing}{speedup} would have been {named} but is left out: {reasons}"


@dataclass
class FreeThreaded:
    """A free-threaded build with the GIL off against the default build of its version, on one
    workload: a ``cross_interpreter`` entry's ``free_threaded`` item."""

    python: str  # the free-threaded entry's label, e.g. "3.13.15t"
    baseline: str | None  # the default (GIL) build's label; None: none was measured
    # ft sequential median / baseline sequential median - 1: +0.24 is 24% slower on one thread
    single_thread_cost: float | None = None
    single_thread_cost_ci95: list[float] | None = None  # bootstrap 95% interval, minus 1
    best: Timing | None = None  # the ft build's fastest ok row within the physical limits
    baseline_best: Timing | None = None  # the default build's fastest ok row within them
    vs_baseline_best: float | None = None  # baseline_best median / best median: >1, ft faster
    vs_baseline_best_ci95: list[float] | None = None
    # True: the ft best really beats the default build's best (>= 10%, significant); False: the
    # reverse; None: within noise, a figure is missing, the GIL came back (gil_reenabled_by), or
    # a row left out past a physical limit would have changed it (left_out)
    beats_baseline: bool | None = None
    limited_by: str | None = None  # threads busy on every core yet slow: why (one sentence)
    gil_reenabled_by: list[str] | None = None  # modules whose import turned the GIL back on
    reason: str | None = None  # why beats_baseline is None or a figure is missing
    # rows past a physical limit that would have been ``best`` or ``baseline_best``, fastest first
    left_out: list[LeftOut] = field(default_factory=list)


@dataclass
class CrossInterpreter:
    """The verdict across interpreters for one workload measured on two or more: a
    ``cross_interpreter`` item of the results JSON, field for field."""

    workload: str
    # the ok row with the lowest median wall time, any interpreter, among the rows within the
    # physical limits (``engine.limits.flags``; a flagged row is never named here)
    fastest: Timing
    runner_up: Timing | None  # the fastest such row on another interpreter; None: there is none
    lead: float | None  # runner_up median / fastest median
    lead_ci95: list[float] | None  # its bootstrap 95% interval (samples_s)
    # the lead is real: >= 10% and its interval above 1 (recommend.is_real), and no row left out
    # (left_out) would have changed that: been the fastest, or a runner-up it does not really lead
    decided: bool
    free_threaded: list[FreeThreaded] = field(default_factory=list)
    why: str = ""  # one sentence with the numbers
    # rows past a physical limit that would have been ``fastest`` or ``runner_up``, fastest first
    left_out: list[LeftOut] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The verdict as the results JSON's ``cross_interpreter`` item: every field."""
        return asdict(self)


def cross_interpreter(
    rows: Iterable[Row], interpreters: Sequence[Mapping], cores: int | None = None
) -> list[CrossInterpreter]:
    """One verdict per workload that has ok rows with samples on two interpreters or more (and
    at least one such row within the physical limits), in the order workloads first appear in
    ``rows``. ``interpreters``: the document's entries (``label``, ``version``,
    ``version_info``, ``free_threaded_build``, ``gil_enabled``); ``cores``: the usable cores
    (``environment["usable_cores"]``, as ``recommend`` gets them; None: no cores' limit), for
    the physical limits each row is checked against (``recommend.split_flagged``, with its own
    interpreter's sequential row as baseline)."""
    by_workload: dict[str, dict[str, list[Row]]] = {}
    for r in rows:
        by_workload.setdefault(r.workload, {}).setdefault(r.python, []).append(r)
    entries = []
    for workload, by_python in by_workload.items():
        measured = {p: ok for p, rs in by_python.items() if (ok := _measured(rs))}
        if len(measured) >= 2 and (
            entry := _verdict(workload, by_python, measured, interpreters, cores)
        ):
            entries.append(entry)
    return entries


# One interpreter's measured rows on one workload: those within the physical limits, and the
# flagged ones with their flags.
_Split = tuple[list[Row], list[tuple[Row, list[Flag]]]]


def _verdict(
    workload: str,
    by_python: dict[str, list[Row]],
    measured: dict[str, list[Row]],
    interpreters: Sequence[Mapping],
    cores: int | None,
) -> CrossInterpreter | None:
    split: dict[str, _Split] = {
        p: split_flagged(rs, ok_row(rs, BASELINE), cores) for p, rs in measured.items()
    }
    reliable = [r for ok, _ in split.values() for r in ok]
    if not reliable:
        return None  # nothing within the physical limits to name
    first = _fastest(reliable)
    others = [r for r in reliable if r.python != first.python]
    second = _fastest(others) if others else None
    ratio = lead(first, second) if second else None
    decided = bool(ratio and is_real(ratio[0], ratio[1]))
    left_out = []
    for r, reasons in sorted(
        (f for _, flagged in split.values() for f in flagged), key=lambda f: _key(f[0])
    ):
        if _key(r) < _key(first):  # it would have been the fastest: the verdict is open
            left_out.append(LeftOut.of(r, "fastest", reasons))
            decided = False
        elif r.python != first.python and (second is None or _key(r) < _key(second)):
            # It would have been the runner-up: open unless the fastest really leads it too.
            left_out.append(LeftOut.of(r, "runner_up", reasons))
            decided = decided and faster(first, r)
    ft = [
        _free_threaded(i, by_python[i["label"]], split, interpreters)
        for i in interpreters
        if gil_off(i) and i.get("label") in by_python
    ]
    entry = CrossInterpreter(
        workload=workload,
        fastest=Timing.of(first),
        runner_up=Timing.of(second) if second else None,
        lead=ratio[0] if ratio else None,
        lead_ci95=[ratio[1], ratio[2]] if ratio else None,
        decided=decided,
        free_threaded=ft,
        left_out=left_out,
    )
    said = {_said(x) for x in left_out}  # the free-threaded items refer to these, not repeat
    entry.why = "; ".join([_lead_text(entry), *(_free_threaded_text(e, said) for e in ft)])
    return entry


def _free_threaded(
    interp: Mapping,
    rows: list[Row],
    split: Mapping[str, _Split],
    interpreters: Sequence[Mapping],
) -> FreeThreaded:
    """The GIL-off entry ``interp`` (its rows on one workload) against its default build, from
    each interpreter's rows within the physical limits and the flagged ones (``split``)."""
    label = interp["label"]
    reliable = {p: ok for p, (ok, _) in split.items() if ok}
    base = _baseline(interp, interpreters, reliable)
    reenabled = gil_reenabled_by(rows)
    entry = FreeThreaded(python=label, baseline=base, gil_reenabled_by=reenabled or None)
    ft_ok, ft_flagged = split.get(label, ([], []))
    if reenabled:
        entry.reason = (
            f"importing {', '.join(reenabled)} turned the GIL back on, "
            "so these figures ran with the GIL"
        )
    else:
        entry.limited_by = _limited_by(ft_ok)
    if base is None:
        entry.reason = entry.reason or (
            f"no default (GIL) build of {interp.get('version')} measured this workload"
        )
        return entry
    base_ok, base_flagged = split[base]
    ft_seq, base_seq = ok_row(ft_ok, BASELINE), ok_row(base_ok, BASELINE)
    if ft_seq and base_seq and (cost := lead(base_seq, ft_seq)):
        entry.single_thread_cost = cost[0] - 1
        entry.single_thread_cost_ci95 = [cost[1] - 1, cost[2] - 1]
    if not ft_ok:
        entry.reason = entry.reason or (
            f"{label} has no ok row within the physical limits on this workload"
            if ft_flagged
            else f"{label} has no ok row on this workload"
        )
        return entry
    best, base_best = _fastest(ft_ok), _fastest(base_ok)
    entry.best, entry.baseline_best = Timing.of(best), Timing.of(base_best)
    entry.left_out = sorted(
        [LeftOut.of(r, "best", f) for r, f in ft_flagged if _key(r) < _key(best)]
        + [LeftOut.of(r, "baseline_best", f) for r, f in base_flagged if _key(r) < _key(base_best)],
        key=lambda x: (x.wall_s, x.would_be),
    )
    vs = lead(best, base_best)
    if vs:
        entry.vs_baseline_best, entry.vs_baseline_best_ci95 = vs[0], [vs[1], vs[2]]
    if reenabled:
        return entry
    beats = _beats(best, base_best)
    if entry.left_out:
        # What the flagged rows' own figures say, had they been counted: when that differs, the
        # rows left out decide it and it is open.
        with_flagged = _beats(
            _fastest([best, *(r for r, _ in ft_flagged)]),
            _fastest([base_best, *(r for r, _ in base_flagged)]),
        )
        if with_flagged != beats:
            entry.reason = "not decided: a row left out past a physical limit would change it"
            return entry
    entry.beats_baseline = beats
    if beats is None:
        entry.reason = "within noise (neither leads by a significant 10%)"
    return entry


def _beats(best: Row, base_best: Row) -> bool | None:
    """Does ``best`` really beat ``base_best`` (True), the reverse (False), or neither (None)?
    By ``recommend.faster``: >= 10% and significant."""
    if faster(best, base_best):
        return True
    if faster(base_best, best):
        return False
    return None


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
    workers (>= 2) among ``rows`` (the caller passes those within the physical limits only):
    CPU/wall >= BUSY_PER_WORKER x workers, speedup < GAIN_PER_WORKER x workers. None
    otherwise."""
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


def _key(r: Row) -> tuple[float, int, int]:
    """The order of speed: median wall time; ties: the simpler strategy, fewer workers."""
    return (r.wall_s["median"], sort_key(r.strategy), r.workers)


def _fastest(rows: list[Row]) -> Row:
    """The row with the lowest median wall time; ties: the simpler strategy, fewer workers."""
    return min(rows, key=_key)


def _ci(interval: list[float] | None, fmt: str) -> str:
    return f"95% CI {interval[0]:{fmt}} to {interval[1]:{fmt}}" if interval else "no interval"


def _lead_text(e: CrossInterpreter) -> str:
    """The entry's verdict, then each row left out and why; inconclusive when one of them would
    have changed it."""
    within = " within the physical limits" if e.left_out else ""
    real = bool(e.lead is not None and e.lead_ci95 and is_real(e.lead, e.lead_ci95[0]))
    if e.runner_up is None or e.lead is None:
        head = f"{e.fastest.text()} is the fastest{within}"
    elif real:
        head = (
            f"{e.fastest.text()} is the fastest{within}, {e.lead:.2f}x "
            f"({_ci(e.lead_ci95, '.2f')}) ahead of {e.runner_up.text()}"
        )
    else:
        head = (
            f"{e.fastest.text()} and {e.runner_up.text()} are within noise "
            f"({e.lead:.2f}x, {_ci(e.lead_ci95, '.2f')}: not a significant 10%)"
        )
    if not e.left_out:
        return head
    left = "; ".join(x.text() for x in e.left_out)
    # Open because of a row left out: it would have been the fastest, or a runner-up the
    # fastest does not really lead.
    if not e.decided and (real or any(x.would_be == "fastest" for x in e.left_out)):
        return (
            f"inconclusive: {head}, but a row left out would change that: {left}; measuring it "
            "again (more samples, a quieter machine) would decide it"
        )
    return f"{head}; {left}"


def _said(x: LeftOut) -> tuple[str, str, int]:
    return (x.python, x.strategy, x.workers)


def _free_threaded_text(e: FreeThreaded, said: set[tuple[str, str, int]]) -> str:
    """The free-threaded item's sentence; a row left out that the entry's sentence already
    named (``said``, updated) is referred to, not explained again."""
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
    for x in e.left_out:
        if _said(x) in said:
            named = WOULD_BE.get(x.would_be, x.would_be)
            parts.append(
                f"{x.python} {x.strategy} x{x.workers}, left out above, would have been {named}"
            )
        else:
            parts.append(x.text())
            said.add(_said(x))
    return f"free-threaded {e.python}: " + ", ".join(parts)
