"""The suite keeps to a gilbench cache of its own (conftest.py's ``private_cache``): whatever the
user's cache holds cannot change a test's outcome, and no test writes there."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SHARED_CACHE_VARIABLE, run_cli
from gilbench.engine import environment, venvs
from gilbench.fsio import cache_dir

PYENV = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
LIST_TEST = (
    "tests/test_interpreters.py::"
    "test_list_pythons_shows_the_provisioned_venvs_and_what_each_interpreter_supports"
)


def test_tests_and_the_processes_they_start_use_the_private_cache(private_cache):
    user_cache = Path(os.path.expanduser("~")) / ".cache" / "gilbench"
    assert cache_dir() == private_cache != user_cache
    proc = run_cli("list", "--pythons", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"venv cache: {private_cache / 'venvs'} " in proc.stdout


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory under ``root``: (size, modification time in ns)."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def pollute(home: Path, python: str) -> Path:
    """A user's cache as `gilbench run --python <pyenv>/versions/3.12.1/bin/python` and a few
    accidents leave it: the venv of that interpreter recorded under the `python` spelling (in
    the directory gilbench computes for the interpreter, so a reader of this cache takes it),
    with packages the tests do not expect; a half-made venv, damaged and foreign manifests, lock
    files and a garbled feasibility cache. Returns the gilbench cache directory."""
    cache = home / ".cache" / "gilbench"
    info = environment.probe_interpreter(python)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GILBENCH_CACHE_DIR", str(cache))
        path = venvs.venv_path(python, info["label"])
    path.mkdir(parents=True)
    spelled = os.path.join(os.path.dirname(python), "python")
    manifest = {
        "path": str(path),
        "python": os.path.realpath(python),  # runs, so the venv counts as complete
        "base": spelled,
        "label": info["label"],
        "version": info["version"],
        "requirements_hash": path.name.rsplit("-", 1)[-1],
        "created": "2020-01-01T00:00:00+00:00",
        "packages": {"numpy": "1.0.0", "left-by-someone-else": "0.1"},
        "failed": {},
    }
    (path / venvs.MANIFEST).write_text(json.dumps(manifest))
    (path.parent / (path.name + ".lock")).write_text("")
    (path.parent / "3.12.1-0000000000").mkdir()  # half-made: no manifest
    (path.parent / "3.11.7-1111111111").mkdir()
    (path.parent / "3.11.7-1111111111" / venvs.MANIFEST).write_text("{not json")
    (path.parent / "3.13.0-2222222222").mkdir()
    (path.parent / "3.13.0-2222222222" / venvs.MANIFEST).write_text(
        json.dumps({"path": "/elsewhere", "written_by": "another gilbench"})
    )
    (cache / "subinterpreter-imports.json").write_text("garbage")
    return cache


def test_the_suite_passes_whatever_the_users_cache_holds_and_leaves_it_alone(
    tmp_path, private_cache
):
    found = sorted(glob.glob(os.path.join(PYENV, "versions", "3.12.*", "bin", "python3")))
    if not found:
        pytest.skip(f"no pyenv CPython 3.12 under {PYENV}/versions on this machine")
    home = tmp_path / "home"
    users_cache = pollute(home, found[-1])
    before = snapshot(users_cache)
    # The test that failed after the polluting run, in a session of its own whose user cache is
    # the polluted one (XDG_CACHE_HOME; gilbench reads no other while it is set); it shares this
    # session's private cache, so a venv made here is made once.
    env = {k: v for k, v in os.environ.items() if k != "GILBENCH_CACHE_DIR"}
    env.update(
        XDG_CACHE_HOME=str(home / ".cache"),
        PYENV_ROOT=PYENV,
        **{SHARED_CACHE_VARIABLE: str(private_cache.parent)},
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", LIST_TEST],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
    )
    summary = proc.stdout.strip().splitlines()[-1:]
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr
    assert snapshot(users_cache) == before, f"the nested session wrote to it: {summary}"
