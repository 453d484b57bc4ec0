"""Classify each workload from its measurements and recommend a strategy.

The rule, stated once: take the fastest strategy only when its lead over every simpler one
is real, meaning at least ``MIN_GAIN`` (10%) and statistically significant (the bootstrap 95%
interval of the ratio of medians excludes 1). Otherwise prefer the simpler one; the order of
simplicity is ``strategies.NAMES``. Dispatch-dominated tasks fall out of the same rule: no
pool beats sequential, so sequential is recommended. A row past a physical limit, or whose
interval is wider than its speedup (``engine.limits.flags``), is measured wrong and never
chosen; the why names it.

A verdict is *decided* when every comparison it rests on is settled: the 95% interval of the
ratio lies wholly above or wholly below the 10% margin (:func:`settled`, the stopping rule of a
sequential test). Otherwise the recommendation says *inconclusive* (``decided`` false,
``inconclusive``: the best guess, what is open, what would decide it) and lists the open
comparisons in ``undecided``, which is what the session samples again while its budget lasts.

Classification reads the measurements, never the workload's name: the sequential run's CPU/wall
says whether a task computes or waits; among computing tasks, threads running faster than one
thread, or a GIL that stays free while a core is busy, means C code that releases the GIL; a GIL
held in long stretches (many switch intervals) means C code that holds it; otherwise it is
Python bytecode, which hands the GIL over every switch interval. All of that is about the GIL:
on a free-threaded build running without it (PEP 703), computing work is ``cpu-free-threaded``,
whatever its threads did, unless an import turned the GIL back on in its workers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from gilbench import strategies as strategy_registry
from gilbench.engine import limits, stats
from gilbench.engine.results import Row
from gilbench.strategies import BASELINE, NAMES

MIN_GAIN = 1.10
# Sequential CPU/wall below this: the task mostly waits. Between the two: it is mixed (a task
# computing a fifth of its time saturates a core at five in flight, so its CPU part matters).
IO_UTIL = 0.2
CPU_UTIL = 0.75
# Threads doing this much better than one thread means the GIL is released during the work.
RELEASES_GIL_SPEEDUP = 1.3
# A busy core with the GIL this free (gilknocker's metric) means the work runs without the GIL;
# this busy, that the work holds it (Python code reads ~0.8: a 5 ms wait per 1 ms knock). In
# between, part of the work releases it, and only threads' speedup can say how much matters.
FREE_GIL_CONTENTION = 0.3
BUSY_GIL_CONTENTION = 0.6
# Python code yields the GIL every switch interval (5 ms); stretches of 4 intervals and more
# are one C call holding it (see engine/contention.py for the measurements behind both).
HOLDS_GIL_MS = 20.0
# A sequential task shorter than this costs less than handing it to a pool.
DISPATCH_BOUND_S = 0.001

TASK_TYPES = {
    "cpu-python": "CPU-bound (Python code)",
    "cpu-native-holds-gil": "CPU-bound (C code holding the GIL)",
    "cpu-native-releases-gil": "CPU-bound (C code releasing the GIL)",
    "cpu-free-threaded": "CPU-bound, free-threaded build (no GIL)",
    "io": "I/O-bound",
    "mixed": "Mixed",
}
# What the GIL does with each type of task: the post's "Why", before this machine's numbers.
GIL_FACTS = {
    "cpu-python": "bytecode holds the GIL, so threads take turns",
    "cpu-native-holds-gil": "the C code keeps the GIL for whole calls, so threads take turns",
    "cpu-native-releases-gil": "the C code runs with the GIL released, so threads share the cores",
    "cpu-free-threaded": "no GIL: threads run Python bytecode and C code on all cores at once",
    "io": "the GIL is released while waiting, so the waits overlap",
    "mixed": "the GIL is released while it waits and held while it computes",
}


@dataclass
class Recommendation:
    """The verdict for one workload on one interpreter: a ``recommendations`` item of the
    results JSON (schema gilbench/1), field for field."""

    workload: str
    python: str  # the interpreter's label
    # a TASK_TYPES key (cpu-python, cpu-native-releases-gil, cpu-native-holds-gil,
    # cpu-free-threaded, io, mixed); None: no sequential CPU figure to classify by
    classification: str | None
    strategy: str  # the one to use: the simplest that no other beats by a significant 10%
    workers: int
    speedup: float | None  # its speedup over sequential (1.0 when sequential is chosen)
    why: str  # one sentence with the numbers behind it
    # Every comparison the verdict rests on is settled: its 95% interval lies wholly above or
    # wholly below the 10% margin (MIN_GAIN). False: ``strategy`` is a best guess.
    decided: bool = True
    # The comparisons still open, each {"strategy", "workers", "against_strategy",
    # "against_workers", "ratio" (how many times faster the first is), "ci95": [low, high]};
    # the session samples these rows again while its budget lasts (``open_comparisons``).
    undecided: list[dict] = field(default_factory=list)
    # When not decided: why, the best guess, and what would decide it (one sentence); else None.
    inconclusive: str | None = None

    def to_dict(self) -> dict:
        """The verdict as the results JSON's ``recommendations`` item: every field, and
        ``confidence`` ("decided" or "inconclusive"), the name DESIGN.md gives ``decided``."""
        return {**asdict(self), "confidence": "decided" if self.decided else "inconclusive"}


def lead(a: Row, b: Row) -> tuple[float, float, float] | None:
    """How many times faster ``a`` is than ``b``: median(b's samples) / median(a's), with the
    bootstrap 95% interval (Efron, ``stats.ratio_ci95``), as (ratio, low, high). None when
    either has no samples."""
    if not (a.samples_s and b.samples_s):
        return None
    low, high = stats.ratio_ci95(b.samples_s, a.samples_s)
    return stats.ratio_of_medians(b.samples_s, a.samples_s), low, high


def is_real(ratio: float, low: float) -> bool:
    """The project's rule for a lead (a :func:`lead`'s ratio and low end): at least 10%
    (MIN_GAIN) and significant (the 95% interval's low end above 1)."""
    return ratio >= MIN_GAIN and low > 1.0


def faster(a: Row, b: Row) -> bool:
    """Is ``a`` really faster than ``b`` (:func:`lead` passes :func:`is_real`)? False when
    either has no samples."""
    found = lead(a, b)
    return found is not None and is_real(found[0], found[1])


def settled(low: float, high: float) -> bool:
    """Is a lead's 95% interval (``low``, ``high``) wholly on one side of the 10% margin
    (MIN_GAIN): more samples would not change whether it counts? The stopping rule of
    sequential testing (Wald, 1945), with the bootstrap interval as the test."""
    return low >= MIN_GAIN or high < MIN_GAIN


# With fewer samples than this on either side a bootstrap interval is degenerate (one sample: a
# point; two: the range of the ratios), so it settles a comparison only when it lies clear of
# the margin by at least its own width again (two samples a side), and never from one sample.
MIN_DECIDING_SAMPLES = 3


def settles(a: Row, b: Row, found: tuple[float, float, float]) -> bool:
    """Does the :func:`lead` ``found`` of ``a`` over ``b`` settle their comparison? With
    MIN_DECIDING_SAMPLES samples a side or more, when its interval is :func:`settled`; with two,
    only when the interval widened by its own width on each side still is; with one, never."""
    return settled_from(min(len(a.samples_s), len(b.samples_s)), found[1], found[2])


def settled_from(n: int, low: float, high: float) -> bool:
    """:func:`settles` on bare numbers: does a ratio's 95% interval (``low``, ``high``) from
    ``n`` samples on its smaller side settle the comparison? With n >= MIN_DECIDING_SAMPLES,
    when :func:`settled`; with n == 2, only when the interval widened by its own width on each
    side still is; with fewer, never. The web lab's CPU cells use it on their runs' RPS."""
    if n >= MIN_DECIDING_SAMPLES:
        return settled(low, high)
    width = high - low
    return n == 2 and settled(low - width, high + width)


def open_comparisons(seq: Row, ok: Sequence[Row], chosen: Row) -> list[dict]:
    """The comparisons a verdict (``chosen`` among the reliable rows ``ok``, against the
    sequential row ``seq``) still depends on, as ``Recommendation.undecided`` items.

    Open: a row whose lead over sequential is not settled (:func:`settles`: enough samples and
    an interval clear of the margin), unless ``chosen`` leads it by a settled 10% (it cannot
    change the verdict); and, when ``chosen`` is not sequential, a row of another strategy that
    may beat sequential and whose lead over ``chosen`` is not settled (the chosen strategy at
    another worker count is not: the rule keeps the fewer workers unless more are a real 10%
    faster, and either way the strategy to use stands)."""
    out = []

    def add(a: Row, b: Row, found: tuple[float, float, float]) -> None:
        out.append(comparison(a, b, found))

    for r in ok:
        found = lead(r, seq)
        if found is None or settles(r, seq, found):
            continue
        if chosen is not seq and r is not chosen:
            ahead = lead(chosen, r)
            if ahead is not None and settles(chosen, r, ahead) and ahead[1] >= MIN_GAIN:
                continue
        add(r, seq, found)
    if chosen is not seq:
        for r in ok:
            vs_seq = lead(r, seq)
            if r is chosen or vs_seq is None or (settles(r, seq, vs_seq) and vs_seq[2] < MIN_GAIN):
                continue
            if r.strategy == chosen.strategy:
                # More workers of the chosen strategy: the rule keeps the fewer unless more are
                # a real 10% faster; an open question there does not change what to use.
                continue
            found = lead(r, chosen)
            if found is not None and not settles(r, chosen, found):
                add(r, chosen, found)
    return out


def comparison(a: Row, b: Row, found: tuple[float, float, float], **more: bool) -> dict:
    """A ``Recommendation.undecided`` item: ``a`` against ``b``, their :func:`lead` ``found``
    (ratio and 95% interval, 3 decimals), the fewer samples of the two, and ``more`` (e.g.
    ``flagged=True``)."""
    ratio, low, high = found
    return {
        "strategy": a.strategy,
        "workers": a.workers,
        "against_strategy": b.strategy,
        "against_workers": b.workers,
        "ratio": round(ratio, 3),
        "ci95": [round(low, 3), round(high, 3)],
        "samples": min(len(a.samples_s), len(b.samples_s)),
        **more,
    }


def best_guess(seq: Row, ok: Sequence[Row]) -> Row:
    """The verdict's best guess when it is not decided: the simplest of ``ok`` (reliable rows,
    simplest first) whose median speedup is within 10% of the best one's, if that best is at
    least 10% ahead of sequential; else ``seq``."""
    speedups = [r.speedup for r in ok if r.speedup is not None]
    if not speedups or max(speedups) < MIN_GAIN:
        return seq
    top = max(speedups)
    return next(r for r in ok if r.speedup is not None and r.speedup * MIN_GAIN >= top)


def gil_off(interpreter: Mapping | None) -> bool:
    """Does the ``interpreters`` entry run without the GIL: a free-threaded build
    (``free_threaded_build``) started with it off (``gil_enabled`` false)? False for None."""
    return bool(
        interpreter
        and interpreter.get("free_threaded_build")
        and interpreter.get("gil_enabled") is False
    )


def gil_reenabled_by(rows: Iterable[Row]) -> list[str]:
    """The modules whose import turned the GIL back on in any of ``rows``' workers (the rows'
    ``gil_reenabled_by``, read defensively: older rows lack it), in order, without repeats."""
    return list(
        dict.fromkeys(m for r in rows for m in (getattr(r, "gil_reenabled_by", None) or ()))
    )


def classify(
    rows: list[Row], interpreter: Mapping | None = None, cores: int | None = None
) -> str | None:
    """The task type of one (workload, python)'s rows, a TASK_TYPES key: io or mixed by the
    sequential run's busy share (CPU/wall); for CPU-bound work, cpu-free-threaded on an
    ``interpreter`` (its ``interpreters`` entry) running without the GIL (:func:`gil_off`) when
    no row's import turned it back on; otherwise the GIL's contention and hold time
    (gilknocker), then threads' speedup (rows past a physical limit on ``cores``,
    ``limits.flags``, left out). None without a measured sequential CPU."""
    seq = ok_row(rows, BASELINE)
    if seq is None or seq.cpu_util is None:
        return None
    busy = busy_share(seq)
    if busy < IO_UTIL:
        return "io"
    if busy < CPU_UTIL:
        return "mixed"
    if gil_off(interpreter) and not gil_reenabled_by(rows):
        return "cpu-free-threaded"  # threads' speedup says nothing about C code here
    # The GIL's own state, seen from inside the sequential run, comes first: unlike a speedup it
    # does not depend on how two runs fared on a machine whose load changes between them.
    c = seq.gil_contention
    if c is not None and c < FREE_GIL_CONTENTION:
        return "cpu-native-releases-gil"
    if c is not None and c >= BUSY_GIL_CONTENTION:
        held_long = seq.gil_hold_ms is not None and seq.gil_hold_ms >= HOLDS_GIL_MS
        return "cpu-native-holds-gil" if held_long else "cpu-python"
    threads = [
        r
        for r in rows
        if r.strategy == "threads"
        and r.status == "ok"
        and r.workers >= 2
        and r.speedup
        and not limits.flags(r, seq, cores)
    ]
    if threads:
        best = max(threads, key=lambda r: r.speedup)
        if best.speedup >= RELEASES_GIL_SPEEDUP or (best.cpu_util or 0) >= RELEASES_GIL_SPEEDUP:
            return "cpu-native-releases-gil"
    return "cpu-python"


def busy_share(seq: Row) -> float:
    """CPU/wall of the sequential run, not counting time it sat ready while other processes had
    the cores: a loaded machine must not make CPU-bound work look like waiting."""
    wall = seq.wall_s["median"] if seq.wall_s else 0.0
    runnable = wall - (seq.run_queue_s or 0.0)
    if seq.cpu_s is None or runnable <= 0:
        return seq.cpu_util or 0.0
    return seq.cpu_s / runnable


def recommend(
    rows: list[Row], cores: int | None = None, interpreter: Mapping | None = None
) -> Recommendation | None:
    """The verdict for the rows of one (workload, python); None without a measured sequential
    row. ``cores``: the usable cores, said next to a core-bound strategy's speedup and used for
    the physical limits; ``interpreter``: the rows' ``interpreters`` entry (see
    :func:`classify`). Rows that ``limits.flags`` flags are left out of the choice and named
    in the why."""
    seq = ok_row(rows, BASELINE)
    if seq is None:
        return None
    measured = [r for r in rows if r.status == "ok" and r.samples_s and r is not seq]
    ok, flagged = split_flagged(measured, seq, cores)
    # Simplest first: by strategy order, then fewer workers.
    ok.sort(key=lambda r: (strategy_registry.sort_key(r.strategy), r.workers))
    winners = [r for r in ok if faster(r, seq)]
    chosen = seq
    for candidate in winners:
        if not any(faster(other, candidate) for other in winners):
            chosen = candidate
            break
    else:
        if winners:  # every winner is beaten by another: take the fastest
            chosen = max(winners, key=lambda r: r.speedup or 0)
    classification = classify(rows, interpreter, cores)
    undecided = open_comparisons(seq, ok, chosen)
    # A flagged row that seemed to lead sequential by 10% leaves the verdict open too: more
    # samples (of it and of sequential) may bring it back within the limits.
    for r, _ in flagged:
        if (r.speedup or 0) >= MIN_GAIN and (found := lead(r, seq)):
            undecided.append(comparison(r, seq, found, flagged=True))
    inconclusive = None
    if undecided:
        chosen = best_guess(seq, ok)
        inconclusive = _inconclusive(chosen, seq, undecided)
    return Recommendation(
        workload=seq.workload,
        python=seq.python,
        classification=classification,
        strategy=chosen.strategy,
        workers=chosen.workers,
        speedup=1.0 if chosen is seq else chosen.speedup,
        why=_why(chosen, seq, ok, cores, flagged, inconclusive),
        decided=not undecided,
        undecided=undecided,
        inconclusive=inconclusive,
    )


def split_flagged(
    rows: Iterable[Row], seq: Row | None, cores: int | None
) -> tuple[list[Row], list[tuple[Row, list[limits.Flag]]]]:
    """``rows`` of one workload and interpreter split into the reliable ones and the flagged
    ones, each with its ``limits.flags`` (against ``seq``, their sequential row, or None; on
    ``cores`` usable cores, or None), both in the order given. ``seq`` itself is reliable: the
    others are measured against it. The one rule for leaving rows out of a verdict, shared by
    :func:`recommend` and ``analysis.interpreters``."""
    ok: list[Row] = []
    flagged: list[tuple[Row, list[limits.Flag]]] = []
    for r in rows:
        reasons = [] if r is seq else limits.flags(r, seq, cores)
        if reasons:
            flagged.append((r, reasons))
        else:
            ok.append(r)
    return ok, flagged


def _inconclusive(guess: Row, seq: Row, undecided: list[dict]) -> str:
    """The ``inconclusive`` sentence: the best guess, the comparisons still open, and what
    would decide them."""
    said = "sequential" if guess is seq else f"{guess.strategy} x{guess.workers}"
    if guess is not seq and guess.speedup is not None:
        lo, hi = guess.speedup_ci95 or (guess.speedup, guess.speedup)
        said += f" {guess.speedup:.2f}x (95% CI {lo:.2f}-{hi:.2f})"
    # the most samples any open comparison has had: what it took to leave it open
    n = max((c.get("samples", len(seq.samples_s)) for c in undecided), default=0)
    items = []
    for c in undecided[:3]:
        lo, hi = c["ci95"]
        against = c["against_strategy"] + (
            f" x{c['against_workers']}" if c["against_strategy"] != BASELINE else ""
        )
        text = (
            f"{c['strategy']} x{c['workers']} vs {against} {c['ratio']:.2f}x "
            f"(95% CI {lo:.2f}-{hi:.2f})"
        )
        if c.get("flagged"):
            text += ": past a physical limit"
        elif settled(lo, hi):
            text += f": {c.get('samples', n)} sample(s), too few to settle it"
        else:
            text += ": holds the 10% margin"
        items.append(text)
    more = f" and {len(undecided) - 3} more" if len(undecided) > 3 else ""
    return (
        f"inconclusive after {n} sample{'s' if n != 1 else ''}: best guess {said}; not settled: "
        f"{'; '.join(items)}{more}; more samples (--samples {max(2 * n, 10)}), a quieter "
        "machine or longer tasks (--tasks) would decide it"
    )


def recommend_all(
    rows: Iterable[Row], cores: int | None = None, interpreters: Iterable[Mapping] = ()
) -> list[Recommendation]:
    """One verdict per (workload, python) among ``rows`` that has a measured sequential row;
    ``interpreters``: the document's entries, matched to rows by ``label``."""
    by_label = {i.get("label"): i for i in interpreters}
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r.workload, r.python)].append(r)
    return [
        rec
        for (_, python), group in groups.items()
        if (rec := recommend(group, cores, by_label.get(python)))
    ]


def task_table(recommendations: list[dict]) -> list[dict]:
    """The post's table, "Task type | Best tool | Why", filled from this machine's verdicts
    (``recommendations`` as the results JSON has them: dicts, see ``Recommendation``). With
    several interpreters, each measurement names its own."""
    several = len({rec["python"] for rec in recommendations}) > 1
    by_type: dict[str, list[dict]] = defaultdict(list)
    for rec in recommendations:
        if rec["classification"]:
            by_type[rec["classification"]].append(rec)
    table = []
    for classification, label in TASK_TYPES.items():
        recs = by_type.get(classification)
        if not recs:
            continue
        tools = _most_chosen(recs)
        measured = "; ".join(
            f"{r['workload']}{' on ' + r['python'] if several else ''} {r['strategy']}"
            + (f" x{r['workers']}" if r["workers"] > 1 else "")
            + f" {r['speedup']:.2f}x"
            for r in recs
        )
        why = f"{GIL_FACTS[classification]} (measured: {measured})"
        table.append(
            {
                "task_type": label,
                "classification": classification,
                "best_tool": tools,
                "why": why,
                "workloads": [r["workload"] for r in recs],
            }
        )
    return table


def _most_chosen(recs: list[dict]) -> str:
    """The strategy chosen for most workloads of a type (ties: the larger mean speedup), and how
    many of them chose it when they did not all agree."""
    votes: dict[str, list[float]] = defaultdict(list)
    for r in recs:
        votes[r["strategy"]].append(r["speedup"] or 1.0)
    best = max(
        votes,
        key=lambda s: (
            len(votes[s]),
            sum(votes[s]) / len(votes[s]),
            -NAMES.index(s) if s in NAMES else -99,
        ),
    )
    return best if len(votes) == 1 else f"{best} ({len(votes[best])} of {len(recs)})"


def _why(
    chosen: Row,
    seq: Row,
    others: list[Row],
    cores: int | None,
    flagged: Sequence[tuple[Row, list[limits.Flag]]] = (),
    inconclusive: str | None = None,
) -> str:
    """One sentence with the numbers: the verdict first, then each other strategy's speedup,
    then the ``flagged`` rows left out and why.

    Other strategies are shown at the chosen worker count (like for like), or at their best
    when sequential is chosen; GIL contention is shown where it was measured. An
    ``inconclusive`` verdict (a flagged row that seemed to lead sequential by 10% makes one)
    starts with that sentence instead of a verdict.
    """
    shown: dict[str, Row] = {}
    for r in others:
        if r.speedup is None or r.strategy == chosen.strategy:
            continue
        current = shown.get(r.strategy)
        if chosen is not seq:
            if current is None or abs(r.workers - chosen.workers) < abs(
                current.workers - chosen.workers
            ):
                shown[r.strategy] = r
        elif current is None or r.speedup > current.speedup:
            shown[r.strategy] = r
    if inconclusive:
        head = inconclusive
    elif chosen is seq:
        head = "nothing beats sequential by a significant 10%"
        per_task = seq.wall_s["median"] / seq.tasks if seq.wall_s else None
        if per_task is not None and per_task < DISPATCH_BOUND_S:
            head += f" (a task takes {duration(per_task)}, less than handing it to a pool costs)"
    else:
        lo, hi = chosen.speedup_ci95 or (chosen.speedup, chosen.speedup)
        gil = (
            f", GIL contention {chosen.gil_contention:.2f}"
            if chosen.gil_contention is not None
            else ""
        )
        head = (
            f"{chosen.strategy} x{chosen.workers} {chosen.speedup:.2f}x "
            f"(95% CI {lo:.2f}-{hi:.2f}{gil})"
        )
        if chosen.strategy in strategy_registry.core_bound() and cores:  # capped by the cores
            head += f" on {cores} core{'s' if cores > 1 else ''}"
        if any(r.speedup > chosen.speedup for r in others if r.speedup is not None):
            head += ", and no faster strategy leads it by a significant 10%"
    evidence = [_evidence(r, with_workers=chosen is seq) for r in shown.values()]
    out = head + ("; " + ", ".join(evidence) if evidence else "")
    for r, reasons in flagged:
        said = f"{r.strategy} x{r.workers}" + (f" {r.speedup:.2f}x" if r.speedup else "")
        out += f"; {said} left out: {' and '.join(f.reason for f in reasons)}"
    return out


def _evidence(r: Row, with_workers: bool) -> str:
    text = f"{r.strategy}{f' x{r.workers}' if with_workers else ''} {r.speedup:.2f}x"
    if r.gil_contention is not None and r.strategy != BASELINE:
        text += f" (GIL contention {r.gil_contention:.2f})"
    return text


def duration(seconds: float) -> str:
    """Seconds as a why sentence says them: '250 µs', '12.3 ms', '0.539 s', '1.42 s'."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 0.1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.3f} s" if seconds < 1 else f"{seconds:.2f} s"


def ok_row(rows: list[Row], strategy: str) -> Row | None:
    """The first of ``rows`` with ``strategy`` that ran ok and has samples, or None."""
    return next(
        (r for r in rows if r.strategy == strategy and r.status == "ok" and r.samples_s), None
    )
