"""The worker's warm-up until steady and its loops per value (issue 13), on scripted passes:
pure logic, no clock assertions (the passes report made-up durations through a fake clock)."""

from __future__ import annotations

import pytest

from gilbench.engine import worker


class FakePasses:
    """``one_pass`` for ``worker.warm_up`` whose passes last the given seconds, in turn, on a
    fake ``time.perf_counter``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, durations: list[float]) -> None:
        self.durations = list(durations)
        self.now = 0.0
        self.calls = 0
        monkeypatch.setattr(worker.time, "perf_counter", lambda: self.now)

    def __call__(self) -> None:
        self.now += self.durations[min(self.calls, len(self.durations) - 1)]
        self.calls += 1


def test_warm_up_repeats_until_two_passes_in_a_row_agree(monkeypatch):
    # A fresh process: the first passes pay for page faults and caches, then it settles.
    passes = FakePasses(monkeypatch, [0.30, 0.20, 0.15, 0.105, 0.10, 0.10])
    warm = worker.warm_up(passes, scale=10)  # a timed pass of 10 such passes: time to settle
    assert (warm.passes, warm.steady) == (5, True) and passes.calls == 5
    assert warm.last_s == pytest.approx(0.10)


def test_warm_up_stops_at_its_cap_and_says_it_never_settled(monkeypatch):
    passes = FakePasses(monkeypatch, [0.1, 0.2] * 10)
    warm = worker.warm_up(passes, scale=10)
    assert (warm.passes, warm.steady) == (worker.MAX_WARMUPS, False)


def test_warm_up_stops_on_its_time_budget(monkeypatch):
    # One pass that alone outlasts the budget is its own warm-up.
    long = FakePasses(monkeypatch, [worker.WARMUP_BUDGET_S + 1])
    assert worker.warm_up(long).passes == 1
    # Passes that keep shrinking stop once the budget is spent (two at least).
    budget = worker.WARMUP_BUDGET_S
    shrinking = FakePasses(monkeypatch, [0.75 * budget, 0.5 * budget, 0.35 * budget])
    warm = worker.warm_up(shrinking)
    assert warm.passes == 2 and not warm.steady


def test_warm_up_lasts_no_longer_than_about_one_timed_pass(monkeypatch):
    # Passes of 0.3-0.4 s that never agree, when a timed pass is one of them: two warm-ups.
    passes = FakePasses(monkeypatch, [0.3, 0.4, 0.3, 0.4])
    assert worker.warm_up(passes, scale=1) == worker.WarmUp(2, pytest.approx(0.4), False)
    # The same passes when a timed pass is 10 of them: on until WARMUP_BUDGET_S (1 s).
    many = FakePasses(monkeypatch, [0.3, 0.4, 0.3, 0.4])
    assert worker.warm_up(many, scale=10).passes == 3  # 0.3 + 0.4 + 0.3 >= 1.0 s


def test_loops_make_a_value_last_long_enough_to_time():
    assert worker.loops_for(1.0) == 1
    assert worker.loops_for(worker.MIN_VALUE_S) == 1
    assert worker.loops_for(0.056) == 4  # the 56 ms pass: 4 passes per value
    assert worker.loops_for(1e-9) == worker.MAX_LOOPS
    assert worker.loops_for(0.001, given=3) == 3  # the parent fixed it after the first trial
