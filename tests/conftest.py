"""Shared fixtures: a private gilbench cache for the whole session, run the CLI as a user would,
and check nothing is left running."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

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


# -- the private cache -----------------------------------------------------------------------------
SHARED_CACHE_VARIABLE = "GILBENCH_TEST_CACHE_DIR"
"""Names a directory the session uses as its private cache instead of a new temporary one (and
leaves in place): how a test that runs a nested test session shares its venvs with it."""


@pytest.fixture(scope="session", autouse=True)
def private_cache() -> Iterator[Path]:
    """Every test, and every process a test starts, uses a gilbench cache of this session's own,
    never the user's: ``GILBENCH_CACHE_DIR`` and ``XDG_CACHE_HOME`` point into it, set before the
    first test and restored after the last. Returns the gilbench cache directory.

    One cache for the whole session, so a venv is made once per session, not per test (about
    20 s each with the worker requirements; tests/test_interpreters.py needs pyenv's 3.11-3.13,
    tests/test_freethreaded.py the two built ones). It is a new temporary directory, removed at
    the end, unless ``GILBENCH_TEST_CACHE_DIR`` names one, which is kept (to reuse the venvs
    across sessions, or to share them with a nested session). Still shared with the user: the
    interpreters ``scripts/build-python.sh`` built, run but not written (``GILBENCH_PYTHONS_DIR``
    is pinned to where they are before the cache moves), and pip's own download cache
    (``PIP_CACHE_DIR``), so venvs install from wheels already fetched.
    """
    from gilbench.engine.environment import pythons_dir

    home_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    shared = os.environ.get(SHARED_CACHE_VARIABLE)
    root = Path(shared) if shared else Path(tempfile.mkdtemp(prefix="gilbench-test-cache-"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GILBENCH_PYTHONS_DIR", str(pythons_dir()))  # before the cache moves
        mp.setenv("PIP_CACHE_DIR", os.environ.get("PIP_CACHE_DIR") or f"{home_cache}/pip")
        mp.setenv("XDG_CACHE_HOME", str(root / "xdg"))
        mp.setenv("GILBENCH_CACHE_DIR", str(root / "gilbench"))
        yield root / "gilbench"
    if not shared:
        shutil.rmtree(root, ignore_errors=True)
