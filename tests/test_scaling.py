"""Scaling analysis: pure functions on numbers and hand-built rows."""

import io
import json
import random
from pathlib import Path

import pytest
from rich.console import Console

from gilbench.analysis.scaling import (
    amdahl_fit,
    amdahl_fit_interval,
    amdahl_speedup,
    karp_flatt,
    scaling_all,
    speedup_interval,
)
from gilbench.documents import load
from gilbench.engine.results import Row
from gilbench.report.format import MISSING, fmt_ci, fmt_factor, plain
from gilbench.report.terminal import predicted_cell, scaling_table

FIXTURES = Path(__file__).parent / "fixtures"


def test_karp_flatt_is_the_serial_fraction_measured_at_p_workers():
    # S = 1.6 on 2 workers: 1/1.6 = 0.625 = e + (1 - e) / 2  ->  e = 0.25
    assert karp_flatt(1.6, 2) == pytest.approx(0.25)
    assert karp_flatt(4.0, 4) == pytest.approx(0.0)  # perfect scaling
    assert karp_flatt(1.0, 4) == pytest.approx(1.0)  # no scaling at all
    assert karp_flatt(1.2, 1) is None  # one worker says nothing about the serial part


def test_karp_flatt_agrees_with_amdahl_at_every_point():
    for f in (0.0, 0.1, 0.5, 0.9):
        for p in (2, 3, 8, 64):
            assert karp_flatt(amdahl_speedup(f, p), p) == pytest.approx(f)


def test_amdahl_fit_recovers_a_known_serial_fraction():
    points = [(p, amdahl_speedup(0.2, p)) for p in (1, 2, 4, 8, 16)]
    assert amdahl_fit(points) == pytest.approx(0.2)


def test_amdahl_fit_recovers_it_through_measurement_noise():
    rng = random.Random(7)
    points = [
        (p, amdahl_speedup(0.3, p) * rng.uniform(0.97, 1.03))
        for p in (2, 3, 4, 6, 8)
        for _ in range(3)
    ]
    assert amdahl_fit(points) == pytest.approx(0.3, abs=0.03)


def test_amdahl_fit_clamps_and_needs_a_point_beyond_one_worker():
    assert amdahl_fit([(1, 1.0)]) is None
    assert amdahl_fit([(2, 2.2), (4, 4.5)]) == 0.0  # superlinear: no serial part
    assert amdahl_fit([(2, 0.5)]) == 1.0  # slower than one: all serial (and worse)
    assert amdahl_speedup(0.0, 8) == 8 and amdahl_speedup(1.0, 64) == 1


def _row(strategy, workers, speedup, cpu_util=1.0, wall=1.0, ci=None):
    return Row(
        "w",
        strategy,
        workers,
        8,
        "3.11",
        speedup=speedup,
        speedup_ci95=None if ci is None else list(ci),
        cpu_util=cpu_util,
        cpu_s=cpu_util * wall,
        wall_s={"median": wall, "mean": wall, "stdev": 0, "min": wall, "max": wall, "n": 5},
        samples_s=[wall] * 5,
    )


def test_cpu_bound_work_is_fitted_only_within_the_usable_cores():
    rows = [
        _row("sequential", 1, 1.0),
        _row("processes", 1, 0.98),
        _row("processes", 2, 1.8),
        _row("processes", 3, 2.5),
        _row("processes", 6, 2.6),
    ]
    [entry] = scaling_all(rows, cores=3)
    assert entry.strategy == "processes"
    assert [p["workers"] for p in entry.points] == [1, 2, 3, 6]  # every point is shown...
    assert entry.fit_workers == [2, 3]  # ...but 6 workers on 3 cores measure the machine
    f = amdahl_fit([(2, 1.8), (3, 2.5)])
    assert entry.serial_fraction == pytest.approx(f, abs=1e-3)
    assert f != pytest.approx(amdahl_fit([(2, 1.8), (3, 2.5), (6, 2.6)]), abs=1e-3)
    assert set(entry.predicted) == {"8", "16", "64"}
    assert entry.predicted["64"] == pytest.approx(amdahl_speedup(f, 64), abs=0.006)
    assert "extrapolation" in entry.assumption and "3 usable cores" in entry.assumption
    point = entry.points[1]
    assert point["efficiency"] == pytest.approx(0.9) and point["karp_flatt"] == pytest.approx(
        0.111, abs=1e-3
    )


def test_one_fitted_worker_count_is_not_extrapolated():
    # The case: `--workers 1,2` on 2 cores, CPU-bound. One point fits Amdahl's one
    # parameter exactly, so nothing tests the fit: no prediction, however tight the point.
    rows = [
        _row("sequential", 1, 1.0, ci=(0.98, 1.02)),
        _row("processes", 1, 0.98, ci=(0.96, 1.0)),
        _row("processes", 2, 1.8, ci=(1.79, 1.81)),
        _row("processes", 4, 1.85, ci=(1.84, 1.86)),
    ]
    [entry] = scaling_all(rows, cores=2)
    assert entry.fit_workers == [2]
    assert entry.serial_fraction == pytest.approx(karp_flatt(1.8, 2), abs=1e-3)  # still shown
    assert entry.predicted is None and entry.predicted_ci95 is None
    assert entry.assumption.startswith("no extrapolation from 2 workers alone")
    assert "2 usable cores" in entry.assumption and "more cores" in entry.assumption
    # The same point on a machine with more cores, waiting work: still one point.
    rows = [_row("sequential", 1, 1.0, cpu_util=0.02), _row("threads", 2, 1.9, 0.04)]
    [entry] = scaling_all(rows, cores=8)
    assert entry.predicted is None and "from 2 workers alone" in entry.assumption


def test_two_tight_points_give_an_interval_around_every_prediction():
    rows = [
        _row("sequential", 1, 1.0, cpu_util=0.02),
        _row("threads", 2, 1.9, 0.04, ci=(1.88, 1.92)),
        _row("threads", 4, 3.5, 0.08, ci=(3.46, 3.54)),
    ]
    [entry] = scaling_all(rows, cores=2)
    assert entry.fit_workers == [2, 4]
    # Every high end gives the lowest serial fraction, every low end the highest.
    f_low, f_high = amdahl_fit([(2, 1.92), (4, 3.54)]), amdahl_fit([(2, 1.88), (4, 3.46)])
    assert f_low < entry.serial_fraction < f_high
    assert list(entry.predicted) == list(entry.predicted_ci95) == ["8", "16", "64"]
    for n in (8, 16, 64):
        low, high = entry.predicted_ci95[str(n)]
        assert low == pytest.approx(amdahl_speedup(f_high, n), abs=0.006)
        assert high == pytest.approx(amdahl_speedup(f_low, n), abs=0.006)
        assert low < entry.predicted[str(n)] < high and high / low <= 2
    assert entry.predicted_ci95["8"][1] - entry.predicted_ci95["8"][0] < (
        entry.predicted_ci95["64"][1] - entry.predicted_ci95["64"][0]
    )  # farther out, wider
    assert entry.assumption.startswith("extrapolation") and "withheld" not in entry.assumption


def test_wide_points_withhold_the_far_predictions_and_say_so():
    rows = [
        _row("sequential", 1, 1.0, cpu_util=0.02),
        _row("threads", 2, 1.9, 0.04, ci=(1.7, 2.0)),
        _row("threads", 4, 3.5, 0.08, ci=(3.0, 3.9)),
    ]
    [entry] = scaling_all(rows, cores=2)
    f_low, f_high = amdahl_fit_interval([(2, 1.7, 2.0), (4, 3.0, 3.9)])
    spread = {n: amdahl_speedup(f_low, n) / amdahl_speedup(f_high, n) for n in (8, 16, 64)}
    assert spread[8] <= 2 < spread[16] < spread[64]  # the case this test is about
    assert list(entry.predicted) == list(entry.predicted_ci95) == ["8"]
    low, high = entry.predicted_ci95["8"]
    assert low <= entry.predicted["8"] <= high
    assert entry.assumption.startswith("extrapolation")
    assert "withheld at 16 and 64 workers" in entry.assumption
    shown = f"{amdahl_speedup(f_high, 16):.3g}x to {amdahl_speedup(f_low, 16):.3g}x at 16"
    assert shown in entry.assumption
    # Wider still: nothing is left, and the sentence says why.
    rows = [
        _row("sequential", 1, 1.0, cpu_util=0.02),
        _row("threads", 2, 1.5, 0.04, ci=(0.8, 2.0)),
        _row("threads", 4, 2.0, 0.08, ci=(0.9, 4.0)),
    ]
    [entry] = scaling_all(rows, cores=2)
    assert entry.serial_fraction is not None
    assert entry.predicted is None and entry.predicted_ci95 is None
    assert entry.assumption.startswith("no extrapolation")
    assert "more than a factor of 2 already at 8 workers" in entry.assumption


def test_the_interval_always_contains_the_point_prediction():
    rng = random.Random(13)
    kept = withheld = 0
    for _ in range(300):
        f = rng.uniform(0, 0.6)
        rows = [_row("sequential", 1, 1.0, cpu_util=0.02)]
        for p in (2, 4, 8):
            s = amdahl_speedup(f, p) * rng.uniform(0.9, 1.1)
            # Some intervals miss their own point (a percentile bootstrap may): widened to it.
            ci = (s * rng.uniform(0.7, 1.05), s * rng.uniform(0.95, 1.3))
            rows.append(_row("threads", p, s, 0.02, ci=ci))
        [entry] = scaling_all(rows, cores=8)
        bounds = amdahl_fit_interval(
            (r.workers, *speedup_interval(r.speedup, r.speedup_ci95)) for r in rows[1:]
        )
        point = amdahl_fit((r.workers, r.speedup) for r in rows[1:])
        assert bounds[0] <= point <= bounds[1]
        predicted = entry.predicted or {}
        assert list(predicted) == ["8", "16", "64"][: len(predicted)]  # withheld from n on
        assert set(predicted) == set(entry.predicted_ci95 or {})
        for n, value in predicted.items():
            low, high = entry.predicted_ci95[n]
            assert low <= value <= high and high <= 2 * low + 0.02  # 2 decimals
        kept += len(predicted)
        withheld += 3 - len(predicted)
    assert kept > 100 and withheld > 100  # both branches ran


def test_amdahl_fit_interval_ends():
    assert amdahl_fit_interval([(1, 0.9, 1.1)]) is None
    # a low end at or below 0 leaves the serial fraction unbounded above
    assert amdahl_fit_interval([(2, 0.0, 2.0), (4, 3.0, 4.0)]) == (0.0, 1.0)
    assert amdahl_fit_interval([(2, 2.0, 2.0), (4, 4.0, 4.0)]) == (0.0, 0.0)
    assert speedup_interval(1.5, None) == (1.5, 1.5)
    assert speedup_interval(1.5, [1.6, 1.7]) == (1.5, 1.7)


def test_waiting_work_is_fitted_at_every_worker_count():
    rows = [
        _row("sequential", 1, 1.0, cpu_util=0.02),
        _row("threads", 2, 2.0, 0.04),
        _row("threads", 4, 3.96, 0.08),
    ]
    [entry] = scaling_all(rows, cores=2)
    assert entry.fit_workers == [2, 4]
    assert entry.serial_fraction < 0.01 and entry.predicted["8"] > 7.5
    # rows without an interval (older documents) count as exact: the interval is the point
    assert entry.predicted_ci95["8"] == [entry.predicted["8"]] * 2


def test_no_extrapolation_when_workers_only_slow_it_down():
    rows = [_row("sequential", 1, 1.0), _row("threads", 2, 0.2), _row("threads", 4, 0.15)]
    [entry] = scaling_all(rows, cores=2)
    assert entry.predicted is None and entry.assumption.startswith("no extrapolation")
    rows = [_row("sequential", 1, 1.0), _row("processes", 1, 0.9)]
    [entry] = scaling_all(rows, cores=2)
    assert entry.serial_fraction is None and entry.predicted is None


def _old_entry() -> dict:
    """A scaling entry as gilbench wrote it before predicted_ci95: all three predictions."""
    return {
        "workload": "w",
        "python": "3.11",
        "strategy": "threads",
        "points": [{"workers": 2, "speedup": 2.0, "efficiency": 1.0, "karp_flatt": 0.0}],
        "fit_workers": [2, 4],
        "serial_fraction": 0.01,
        "predicted": {"8": 7.5, "16": 13.91, "64": 39.26},
        "assumption": "extrapolation, not a measurement",
    }


def test_reports_show_the_interval_and_still_read_entries_without_one():
    rows = [
        _row("sequential", 1, 1.0, cpu_util=0.02),
        _row("threads", 2, 1.9, 0.04, ci=(1.7, 2.0)),
        _row("threads", 4, 3.5, 0.08, ci=(3.0, 3.9)),
    ]
    [new] = scaling_all(rows, cores=2)
    doc = json.loads((FIXTURES / "run-a.json").read_text())
    doc["scaling"] = [_old_entry(), new.to_dict()]
    doc = load(json.loads(json.dumps(doc)), "r.json")  # validated, as written to a file
    old_cell = plain(predicted_cell(doc["scaling"][0]))
    assert old_cell == "7.50x / 13.91x / 39.26x"
    ci = fmt_ci(new.predicted_ci95["8"], "")
    new_cell = plain(predicted_cell(doc["scaling"][1]))
    assert new_cell == f"{fmt_factor(new.predicted['8'])} [{ci}] / {MISSING} / {MISSING}"
    none = {**_old_entry(), "predicted": None}
    assert plain(predicted_cell(none)) == MISSING
    console = Console(file=io.StringIO(), width=400)
    console.print(scaling_table(doc))
    shown = console.file.getvalue()
    assert old_cell in shown and new_cell in shown
    # The schema holds the new field to its shape.
    bad = json.loads(json.dumps(doc))
    bad["scaling"][1]["predicted_ci95"]["8"] = [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"scaling\[1\]\.predicted_ci95"):
        load(bad, "r.json")
