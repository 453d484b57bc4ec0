"""Shared fixtures: run the CLI as a user would, and check nothing is left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psutil
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GILBENCH = [sys.executable, "-m", "gilbench"]


def run_cli(
    *args: str, timeout: float = 240, cwd: str | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, **(env or {}))
    full_env["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(ROOT, "src"), os.path.join(ROOT, "tests")]
    )
    return subprocess.run(
        [*GILBENCH, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        env=full_env,
    )


def load(path) -> dict:
    with open(path) as f:
        return json.load(f)


# Every process this test session starts inherits this tag, so leftovers are told apart from
# processes that other work on the same machine is running.
TAG = f"{os.getpid()}-{time.time_ns()}"
os.environ["GILBENCH_TEST_TAG"] = TAG


def gilbench_processes() -> list[psutil.Process]:
    """Live processes started by this test session (and their children), but not pytest itself."""
    me = os.getpid()
    found = []
    for p in psutil.process_iter(["pid"]):
        if p.info["pid"] == me:
            continue
        try:
            if p.environ().get("GILBENCH_TEST_TAG") == TAG and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def leftovers(before: set[int], grace: float = 3.0) -> list[str]:
    """Command lines of this session's live processes not in ``before``, after up to ``grace`` s."""
    deadline = time.monotonic() + grace
    while True:
        left = [p for p in gilbench_processes() if p.pid not in before]
        if not left or time.monotonic() > deadline:
            return [_describe(p) for p in left]
        time.sleep(0.1)


def assert_no_leftovers(before: set[int], grace: float = 3.0) -> None:
    left = leftovers(before, grace)
    assert not left, "processes left running: " + "; ".join(left)


def _describe(p: psutil.Process) -> str:
    try:
        return f"{p.pid}: {' '.join(p.cmdline())}"
    except psutil.Error:
        return str(p.pid)


@pytest.fixture
def no_leftovers():
    """Fails the test if it leaves any gilbench process running."""
    before = {p.pid for p in gilbench_processes()}
    yield
    assert_no_leftovers(before)
