"""Scaling analysis: pure functions on numbers and hand-built rows."""

import random

import pytest

from gilbench.analysis.scaling import amdahl_fit, amdahl_speedup, karp_flatt, scaling_all
from gilbench.engine.results import Row


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


def _row(strategy, workers, speedup, cpu_util=1.0, wall=1.0):
    return Row(
        "w",
        strategy,
        workers,
        8,
        "3.11",
        speedup=speedup,
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
        _row("processes", 4, 1.85),
    ]
    [entry] = scaling_all(rows, cores=2)
    assert entry.strategy == "processes"
    assert [p["workers"] for p in entry.points] == [1, 2, 4]  # every point is shown...
    assert entry.fit_workers == [2]  # ...but 4 workers on 2 cores measure the machine, not the code
    assert entry.serial_fraction == pytest.approx(karp_flatt(1.8, 2), abs=1e-3)
    assert set(entry.predicted) == {"8", "16", "64"}
    predicted = amdahl_speedup(entry.serial_fraction, 64)
    assert entry.predicted["64"] == pytest.approx(predicted, rel=1e-2)
    assert "extrapolation" in entry.assumption and "2 usable cores" in entry.assumption
    point = entry.points[1]
    assert point["efficiency"] == pytest.approx(0.9) and point["karp_flatt"] == pytest.approx(
        0.111, abs=1e-3
    )


def test_waiting_work_is_fitted_at_every_worker_count():
    rows = [
        _row("sequential", 1, 1.0, cpu_util=0.02),
        _row("threads", 2, 2.0, 0.04),
        _row("threads", 4, 3.96, 0.08),
    ]
    [entry] = scaling_all(rows, cores=2)
    assert entry.fit_workers == [2, 4]
    assert entry.serial_fraction < 0.01 and entry.predicted["8"] > 7.5


def test_no_extrapolation_when_workers_only_slow_it_down():
    rows = [_row("sequential", 1, 1.0), _row("threads", 2, 0.2), _row("threads", 4, 0.15)]
    [entry] = scaling_all(rows, cores=2)
    assert entry.predicted is None and entry.assumption.startswith("no extrapolation")
    rows = [_row("sequential", 1, 1.0), _row("processes", 1, 0.9)]
    [entry] = scaling_all(rows, cores=2)
    assert entry.serial_fraction is None and entry.predicted is None
