"""From trial outcomes to result rows: folding, checks against sequential, speedups, warnings.

Pure functions over :class:`~gilbench.engine.results.Row` values: no process, no file, no
clock, so the session's arithmetic is testable on made-up outcomes. Functions that update a
row say so; none touches anything else.
"""

from __future__ import annotations

from collections.abc import Sequence

from gilbench import strategies as strategy_registry
from gilbench.engine import limits, stats
from gilbench.engine.freethreading import join_notes
from gilbench.engine.protocol import Sample
from gilbench.engine.results import Row, Warning_
from gilbench.engine.runner import TrialOutcome

# Families whose tasks need a core each: more core-bound workers than cores is warned about.
CPU_FAMILIES = ("cpu", "native", "mixed")


def fold(row: Row, out: TrialOutcome, samples: list[Sample]) -> bool:
    """Fold one trial's outcome into ``row`` (updated in place).

    ``samples`` holds the row's samples from earlier trials; ``out.samples`` is appended to it
    and the row's statistics are recomputed from all of them. Returns True when the trial
    failed: an error, a timeout, or task results that changed between two trials (the row
    then becomes an ``error``).
    """
    row.status, row.error, row.reason, row.note = out.status, out.error, out.reason, out.note
    if out.gil_reenabled_by:  # every trial imports the same modules; keep all that were named
        row.gil_reenabled_by = list(
            dict.fromkeys([*(row.gil_reenabled_by or ()), *out.gil_reenabled_by])
        )
    row.leaked_processes += out.leaked_processes
    if out.warmups is not None:
        row.warmups = max(row.warmups or 0, out.warmups)
    if out.steady is not None:
        row.steady = out.steady if row.steady is None else (row.steady and out.steady)
    if row.leaked_processes:
        row.note = join_notes(
            row.note,
            f"the code under test left {row.leaked_processes} process(es) running after its "
            "trials; gilbench ended them",
        )
    failed = out.status in ("error", "timeout")
    if out.startup_s is not None:
        row.startup_s = (
            out.startup_s if row.startup_s is None else min(row.startup_s, out.startup_s)
        )
    if out.checksum is not None:
        if row.checksum is not None and row.checksum != out.checksum:
            row.status, failed = "error", True
            row.error = (
                f"task results changed between runs (checksum {row.checksum} then {out.checksum})"
            )
        row.checksum = row.checksum or out.checksum
    samples.extend(out.samples)
    if samples:
        summarize(row, samples)
    if row.status == "ok" and row.gil_contention is None and out.gil_contention_reason:
        row.reason = f"GIL contention n/a: {out.gil_contention_reason}"
    return failed


def summarize(row: Row, samples: Sequence[Sample]) -> None:
    """Set ``row``'s timing, CPU, memory and GIL figures from its samples (at least one)."""
    walls = [s.wall_s for s in samples]
    row.loops = max(s.loops for s in samples)
    row.samples_s = walls
    row.wall_s = stats.summarize(walls)
    row.cpu_s = stats.summarize([s.cpu_s for s in samples])["median"]
    row.cpu_util = row.cpu_s / row.wall_s["median"] if row.wall_s["median"] > 0 else None
    row.max_rss_mb = round(max(s.rss_mb for s in samples), 1)
    row.gil_contention = median_of([s.gil_contention for s in samples])
    row.gil_hold_ms = median_of([s.gil_hold_ms for s in samples])
    row.run_queue_s = median_of([s.run_queue_s for s in samples])


def median_of(values: Sequence[float | None]) -> float | None:
    """The median of the values that are not None; None when there are none."""
    present = [v for v in values if v is not None]
    return stats.summarize(present)["median"] if present else None


def compare_with_baseline(rows: Sequence[Row]) -> list[Warning_]:
    """Check each row's task results against sequential's and derive its speedup (rows of one
    workload and interpreter, updated in place).

    A row whose checksum differs from sequential's becomes an ``error`` and gets a
    ``results-differ`` warning (returned: the caller marks the run failed when any is).
    Speedup (sequential's median wall / the row's), its bootstrap 95% interval and the
    efficiency (speedup / workers) are set for every row with samples, failed ones included.
    """
    base = next((r for r in rows if r.strategy == strategy_registry.BASELINE), None)
    if base is None:
        return []
    warnings: list[Warning_] = []
    for row in rows:
        if row is not base and row.status == "ok" and base.checksum and row.checksum:
            if base.checksum != row.checksum:
                row.status = "error"
                row.error = (
                    f"task results differ from sequential's "
                    f"(checksum {row.checksum} != {base.checksum})"
                )
                warnings.append(Warning_("results-differ", row.error, *_where(row)))
        if base.samples_s and row.samples_s and row.status in ("ok", "timeout", "error"):
            row.speedup = stats.ratio_of_medians(base.samples_s, row.samples_s)
            row.speedup_ci95 = list(stats.ratio_ci95(base.samples_s, row.samples_s))
            row.efficiency = row.speedup / row.workers
    return warnings


def row_warnings(row: Row, family: str, cores: int, baseline: Row | None = None) -> list[Warning_]:
    """Caveats about a final row: a wide spread, a sequential run that waited for a core
    (other load), core-bound workers beyond the ``cores`` usable ones on CPU-bound work, and
    figures past a physical limit (``limits.flags`` against ``baseline``, the sequential row of
    the same workload and interpreter): ``impossible-speedup``, ``impossible-cpu``,
    ``wide-interval``. Such a row is measured wrong, and the recommendation leaves it out."""
    where = _where(row)
    out = []
    label = f"{row.workload} / {row.strategy} x{row.workers}"
    for flag in limits.flags(row, baseline, cores):
        if flag.code == "impossible-speedup":
            text = f"{label} {row.speedup:.2f}x: {flag.reason}; {limits.IMPOSSIBLE_CAUSE}"
        elif flag.code == "impossible-cpu":
            text = f"{label}: {flag.reason}; the CPU accounting or the core count is wrong"
        else:
            text = f"{label} {row.speedup:.2f}x: {flag.reason}; too few samples or a busy machine"
        out.append(Warning_(flag.code, text, *where))
    if row.wall_s and (wide := stats.is_wide(row.wall_s)):
        out.append(
            Warning_(
                "wide-spread",
                f"{row.workload} / {row.strategy} x{row.workers}: {wide}; the machine may be busy",
                *where,
            )
        )
    median = row.wall_s["median"] if row.wall_s else None
    if (
        row.strategy == strategy_registry.BASELINE
        and row.run_queue_s
        and median
        and row.run_queue_s >= 0.1 * median
    ):
        # One thread waiting for a core: only other work on the machine can cause that.
        out.append(
            Warning_(
                "cpu-stolen",
                f"{row.workload} / sequential waited for a core "
                f"{row.run_queue_s / median:.0%} of its time: other processes "
                "compete for the CPU",
                *where,
            )
        )
    if (
        row.strategy in strategy_registry.core_bound()
        and row.workers > cores
        and row.status != "skipped"
        and family in CPU_FAMILIES
    ):
        out.append(
            Warning_(
                "workers-exceed-cores",
                f"{row.strategy} with {row.workers} workers "
                f"on {cores} usable cores: CPU-bound work cannot run faster than "
                f"{cores}x",
                *where,
            )
        )
    return out


def machine_warning(environment: dict) -> Warning_ | None:
    """``loaded-machine`` when the 1-minute load average before the run exceeds half the
    usable cores (``environment`` as ``environment.capture()`` returns it)."""
    load, cores = environment["load_avg_1m"], environment["usable_cores"]
    if load is None or load <= 0.5 * cores:
        return None
    return Warning_(
        "loaded-machine",
        f"load average {load:.2f} on {cores} usable cores before "
        "the run: other work competes for the CPU and the numbers will be noisy",
    )


def _where(row: Row) -> tuple[str, str, int, str]:
    return (row.workload, row.strategy, row.workers, row.python)
