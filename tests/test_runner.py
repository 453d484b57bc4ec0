"""Trials in fresh processes: results, and every way a task can go wrong."""

import os
import sys
import time

import pytest

from gilbench.engine.runner import run_trial
from gilbench.workloads import Call

TESTS = os.path.dirname(os.path.abspath(__file__))


def spec(func: str, strategy: str = "sequential", workers: int = 1, tasks: int = 2, samples: int = 2, **kwargs) -> dict:
    return {
        "call": Call(f"userfuncs.funcs:{func}", kwargs=kwargs).to_dict(),
        "strategy": strategy,
        "workers": workers,
        "tasks": tasks,
        "samples": samples,
        "cwd": TESTS,
    }


@pytest.mark.parametrize("strategy", ["sequential", "threads", "processes", "asyncio"])
def test_each_strategy_returns_samples_and_the_same_checksum(strategy, no_leftovers):
    base = run_trial(sys.executable, spec("fast", x=3), timeout=60)
    out = run_trial(sys.executable, spec("fast", strategy=strategy, workers=2, x=3), timeout=60)
    assert out.status == "ok", out.error
    assert len(out.samples) == 2 and all(s["wall_s"] > 0 and s["cpu_s"] >= 0 and s["rss_mb"] > 0 for s in out.samples)
    assert out.startup_s is not None and out.startup_s >= 0
    assert out.checksum == base.checksum


def test_asyncio_says_when_it_falls_back_to_threads():
    out = run_trial(sys.executable, spec("fast", strategy="asyncio", workers=2), timeout=60)
    assert out.status == "ok" and "to_thread" in out.note


def test_a_task_that_raises_is_an_error_with_its_message(no_leftovers):
    out = run_trial(sys.executable, spec("boom", strategy="threads", workers=2), timeout=60)
    assert out.status == "error"
    assert "ValueError: this function always raises" in out.error


@pytest.mark.parametrize("strategy", ["sequential", "processes"])
def test_a_hanging_task_times_out_and_leaves_no_process(strategy, no_leftovers):
    t0 = time.monotonic()
    out = run_trial(sys.executable, spec("hang", strategy=strategy, workers=2), timeout=2)
    assert out.status == "timeout"
    assert "2 s timeout" in out.error
    assert time.monotonic() - t0 < 10


def test_a_task_that_exits_its_process_is_an_error(no_leftovers):
    out = run_trial(sys.executable, spec("die"), timeout=30)
    assert out.status == "error" and "exit code 3" in out.error


def test_a_segfault_is_an_error_naming_the_signal(no_leftovers):
    out = run_trial(sys.executable, spec("segfault"), timeout=30)
    assert out.status == "error" and "SIGSEGV" in out.error


def test_user_output_on_stdout_does_not_break_the_protocol():
    out = run_trial(sys.executable, spec("chatty", strategy="threads", workers=2), timeout=30)
    assert out.status == "ok"


def test_a_missing_function_is_a_clear_error():
    out = run_trial(sys.executable, spec("no_such_function"), timeout=30)
    assert out.status == "error" and "no_such_function" in out.error
