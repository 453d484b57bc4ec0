"""A real free-threaded CPython (PEP 703) through gilbench: a re-enabled GIL is named on the row,
races come out as errors, the built interpreters are found, packages without free-threaded
wheels skip their workloads with the reason.

The interpreters come from ``GILBENCH_TEST_PYTHON`` (a default build) and
``GILBENCH_TEST_PYTHON_FT`` (the free-threaded build of the same source), which
``scripts/test.sh`` sets after ``scripts/build-python.sh`` built them; without them these tests
are skipped, saying so. Their venvs go to the session's private cache (tests/conftest.py, never
the user's): the first test pays for them (about a minute, pip's own download cache helping).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time

import pytest
from rich.console import Console

from conftest import ROOT, load, run_cli
from gilbench import documents
from gilbench.engine import environment, protocol, targets, venvs
from gilbench.engine.protocol import Sample
from gilbench.engine.results import Row
from gilbench.engine.rows import fold
from gilbench.engine.runner import TrialOutcome
from gilbench.workloads import get_workload

pytestmark = pytest.mark.timeout(600)  # the session's first test makes two venvs

FIXTURES = os.path.join(ROOT, "tests", "fixtures")
WHAT = {
    "GILBENCH_TEST_PYTHON": "a default (GIL) build of the same version",
    "GILBENCH_TEST_PYTHON_FT": "a free-threaded python3.13t or python3.14t",
}


def interpreter(variable: str) -> str:
    how = (
        "run scripts/test.sh (it builds CPython with and without the GIL with "
        f"scripts/build-python.sh and sets it), or set it to {WHAT[variable]} of your own"
    )
    path = os.environ.get(variable)
    if not path:
        pytest.skip(f"{variable} is not set: {how}")
    if not os.access(path, os.X_OK):
        pytest.skip(f"{variable}={path} is not an executable: {how}")
    return path


@pytest.fixture(scope="session")
def ft_python() -> str:
    path = interpreter("GILBENCH_TEST_PYTHON_FT")
    info = environment.probe_interpreter(path)
    assert info["free_threaded_build"], f"GILBENCH_TEST_PYTHON_FT={path} is not free-threaded"
    return path


@pytest.fixture(scope="session")
def default_python() -> str:
    return interpreter("GILBENCH_TEST_PYTHON")


@pytest.fixture(scope="session")
def cache(private_cache, ft_python, default_python) -> dict[str, str]:
    """The session's private gilbench cache (conftest.py), the two builds' venvs made in it
    once: the environment the CLI runs with."""
    for path in (ft_python, default_python):
        t0 = time.monotonic()
        entries = targets.expand([path])
        targets.provision(entries, [])
        made = time.monotonic() - t0
        assert not entries[0].get("venv_error"), entries[0]
        print(f"venv for {entries[0]['label']}: {made:.0f} s")  # shown with pytest -s
    return {"GILBENCH_CACHE_DIR": str(private_cache)}


def bench(env: dict, cwd, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    out = os.path.join(cwd, "out.json")
    proc = run_cli("bench", *args, "--json", out, cwd=str(cwd), env=env, timeout=300)
    assert os.path.exists(out), proc.stdout + proc.stderr
    doc = load(out)
    documents.load(doc)  # every row as the schema says
    return proc, doc


def rows(doc: dict, python: str) -> dict[str, dict]:
    return {r["strategy"]: r for r in doc["results"] if r["python"] == python}


# -- a re-enabled GIL ----------------------------------------------------------------------------
def compile_extension(python: str, name: str, declare: bool, into) -> None:
    """Build tests/fixtures/gilext.c as the module ``name`` for ``python`` (its own headers and
    extension suffix), with or without the Py_mod_gil slot."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not on PATH: the extension test compiles a C module")
    config = subprocess.run(
        [
            python,
            "-c",
            "import json, sysconfig as s; print(json.dumps([s.get_config_var(v) for v in "
            "('INCLUDEPY', 'EXT_SUFFIX', 'Py_GIL_DISABLED')]))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    include, suffix, gil_disabled = json.loads(config.stdout)
    assert gil_disabled, "the free-threaded build's pyconfig.h must define Py_GIL_DISABLED"
    subprocess.run(
        [
            "gcc",
            "-shared",
            "-fPIC",
            "-O1",
            "-Wall",
            "-Werror",
            f"-I{include}",
            f"-DMODNAME={name}",
            *(["-DDECLARE_NO_GIL"] if declare else []),
            os.path.join(FIXTURES, "gilext.c"),
            "-o",
            str(into / f"{name}{suffix}"),
        ],
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize("declared", [False, True], ids=["undeclared", "declared"])
def test_an_extension_that_turns_the_gil_back_on_is_named_on_the_rows(
    declared, ft_python, cache, tmp_path, no_leftovers
):
    name = "gilext_declared" if declared else "gilext_undeclared"
    compile_extension(ft_python, name, declared, tmp_path)
    # The function imports the extension found in the directory gilbench runs from.
    proc, doc = bench(
        cache,
        tmp_path,
        "userfuncs.freethreaded:with_extension",
        "--kwargs",
        json.dumps({"module": name}),
        "--python",
        ft_python,
        *("-s", "sequential", "-s", "threads", "--workers", "2", "--quick"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [label, forced] = [i["label"] for i in doc["interpreters"]]
    assert forced == label + "+gil"
    off, on = rows(doc, label), rows(doc, forced)
    assert set(off) == set(on) == {"sequential", "threads"}
    for row in [*off.values(), *on.values()]:
        assert row["status"] == "ok", row
    for row in on.values():  # PYTHON_GIL=1: the GIL was never off, nothing turned it on
        assert row["gil_reenabled_by"] is None and "re-enabled" not in (row["note"] or "")
    for row in off.values():
        if declared:
            assert row["gil_reenabled_by"] is None and row["note"] is None, row
            assert row["reason"] == "GIL contention n/a: no GIL in this interpreter"
        else:
            assert row["gil_reenabled_by"] == [name], row
            assert f"GIL re-enabled by importing {name}" in row["note"]
            assert "no GIL in this interpreter" not in (row["reason"] or "")  # there is one now


# -- races ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("func", ["seen_racy", "seen_locked"])
def test_a_racy_update_is_an_error_without_the_gil_and_a_locked_one_passes(
    func, ft_python, default_python, cache, tmp_path, no_leftovers
):
    # One command, both builds: the default build and the two variants of the free-threaded one.
    proc, doc = bench(
        cache,
        tmp_path,
        f"userfuncs.freethreaded:{func}",
        "--kwargs",
        '{"n": 20000}',  # on two cores, tens of lost writes per pass of 16 calls, 2 threads
        "--tasks",
        "16",
        "--python",
        default_python,
        "--python",
        ft_python,
        *("-s", "sequential", "-s", "threads", "--workers", "2", "--quick"),
    )
    labels = [i["label"] for i in doc["interpreters"]]
    assert len(labels) == 3 and labels[2] == labels[1] + "+gil", labels
    assert [i["free_threaded_build"] for i in doc["interpreters"]] == [False, True, True]
    assert len({r["tasks"] for r in doc["results"]}) == 1  # sized once: the same tasks everywhere
    assert {r["python"] for r in doc["results"]} == set(labels)
    free = rows(doc, labels[1])
    assert free["sequential"]["status"] == "ok"
    threads = free["threads"]
    if func == "seen_racy":
        if threads["status"] == "ok" and threads["cpu_util"] < 1.5:
            # Writes are lost when two threads run at once; on one core they take turns at
            # whole calls (no losses in 5 of 5 passes pinned to one core, with or without GIL).
            pytest.skip(
                f"other load left the two threads one core (CPU/wall {threads['cpu_util']:.2f}): "
                "no parallel updates, so no race to catch"
            )
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert threads["status"] == "error", threads
        assert "task results differ from sequential's" in threads["error"]
        assert any(
            w["code"] == "results-differ" and w["python"] == labels[1] for w in doc["warnings"]
        )
    else:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert all(r["status"] == "ok" for r in doc["results"]), doc["results"]


def test_bench_checks_the_function_imports_in_the_target_interpreter(ft_python, cache, tmp_path):
    proc = run_cli(
        "bench",
        "userfuncs.freethreaded:nope",
        "--python",
        ft_python,
        cwd=str(tmp_path),
        env=cache,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and line.startswith(
        "gilbench: error: module 'userfuncs.freethreaded' has no function 'nope' (in "
    ), line
    assert line.endswith("/bin/python)")  # imported there, in its venv, not here


# -- what the user sees --------------------------------------------------------------------------
def test_list_pythons_finds_the_built_interpreters_and_the_free_threaded_one_without_gil(
    ft_python, default_python, tmp_path, monkeypatch
):
    # GILBENCH_PYTHONS_DIR laid out as scripts/build-python.sh lays it out: <name>/bin/python3
    pythons = tmp_path / "pythons"
    for name, path in (("3.13-default", default_python), ("3.13-ft", ft_python)):
        (pythons / name / "bin").mkdir(parents=True)
        (pythons / name / "bin" / "python3").symlink_to(path)
    env = {"GILBENCH_PYTHONS_DIR": str(pythons), "GILBENCH_CACHE_DIR": str(tmp_path / "cache")}
    proc = run_cli("list", "--pythons", env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "free-threaded" in proc.stdout
    # The same rows, without the terminal's folding of long paths.
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from gilbench.cli import _found_interpreters
    from gilbench.report.interpreters import found_table

    console = Console(width=400, record=True, file=io.StringIO())
    console.print(found_table(_found_interpreters()))
    lines = console.export_text().splitlines()
    # Found through the links, listed as what they link to: one interpreter, one spelling.
    default = next(line for line in lines if f" {os.path.realpath(default_python)} " in line)
    free = next(line for line in lines if f" {os.path.realpath(ft_python)} " in line)
    assert " GIL " in default and " on " in default
    assert " free-threaded " in free and " off " in free and "+gil" in free


# -- the field's way from the worker to the row (no interpreter needed) ----------------------------
def test_gil_reenabled_by_travels_from_the_worker_s_done_message_to_the_row():
    done = protocol.decode(protocol.Done("abc", "a note", None, ["gilext_undeclared"]).to_json())
    assert done.gil_reenabled_by == ["gilext_undeclared"]
    row = Row("w", "threads", 2, 2, "3.13.15t")
    sample = Sample(0.1, 0.2, 10.0)
    fold(row, TrialOutcome(samples=[sample], gil_reenabled_by=["a"]), [])
    fold(row, TrialOutcome(samples=[sample], gil_reenabled_by=["a", "b"]), [sample])
    fold(row, TrialOutcome(samples=[sample]), [sample, sample])  # a trial that named none
    assert row.gil_reenabled_by == ["a", "b"] and row.to_dict()["gil_reenabled_by"] == ["a", "b"]
    assert Row("w", "threads", 2, 2, "3.13.0").to_dict()["gil_reenabled_by"] is None


# -- packages without free-threaded wheels (no interpreter needed) --------------------------------
def test_a_package_without_a_free_threaded_wheel_skips_its_workloads_saying_so():
    requirement = venvs.requirement_for("psycopg")
    pip_said = "Could not find a version that satisfies the requirement psycopg-binary==3.3.9"
    interp = {
        "label": "3.13.15t",
        "path": "/opt/python3.13t",
        "version": "3.13.15",
        "version_info": [3, 13, 15],
        "free_threaded_build": True,
        "worker_python": "/venv/bin/python",
        "venv": {"path": "/venv", "failed": {requirement: pip_said}},
        "missing_packages": ["psycopg"],
    }
    why = targets.missing_reason(get_workload("io.postgres"), interp)
    assert why.startswith(
        f"needs the Python package 'psycopg': no free-threaded (cp313t) wheel of {requirement} "
        "could be installed for 3.13.15t"
    )
    assert pip_said in why and "fix: measure it on a GIL build" in why
    assert targets.missing_reason(get_workload("cpu.count"), interp) is None


def test_a_failed_source_build_is_reported_as_pip_s_reason_not_its_hint():
    with open(os.path.join(FIXTURES, "pip-build-failed.txt")) as f:  # gilknocker on 3.13t
        output = f.read()
    reason = venvs._last_error(subprocess.CompletedProcess([], 1, "", output))
    assert reason.startswith(
        "no wheel for this Python; building from source failed (metadata-generation-failed): "
        "error: failed to get `pyo3`"
    )
    assert len(reason) <= 300
