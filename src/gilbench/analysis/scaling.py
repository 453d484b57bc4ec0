"""Scaling: speedup by worker count, the serial fraction, and an extrapolation to more cores.

Karp-Flatt metric (Karp & Flatt, 1990), the serial fraction measured at ``p`` workers:

    e(p) = (1/S - 1/p) / (1 - 1/p)                        (p > 1)

Amdahl's law (1967), ``S(p) = 1 / (f + (1 - f) / p)``, rewritten as ``1/S - 1/p = f (1 - 1/p)``
is linear in ``f`` through the origin, so its least-squares fit over the measured points is

    f = sum(x * y) / sum(x * x)    with x = 1 - 1/p, y = 1/S - 1/p

A point at one worker (x = 0) carries no information about ``f`` and drops out by itself.

The interval of a prediction. Every fitted point has a speedup ``S`` and its bootstrap 95%
interval ``[S_low, S_high]`` (a row's ``speedup_ci95``, widened to hold ``S`` should it miss
it, as a percentile bootstrap may; a row without one counts as ``S_low = S_high = S``). With
every x > 0 the fitted ``f`` is monotone decreasing in every point's ``S`` (``y = 1/S - 1/p``
falls as ``S`` rises; the denominator does not depend on ``S``), and clamping to 0..1 keeps it
so. So fitting at every point's high end gives the lowest serial fraction the intervals allow,
``f_low``, and at every low end the highest, ``f_high`` (a low end <= 0 leaves that end
unbounded: ``f_high = 1``). Amdahl's speedup falls as ``f`` rises, so the prediction at ``n``
workers lies in ``[amdahl(f_high, n), amdahl(f_low, n)]``.
This is coordinate-wise propagation of the points' intervals through a fit monotone in each of
them: the intervals are not joint, and taking every point at the same end is what the interval
would be if the points' errors moved together (they share the sequential baseline); for
independent errors it is wider than a joint 95% interval (conservative). It carries only the
measurement noise: whether Amdahl's law holds at all (overhead, memory bandwidth, a server)
is not in it; the ``assumption`` sentence says so.

A prediction is withheld (not in ``predicted``) when the points cannot support it: with fewer
than :data:`MIN_FIT_POINTS` fitted worker counts above 1 (one point fits Amdahl's single
parameter exactly and tests nothing; on a 2-core machine CPU-bound work is fitted at 2 workers
only, so it gets no extrapolation there, by design), or at the worker counts where the
interval spans more than a factor of :data:`MAX_SPREAD` (it widens with ``n``: from the first
such count on).

Every function here is pure: rows in, numbers out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from gilbench.analysis.recommend import busy_share
from gilbench.engine.results import Row
from gilbench.strategies import BASELINE

PREDICT_AT = (8, 16, 64)
# Slower than sequential at every fitted point: overhead dominates, which Amdahl's law (no
# overhead) cannot describe, so nothing is extrapolated.
NO_GAIN = 0.9
# Sequential CPU/wall at or above this: the work needs a core, so points with more workers than
# usable cores measure the machine, not the code, and are left out of the fit.
CORE_BOUND_UTIL = 0.35
# Fewer fitted worker counts above 1 than this: Amdahl's one parameter fits the point exactly
# and nothing tests it, so nothing is extrapolated.
MIN_FIT_POINTS = 2
# A prediction whose interval's high / low exceeds this says little more than "somewhere between
# a speedup and its double" and is withheld.
MAX_SPREAD = 2.0


@dataclass
class ScalingEntry:
    """How one strategy scales with workers for one (workload, python): a ``scaling`` item of
    the results JSON, field for field."""

    workload: str
    python: str  # the interpreter's label
    strategy: str
    # one per measured worker count, fewest first: {"workers", "speedup" (vs sequential),
    # "efficiency" (speedup / workers), "karp_flatt" (serial fraction there; None at 1 worker)}
    points: list[dict]
    fit_workers: list[int]  # the worker counts (> 1) Amdahl's law was fitted at
    serial_fraction: float | None  # Amdahl's f, 0..1, least squares; None: nothing to fit
    # workers ("8", "16", "64", as strings) -> predicted speedup (vs sequential, 2 decimals),
    # only at the worker counts not withheld; None: not extrapolated at all (see assumption)
    predicted: dict[str, float] | None
    # the same keys as ``predicted`` -> [low, high] speedup, 2 decimals: the fit through the
    # ends of the points' 95% intervals (see the module doc); None: nothing predicted. Added
    # after ``predicted``: older documents have no such key.
    predicted_ci95: dict[str, list[float]] | None
    assumption: str  # what the prediction rests on, or why there is none (or some withheld)

    def to_dict(self) -> dict:
        """The entry as the results JSON's ``scaling`` item: every field."""
        return asdict(self)


def karp_flatt(speedup: float, workers: int) -> float | None:
    """The experimentally determined serial fraction at ``workers`` (Karp-Flatt metric, Karp &
    Flatt 1990), a fraction (0..1 when the speedup is between 1 and ``workers``); None at one
    worker or a speedup <= 0."""
    if workers <= 1 or speedup <= 0:
        return None
    return (1 / speedup - 1 / workers) / (1 - 1 / workers)


def amdahl_fit(points: Iterable[tuple[int, float]]) -> float | None:
    """Amdahl's serial fraction ``f``, least squares through the origin (see above), clamped to
    0..1, from (workers, speedup) points; points at <= 1 worker or speedup <= 0 are ignored.
    None when no point is left."""
    sxy = sxx = 0.0
    for p, s in points:
        if p <= 1 or s <= 0:
            continue
        x, y = 1 - 1 / p, 1 / s - 1 / p
        sxy += x * y
        sxx += x * x
    if sxx == 0:
        return None
    return min(1.0, max(0.0, sxy / sxx))


def amdahl_fit_interval(
    points: Iterable[tuple[int, float, float]],
) -> tuple[float, float] | None:
    """The serial fractions ``(f_low, f_high)`` the points' intervals allow, from
    (workers, speedup low, speedup high) points: :func:`amdahl_fit` at every high end gives
    ``f_low``, at every low end ``f_high`` (the fit is monotone decreasing in each speedup; see
    the module doc), each clamped to 0..1; a low end <= 0 (at more than one worker) makes
    ``f_high`` 1. Points at <= 1 worker are ignored; None when no point is left."""
    kept = [(p, low, high) for p, low, high in points if p > 1]
    f_low = amdahl_fit((p, high) for p, _, high in kept)
    if f_low is None:
        return None
    if any(low <= 0 for _, low, _ in kept):
        return f_low, 1.0
    f_high = amdahl_fit((p, low) for p, low, _ in kept)
    return f_low, 1.0 if f_high is None else f_high


def amdahl_speedup(serial_fraction: float, workers: int) -> float:
    """Amdahl's law: the speedup ``1 / (f + (1 - f) / p)`` at ``workers`` = p, f in 0..1."""
    return 1 / (serial_fraction + (1 - serial_fraction) / workers)


def speedup_interval(speedup: float, ci95: object) -> tuple[float, float]:
    """A point's speedup interval ``(low, high)``: ``ci95`` (a row's ``speedup_ci95``,
    ``[low, high]``) widened to hold ``speedup`` (a percentile bootstrap need not), or
    ``(speedup, speedup)`` when there is none (older documents, or a row without one)."""
    if not isinstance(ci95, (list, tuple)) or len(ci95) != 2 or None in ci95:
        return speedup, speedup
    return min(ci95[0], speedup), max(ci95[1], speedup)


def scaling_all(rows: Iterable[Row], cores: int) -> list[ScalingEntry]:
    """One entry per (workload, python, strategy) with at least one measured speedup, from
    ``ok`` rows; points beyond ``cores`` are left out of the fit when sequential's busy share
    (CPU/wall) is at least CORE_BOUND_UTIL (0.35)."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r.workload, r.python)].append(r)
    out = []
    for (workload, python), group in groups.items():
        seq = next(
            (
                r
                for r in group
                if r.strategy == BASELINE and r.status == "ok" and r.cpu_util is not None
            ),
            None,
        )
        core_bound = seq is not None and busy_share(seq) >= CORE_BOUND_UTIL
        by_strategy: dict[str, list[Row]] = defaultdict(list)
        for r in group:
            if r.strategy != BASELINE and r.status == "ok" and r.speedup is not None:
                by_strategy[r.strategy].append(r)
        for strategy, measured in by_strategy.items():
            out.append(scaling_entry(workload, python, strategy, measured, cores, core_bound))
    return out


def scaling_entry(
    workload: str, python: str, strategy: str, rows: list[Row], cores: int, core_bound: bool
) -> ScalingEntry:
    """The scaling of ``rows`` (one strategy, each with a speedup): points, Karp-Flatt serial
    fractions, Amdahl fit, and predictions at 8, 16, 64 workers with their intervals (those
    the points support; see the module doc); ``core_bound``: fit only the worker counts within
    ``cores``."""
    rows = sorted(rows, key=lambda r: r.workers)
    points = [
        {
            "workers": r.workers,
            "speedup": round(r.speedup, 3),
            "efficiency": round(r.speedup / r.workers, 3),
            "karp_flatt": None if (e := karp_flatt(r.speedup, r.workers)) is None else round(e, 3),
        }
        for r in rows
    ]
    fitted = [r for r in rows if r.workers <= cores] if core_bound else rows
    f = amdahl_fit((r.workers, r.speedup) for r in fitted)
    slower = f is not None and max(r.speedup for r in fitted if r.workers > 1) < NO_GAIN
    fit_workers = [r.workers for r in fitted if r.workers > 1]
    predicted: dict[str, float] | None = None
    intervals: dict[str, list[float]] | None = None
    withheld: dict[int, tuple[float, float]] = {}
    bounds = amdahl_fit_interval(
        (r.workers, *speedup_interval(r.speedup, r.speedup_ci95)) for r in fitted
    )
    if f is not None and bounds and not slower and len(set(fit_workers)) >= MIN_FIT_POINTS:
        f_low, f_high = bounds
        predicted, intervals = {}, {}
        for n in PREDICT_AT:
            low, high = amdahl_speedup(f_high, n), amdahl_speedup(f_low, n)
            if high > MAX_SPREAD * low:
                withheld[n] = (low, high)
                continue
            predicted[str(n)] = round(amdahl_speedup(f, n), 2)
            intervals[str(n)] = [round(low, 2), round(high, 2)]
        predicted, intervals = predicted or None, intervals or None
    return ScalingEntry(
        workload=workload,
        python=python,
        strategy=strategy,
        points=points,
        fit_workers=fit_workers,
        serial_fraction=None if f is None else round(f, 3),
        predicted=predicted,
        predicted_ci95=intervals,
        assumption=assumption(f, fit_workers, cores, core_bound, slower, withheld),
    )


def assumption(
    f: float | None,
    fit_workers: list[int],
    cores: int,
    core_bound: bool,
    slower: bool = False,
    withheld: Mapping[int, tuple[float, float]] | None = None,
) -> str:
    """The sentence a ``ScalingEntry`` carries: what its Amdahl prediction assumes, or why
    there is none (``f`` None: nothing fitted; ``slower``: below NO_GAIN everywhere; a single
    worker count in ``fit_workers``: nothing tests the fit), and at which worker counts it is
    ``withheld`` (n -> the fit's (low, high) speedup there, wider than MAX_SPREAD)."""
    if slower:
        return (
            f"no extrapolation: below {NO_GAIN}x at every worker count measured; the cost of "
            "handing out tasks (or a lock) dominates, which Amdahl's law does not model"
        )
    within = f" within the {cores} usable cores" if core_bound else ""
    if f is None:
        return f"no extrapolation: no measurement with 2 or more workers{within}"
    if len(set(fit_workers)) < MIN_FIT_POINTS:
        p = fit_workers[0]
        limit = (
            f"; it is the only worker count above 1{within} (the work is CPU-bound), so "
            "extrapolating needs a machine with more cores"
            if core_bound
            else "; measure more worker counts to extrapolate"
        )
        return (
            f"no extrapolation from {p} workers alone: one point fits Amdahl's single parameter "
            f"exactly and tests nothing (its serial fraction {f:.2f} is Karp-Flatt's at {p} "
            f"workers){limit}"
        )
    where = ", ".join(map(str, fit_workers))
    limit = (
        f", the workers that fit in the {cores} usable cores (the work is CPU-bound)"
        if core_bound
        else ""
    )
    held_at = dict(withheld or {})
    spans = ", ".join(
        f"{_factor(low)} to {_factor(high)} at {n}" for n, (low, high) in sorted(held_at.items())
    )
    if held_at and len(held_at) == len(PREDICT_AT):
        return (
            f"no extrapolation: Amdahl's law fitted at {where} workers{limit} gives a serial "
            f"fraction of {f:.2f}, but the points' 95% intervals leave the prediction spanning "
            f"more than a factor of {MAX_SPREAD:g} already at {min(held_at)} workers "
            f"({spans}); measure more samples or more worker counts"
        )
    held = (
        f"; withheld at {_and(sorted(held_at))} workers: the fit's interval there spans "
        f"{spans}, more than a factor of {MAX_SPREAD:g}"
        if held_at
        else ""
    )
    return (
        f"extrapolation, not a measurement: Amdahl's law fitted at {where} workers{limit}; "
        f"it assumes the serial fraction stays {f:.2f} at any scale, each worker gets a free "
        "core (for CPU-bound work) and as many tasks as workers, and that nothing else (memory "
        f"bandwidth, I/O, the network, a server) becomes the limit{held}"
    )


def _factor(value: float) -> str:
    """A speedup in a sentence, three significant digits: 3.14 -> '3.14x', 64.0 -> '64x'."""
    return f"{value:.3g}x"


def _and(numbers: list[int]) -> str:
    """[8] -> '8', [16, 64] -> '16 and 64', [8, 16, 64] -> '8, 16 and 64'."""
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
