"""The dask strategy on a real LocalCluster: same results as sequential, nothing left running."""

import os
import sys

from gilbench.engine.runner import run_trial
from gilbench.workloads import Call

TESTS = os.path.dirname(os.path.abspath(__file__))


def spec(func: str, strategy: str, workers: int) -> dict:
    return {
        "call": Call(func, kwargs={"count": 20000}).to_dict(),
        "strategy": strategy,
        "workers": workers,
        "tasks": 4,
        "samples": 2,
        "cwd": TESTS,
    }


def test_dask_local_cluster_matches_sequential_and_cleans_up(no_leftovers):
    base = run_trial(
        sys.executable, spec("gilbench.workloads.cpu:count", "sequential", 1), timeout=60
    )
    out = run_trial(sys.executable, spec("gilbench.workloads.cpu:count", "dask", 2), timeout=120)
    assert out.status == "ok", out.error
    assert out.checksum == base.checksum
    assert out.startup_s > 0 and "LocalCluster" in out.note
    assert len(out.samples) == 2


def test_dask_reports_a_task_error_with_its_message(no_leftovers):
    s = spec("userfuncs.funcs:boom", "dask", 2)
    s["call"]["kwargs"] = {}
    out = run_trial(sys.executable, s, timeout=120)
    assert out.status == "error" and "this function always raises" in out.error
