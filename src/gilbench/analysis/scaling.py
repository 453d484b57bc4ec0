"""Scaling: speedup by worker count, the serial fraction, and an extrapolation to more cores.

Karp-Flatt metric (Karp & Flatt, 1990), the serial fraction measured at ``p`` workers:

    e(p) = (1/S - 1/p) / (1 - 1/p)                        (p > 1)

Amdahl's law (1967), ``S(p) = 1 / (f + (1 - f) / p)``, rewritten as ``1/S - 1/p = f (1 - 1/p)``
is linear in ``f`` through the origin, so its least-squares fit over the measured points is

    f = sum(x * y) / sum(x * x)    with x = 1 - 1/p, y = 1/S - 1/p

A point at one worker (x = 0) carries no information about ``f`` and drops out by itself.
Every function here is pure: rows in, numbers out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
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
    # workers ("8", "16", "64") -> predicted speedup; None: not extrapolated (see assumption)
    predicted: dict[str, float] | None
    assumption: str  # what the prediction rests on, or why there is none

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


def amdahl_speedup(serial_fraction: float, workers: int) -> float:
    """Amdahl's law: the speedup ``1 / (f + (1 - f) / p)`` at ``workers`` = p, f in 0..1."""
    return 1 / (serial_fraction + (1 - serial_fraction) / workers)


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
    fractions, Amdahl fit and predictions at 8, 16, 64 workers; ``core_bound``: fit only the
    worker counts within ``cores``."""
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
    return ScalingEntry(
        workload=workload,
        python=python,
        strategy=strategy,
        points=points,
        fit_workers=fit_workers,
        serial_fraction=None if f is None else round(f, 3),
        predicted=None
        if f is None or slower
        else {str(n): round(amdahl_speedup(f, n), 2) for n in PREDICT_AT},
        assumption=assumption(f, fit_workers, cores, core_bound, slower),
    )


def assumption(
    f: float | None, fit_workers: list[int], cores: int, core_bound: bool, slower: bool = False
) -> str:
    """The sentence a ``ScalingEntry`` carries: what its Amdahl prediction assumes, or why
    there is none (``f`` None: nothing fitted; ``slower``: below NO_GAIN everywhere)."""
    if slower:
        return (
            f"no extrapolation: below {NO_GAIN}x at every worker count measured; the cost of "
            "handing out tasks (or a lock) dominates, which Amdahl's law does not model"
        )
    if f is None:
        within = f" within the {cores} usable cores" if core_bound else ""
        why = f"no measurement with 2 or more workers{within}"
        return f"no extrapolation: {why}"
    where = ", ".join(map(str, fit_workers))
    limit = (
        f", the workers that fit in the {cores} usable cores (the work is CPU-bound)"
        if core_bound
        else ""
    )
    return (
        f"extrapolation, not a measurement: Amdahl's law fitted at {where} workers{limit}; "
        f"it assumes the serial fraction stays {f:.2f} at any scale, each worker gets a free "
        "core (for CPU-bound work) and as many tasks as workers, and that nothing else (memory "
        "bandwidth, I/O, the network, a server) becomes the limit"
    )
