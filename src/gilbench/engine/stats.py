"""Statistics for samples of wall time: summaries, ratio intervals, spread warnings.

The speedup interval is a percentile bootstrap of the ratio of medians (Efron & Tibshirani,
1993): with five samples a side no distribution can be assumed, and medians resist the
outliers a shared machine produces. The seed is fixed so a report can be reproduced.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence

BOOTSTRAP_RESAMPLES = 2000
# pyperf's rule of thumb for a benchmark too unstable to trust.
WIDE_STDEV_FRACTION = 0.10
WIDE_RANGE_FRACTION = 0.50


def summarize(samples: Sequence[float]) -> dict | None:
    """median, mean, stdev (sample; 0.0 for one sample), min, max and n of ``samples``, in
    their own unit; None when there are none."""
    if not samples:
        return None
    return {
        "median": statistics.median(samples),
        "mean": statistics.fmean(samples),
        "stdev": statistics.stdev(samples) if len(samples) > 1 else 0.0,
        "min": min(samples),
        "max": max(samples),
        "n": len(samples),
    }


def ratio_of_medians(num: Sequence[float], den: Sequence[float]) -> float:
    """median(num) / median(den); raises StatisticsError when empty, ZeroDivisionError at 0."""
    return statistics.median(num) / statistics.median(den)


def ratio_ci95(num: Sequence[float], den: Sequence[float], seed: int = 1) -> tuple[float, float]:
    """95% percentile-bootstrap interval (Efron) of median(num) / median(den), as (low, high):
    2000 resamples with a fixed ``seed``. Raises StatisticsError when a side is empty."""
    rng = random.Random(seed)
    ratios = sorted(
        statistics.median(rng.choices(num, k=len(num)))
        / statistics.median(rng.choices(den, k=len(den)))
        for _ in range(BOOTSTRAP_RESAMPLES)
    )
    return ratios[int(0.025 * BOOTSTRAP_RESAMPLES)], ratios[int(0.975 * BOOTSTRAP_RESAMPLES) - 1]


def is_wide(summary: dict) -> str | None:
    """Why a :func:`summarize` result is too noisy to trust (pyperf's rule: stdev >= 10% of
    the mean, or min/max >= 50% from it), or None."""
    mean = summary["mean"]
    if mean <= 0 or summary["n"] < 2:
        return None
    if summary["stdev"] >= WIDE_STDEV_FRACTION * mean:
        return f"stdev is {summary['stdev'] / mean:.0%} of the mean"
    if max(summary["max"] - mean, mean - summary["min"]) >= WIDE_RANGE_FRACTION * mean:
        far = max(summary["max"] - mean, mean - summary["min"]) / mean
        return f"min/max lie {far:.0%} from the mean"
    return None
