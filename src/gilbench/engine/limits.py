"""Physical limits a measured row cannot pass: when it does, the measurement is wrong, not fast.

Pure functions over :class:`~gilbench.engine.results.Row` values, shared by the session's
warnings (``engine/rows.py``) and the recommendation (``analysis/recommend.py``), which must not
pick a flagged row.

The limits, for a row against its sequential baseline of the same workload and interpreter:

- **workers**: ``w`` workers run at most ``w`` tasks at once (hybrid: ``2 w``, an I/O thread and
  a process each), so no strategy's speedup exceeds that; threads on CPU-bound work with a GIL
  are bounded by it too (and by 1 in practice).
- **cores**: ``cores`` usable cores deliver at most ``cores`` CPU-seconds per second, and the
  tasks need ``s`` CPU-seconds per second of sequential wall time (``s``: sequential's CPU/wall,
  capped at 1), so no strategy's speedup exceeds ``cores / s``. For CPU-bound work (``s`` near
  1) that is the usable cores, whatever the strategy (core-bound ones included); work that waits
  (small ``s``) is not limited by the cores, so processes overlapping sleeps are not flagged.
- **CPU/wall**: a row's CPU/wall cannot exceed the usable cores.
- **interval**: a speedup whose bootstrap 95% interval is wider than the speedup itself
  (``high - low > speedup``) says nothing reliable about it.

Tolerance, one rule for every limit: a figure is flagged when its point estimate exceeds the
limit by more than 10% (``TOLERANCE``), so noise around a speedup at the limit (1.9x-2.1x on 2
cores) is not flagged, while 2.26x or 3.31x on 2 cores is.
"""

from __future__ import annotations

from dataclasses import dataclass

from gilbench import strategies as strategy_registry
from gilbench.engine.results import Row

TOLERANCE = 1.10
# Tasks one worker of a strategy can have in flight; every strategy not named runs one.
TASKS_PER_WORKER = {"hybrid": 2}  # one in its I/O thread, one in its process

# The likely causes, said after an impossible speedup.
IMPOSSIBLE_CAUSE = (
    "the sequential baseline was probably not in its steady state (warm-up) or the "
    "machine's load changed between them"
)


@dataclass(frozen=True)
class Flag:
    """Why a row's figures cannot be trusted."""

    # impossible-speedup (above the workers' or the cores' limit) | impossible-cpu (CPU/wall
    # above the usable cores) | wide-interval (95% interval wider than the speedup)
    code: str
    reason: str  # e.g. "above the physical limit of 2x on 2 usable cores"


def flags(row: Row, baseline: Row | None, cores: int | None) -> list[Flag]:
    """The reasons ``row`` is physically impossible or unreliable (empty: none), in the order
    speedup, CPU/wall, interval.

    ``baseline``: the sequential row of the same workload and interpreter (its CPU/wall sets the
    cores' limit; None: no cores' limit on the speedup); ``cores``: the usable cores
    (``environment["usable_cores"]``; None: no cores' limit and no CPU/wall check). The baseline
    row's own speedup (1.0 by definition) is not checked. See the module docstring for the
    limits and the 10% tolerance.
    """
    out: list[Flag] = []
    is_baseline = row.strategy == strategy_registry.BASELINE
    if row.speedup is not None and not is_baseline:
        limit, said = _speedup_limit(row, baseline, cores)
        if row.speedup > limit * TOLERANCE:
            out.append(Flag("impossible-speedup", f"above the physical limit of {said}"))
    if cores and row.cpu_util is not None and row.cpu_util > cores * TOLERANCE:
        out.append(
            Flag(
                "impossible-cpu",
                f"CPU/wall {row.cpu_util:.2f} above the {cores} usable core"
                f"{'s' if cores > 1 else ''}",
            )
        )
    if row.speedup is not None and row.speedup_ci95 and not is_baseline:
        low, high = row.speedup_ci95
        if high - low > row.speedup:
            out.append(
                Flag(
                    "wide-interval",
                    f"its 95% interval {low:.2f}-{high:.2f} is wider than the speedup itself",
                )
            )
    return out


def _speedup_limit(row: Row, baseline: Row | None, cores: int | None) -> tuple[float, str]:
    """The tightest of the workers' and the cores' limits on ``row``'s speedup, and how to say
    it ("2x for 2 workers", "2x on 2 usable cores")."""
    per = TASKS_PER_WORKER.get(row.strategy, 1)
    limit = float(row.workers * per)
    said = f"{limit:.3g}x for {row.workers} worker{'s' if row.workers > 1 else ''}"
    if per > 1:
        said += f" ({per} tasks in flight each)"
    busy = baseline.cpu_util if baseline is not None else None
    if cores and busy and busy > 0:
        busy = min(busy, 1.0)
        by_cores = cores / busy
        if by_cores < limit:
            limit = by_cores
            said = f"{limit:.3g}x on {cores} usable core{'s' if cores > 1 else ''}"
            if busy < 0.99:
                said += f" (sequential CPU/wall {busy:.2f})"
    return limit, said
