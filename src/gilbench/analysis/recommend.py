"""Classify each workload from its measurements and recommend a strategy.

The rule, stated once: take the fastest strategy only when its lead over every simpler one
is real, meaning at least ``MIN_GAIN`` (10%) and statistically significant (the bootstrap 95%
interval of the ratio of medians excludes 1). Otherwise prefer the simpler one; the order of
simplicity is ``strategies.NAMES``. Dispatch-dominated tasks fall out of the same rule: no
pool beats sequential, so sequential is recommended.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from gilbench.engine import stats
from gilbench.engine.results import Row
from gilbench.strategies import NAMES

MIN_GAIN = 1.10
# Sequential CPU/wall below this: the task mostly waits. Between the two: it is mixed.
IO_UTIL = 0.35
CPU_UTIL = 0.75
# Threads doing this much better than one thread means the GIL is released during the work.
RELEASES_GIL_SPEEDUP = 1.3

TASK_TYPES = {
    "cpu-python": "CPU-bound (Python code)",
    "cpu-native-holds-gil": "CPU-bound (C code holding the GIL)",
    "cpu-native-releases-gil": "CPU-bound (C code releasing the GIL)",
    "io": "I/O-bound",
    "mixed": "Mixed",
}


def faster(a: Row, b: Row) -> bool:
    """Is ``a`` really faster than ``b``: >= 10% on medians and significant?"""
    if not (a.samples_s and b.samples_s):
        return False
    ratio = stats.ratio_of_medians(b.samples_s, a.samples_s)
    low, _ = stats.ratio_ci95(b.samples_s, a.samples_s)
    return ratio >= MIN_GAIN and low > 1.0


def classify(rows: list[Row]) -> str | None:
    seq = _one(rows, "sequential")
    if seq is None or seq.cpu_util is None:
        return None
    if seq.cpu_util < IO_UTIL:
        return "io"
    if seq.cpu_util < CPU_UTIL:
        return "mixed"
    threads = [r for r in rows if r.strategy == "threads" and r.status == "ok" and r.workers >= 2 and r.speedup]
    if threads:
        best = max(threads, key=lambda r: r.speedup)
        if best.speedup >= RELEASES_GIL_SPEEDUP or (best.cpu_util or 0) >= RELEASES_GIL_SPEEDUP:
            return "cpu-native-releases-gil"
    return "cpu-python"


def recommend(rows: list[Row]) -> dict | None:
    seq = _one(rows, "sequential")
    if seq is None:
        return None
    ok = [r for r in rows if r.status == "ok" and r.samples_s and r is not seq]
    # Simplest first: by strategy order, then fewer workers.
    ok.sort(key=lambda r: (NAMES.index(r.strategy) if r.strategy in NAMES else len(NAMES), r.workers))
    winners = [r for r in ok if faster(r, seq)]
    chosen = seq
    for candidate in winners:
        if not any(faster(other, candidate) for other in winners):
            chosen = candidate
            break
    else:
        if winners:  # every winner is beaten by another: take the fastest
            chosen = max(winners, key=lambda r: r.speedup or 0)
    classification = classify(rows)
    return {
        "workload": seq.workload,
        "python": seq.python,
        "classification": classification,
        "strategy": chosen.strategy,
        "workers": chosen.workers,
        "speedup": 1.0 if chosen is seq else chosen.speedup,
        "why": _why(chosen, seq, ok, classification),
    }


def recommend_all(rows: Iterable[Row]) -> list[dict]:
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r.workload, r.python)].append(r)
    return [rec for group in groups.values() if (rec := recommend(group))]


def task_table(recommendations: list[dict]) -> list[dict]:
    """The post's table, "Task type | Best tool | Why", filled from this machine's verdicts."""
    by_type: dict[str, list[dict]] = defaultdict(list)
    for rec in recommendations:
        if rec["classification"]:
            by_type[rec["classification"]].append(rec)
    table = []
    for classification, label in TASK_TYPES.items():
        recs = by_type.get(classification)
        if not recs:
            continue
        tools = sorted({r["strategy"] for r in recs}, key=lambda s: NAMES.index(s) if s in NAMES else 99)
        why = "; ".join(f"{r['workload']}: {r['why']}" for r in recs)
        table.append({"task_type": label, "classification": classification, "best_tool": " / ".join(tools), "why": why, "workloads": [r["workload"] for r in recs]})
    return table


def _why(chosen: Row, seq: Row, others: list[Row], classification: str | None) -> str:
    best_per_strategy: dict[str, Row] = {}
    for r in others:
        if r.speedup is not None and (r.strategy not in best_per_strategy or r.speedup > best_per_strategy[r.strategy].speedup):
            best_per_strategy[r.strategy] = r
    evidence = ", ".join(f"{s} {r.speedup:.2f}x" + (f" (x{r.workers})" if r.workers > 1 else "") for s, r in best_per_strategy.items())
    util = f"one task keeps a core {seq.cpu_util:.0%} busy" if seq.cpu_util is not None else ""
    if chosen is seq:
        verdict = "no strategy beat sequential by a significant 10%, so keep it simple"
    else:
        lo, hi = chosen.speedup_ci95 or (chosen.speedup, chosen.speedup)
        verdict = f"{chosen.strategy} with {chosen.workers} workers is {chosen.speedup:.2f}x faster (95% CI {lo:.2f}-{hi:.2f})"
    parts = [p for p in (util, verdict) if p]
    return "; ".join(parts) + (f"; measured: {evidence}" if evidence else "")


def _one(rows: list[Row], strategy: str) -> Row | None:
    return next((r for r in rows if r.strategy == strategy and r.status == "ok" and r.samples_s), None)
