"""Every concurrency model Python has: other interpreters in their own venvs, subinterpreters,
free-threaded builds.

Uses the real pyenv interpreters 3.11, 3.12 and 3.13 (skipped, saying so, only where one is
absent). Their venvs live in the session's private cache (tests/conftest.py, never the user's):
the first test that needs one provisions it (about 20 s each, from pip's cache), later tests
reuse it.
"""

from __future__ import annotations

import glob
import io
import json
import os
import subprocess
import sys
import time
import warnings

import pytest
from rich.console import Console

from conftest import ROOT, run_cli
from gilbench.engine import environment, freethreading, targets, venvs
from gilbench.engine.runner import run_trial
from gilbench.engine.session import Plan, Session
from gilbench.report.interpreters import side_by_side_table, venvs_table
from gilbench.workloads import Call, Need, Workload, get_workload

pytestmark = pytest.mark.timeout(900)  # the session's first test provisions three venvs

FIXTURES = os.path.join(ROOT, "tests", "fixtures")
TESTS = os.path.join(ROOT, "tests")
PYENV = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def pyenv_python(minor: str) -> str:
    found = sorted(glob.glob(os.path.join(PYENV, "versions", f"3.{minor}.*", "bin", "python3")))
    if not found:
        pytest.skip(f"no pyenv CPython 3.{minor} under {PYENV}/versions on this machine")
    return found[-1]


def target(minor: str) -> dict:
    """The interpreter entry a run uses, its venv provisioned (reused from the cache)."""
    [interp] = targets.expand([pyenv_python(minor)])
    targets.provision([interp], [get_workload("cpu.count")])
    assert interp["venv"] and not interp.get("venv_error"), interp
    return interp


def trial(interp: dict, func: str, strategy: str = "interpreters", **kwargs) -> object:
    spec = {
        "call": Call(func, kwargs=kwargs).to_dict(),
        "strategy": strategy,
        "workers": 2,
        "tasks": 2,
        "samples": 1,
        "cwd": TESTS,
    }
    return run_trial(interp["worker_python"], spec, timeout=120, env=interp["env"])


# -- venvs ---------------------------------------------------------------------------------------
@pytest.fixture
def reqs(tmp_path, monkeypatch):
    """A private venv cache under tmp_path, and the worker requirements file it keys venvs by."""
    monkeypatch.setenv("GILBENCH_CACHE_DIR", str(tmp_path))
    path = tmp_path / "worker-requirements.txt"
    path.write_text("")
    monkeypatch.setattr(venvs, "REQUIREMENTS_FILE", path)
    return path


def test_provisioning_creates_a_venv_once_then_reuses_it_and_records_what_failed(tmp_path, reqs):
    base = pyenv_python("12")
    # One requirement pip rejects at once, offline: the venv is still made, the failure recorded.
    reqs.write_text("# test\n./no-such-project-dir\n")
    events: list[dict] = []
    t0 = time.monotonic()
    first = venvs.ensure(base, "3.12.1", "3.12.1", events.append)
    made_in = time.monotonic() - t0
    assert [e["step"] for e in events] == ["create", "install", "install-one", "ready"]
    assert first.path.startswith(str(tmp_path / "venvs" / "3.12.1-")) and os.access(
        first.python, os.X_OK
    )
    assert list(first.failed) == ["./no-such-project-dir"] and first.failed["./no-such-project-dir"]
    t0 = time.monotonic()
    again = venvs.ensure(base, "3.12.1", "3.12.1", events.append)
    assert time.monotonic() - t0 < min(1.0, made_in / 3)
    assert again == first and len(events) == 4  # reused: no further step
    assert [v.path for v in venvs.provisioned()] == [first.path]
    reqs.write_text("# other requirements\n")  # the requirements are part of the key: a new venv...
    assert str(venvs.venv_path(base, "3.12.1")) != first.path
    other = (
        tmp_path / "venvs" / "3.13.0-0123456789"
    )  # another interpreter's venv: not ours to remove
    other.mkdir()
    (other / venvs.MANIFEST).write_text(
        json.dumps(
            dict(first.to_dict(), path=str(other), base=sys.executable, python=sys.executable)
        )
    )
    events.clear()
    second = venvs.ensure(base, "3.12.1", "3.12.1", events.append)
    # ...and once it is ready, the one made for the old requirements is removed.
    assert events[-1] == {
        "type": "venv",
        "python": "3.12.1",
        "step": "removed-stale",
        "path": first.path,
    }
    assert not os.path.exists(first.path) and not os.path.exists(first.path + ".lock")
    assert sorted(v.path for v in venvs.provisioned()) == sorted([second.path, str(other)])


def test_a_half_made_venv_is_made_again(reqs):
    base = pyenv_python("12")
    path = venvs.venv_path(base, "3.12.1")
    path.mkdir(parents=True)
    (path / "leftover").write_text("an interrupted run")
    venv = venvs.ensure(base, "3.12.1", "3.12.1")
    assert not (path / "leftover").exists() and venvs.load(path) == venv


def test_the_interpreter_running_gilbench_needs_no_venv():
    assert not venvs.needs_venv(sys.executable)
    assert venvs.needs_venv(pyenv_python("12"))


# -- one interpreter, one identity ----------------------------------------------------------------
def pythons_own_identity(python: str) -> tuple[str, str]:
    """What makes an interpreter itself, as it says: its real binary and its environment."""
    out = subprocess.run(
        [
            python,
            "-c",
            "import os, sys; print(os.path.realpath(sys.executable)); print(sys.prefix)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return out[0], out[1]


def test_links_to_one_binary_are_one_interpreter_and_a_venv_is_not_its_base(tmp_path):
    base = pyenv_python("12")
    bindir = os.path.dirname(base)
    real = os.path.realpath(base)
    subprocess.run([real, "-m", "venv", "--without-pip", str(tmp_path / "v")], check=True)
    links = tmp_path / "links"
    links.mkdir()
    (links / "py").symlink_to(os.path.join(bindir, "python"))  # a link from elsewhere
    (links / "venv-py").symlink_to(tmp_path / "v" / "bin" / "python")  # no pyvenv.cfg beside it
    spellings = [
        *(os.path.join(bindir, n) for n in ("python", "python3", "python3.12")),
        str(links / "py"),
        str(links / "venv-py"),
        *(str(tmp_path / "v" / "bin" / n) for n in ("python", "python3", "python3.12")),
    ]
    canonical = {p: environment.canonical_python(p) for p in spellings}
    theirs = {p: pythons_own_identity(p) for p in spellings}
    # Same canonical path exactly when Python itself says same binary, same environment.
    for a in spellings:
        for b in spellings:
            assert (canonical[a] == canonical[b]) == (theirs[a] == theirs[b]), (a, b)
    assert len(set(canonical.values())) == 2
    assert {canonical[p] for p in spellings[:5]} == {real}
    venv_python = canonical[str(tmp_path / "v" / "bin" / "python3")]
    assert venv_python.startswith(os.path.realpath(tmp_path / "v") + os.sep)
    assert environment.canonical_python(venv_python) == venv_python  # already canonical
    assert environment.canonical_python("/no/such/python") == "/no/such/python"  # as given


def test_two_spellings_are_one_interpreter_one_venv_and_list_shows_it_once(reqs, monkeypatch):
    # `gilbench run --python <pyenv>/versions/3.12.1/bin/python` (the `python` link), then the
    # tests' `python3`: one entry, one venv, one manifest base, one line in `gilbench list`.
    bindir = os.path.dirname(pyenv_python("12"))
    spelled, other = os.path.join(bindir, "python"), os.path.join(bindir, "python3")
    real = os.path.realpath(spelled)
    [entry] = targets.expand([spelled, other])
    assert entry["path"] == real and entry["label"] == entry["version"]
    reqs.write_text("./no-such-project-dir\n")  # fails at once, offline: the venv is still made
    first = venvs.ensure(spelled, entry["label"], entry["version"])
    events: list[dict] = []
    again = venvs.ensure(other, entry["label"], entry["version"], events.append)
    assert again == first and events == []  # reused: nothing made
    assert (
        first.base == real and venvs.venv_path(other, "x").name == venvs.venv_path(real, "x").name
    )
    # A manifest an older gilbench wrote records the spelling; it is read as the interpreter.
    manifest = os.path.join(first.path, venvs.MANIFEST)
    with open(manifest) as f:
        data = json.load(f)
    with open(manifest, "w") as f:
        json.dump(dict(data, base=spelled), f)
    assert [v.base for v in venvs.provisioned()] == [real]
    monkeypatch.setenv("PATH", bindir + os.pathsep + os.environ["PATH"])  # python3 found there too
    from gilbench.cli import _found_interpreters

    found = [(path, venv) for path, info, _, venv in _found_interpreters() if info]
    mine = [(path, venv) for path, venv in found if os.path.realpath(path) == real]
    assert mine == [(real, first.path)]


def test_a_damaged_or_foreign_manifest_is_no_venv_not_an_error(reqs):
    root = venvs.venvs_dir()
    for name, text in (
        ("3.12.1-notjson000", "{not json"),
        ("3.12.1-notanobj00", "[1, 2]"),
        ("3.12.1-foreign000", json.dumps({"path": "x", "written_by": "a future gilbench"})),
        (
            "3.12.1-wrongtype0",
            json.dumps(
                dict.fromkeys(
                    (
                        "path",
                        "python",
                        "base",
                        "label",
                        "version",
                        "requirements_hash",
                        "created",
                        "packages",
                        "failed",
                    ),
                    1,
                )
            ),
        ),
    ):
        (root / name).mkdir(parents=True)
        (root / name / venvs.MANIFEST).write_text(text)
    (root / "3.12.1-halfmade00").mkdir()  # no manifest: an interrupted run
    assert venvs.provisioned() == []


def test_a_package_missing_in_the_target_venv_skips_the_row_with_the_fix():
    interp = target("12")
    needy = Workload(
        "test.needy",
        "cpu",
        "needs a package no venv has",
        lambda p, s: Call("userfuncs.funcs:fast"),
        needs=(Need("package", "gilbench_no_such_pkg"),),
    )
    interp["missing_packages"] = targets.missing_imports(
        interp["worker_python"], ["gilbench_no_such_pkg", "numpy", "json"]
    )
    assert interp["missing_packages"] == [
        "gilbench_no_such_pkg"
    ]  # numpy is in the venv, unlike this one
    why = targets.missing_reason(needy, interp)
    assert "'gilbench_no_such_pkg'" in why and interp["venv"]["path"] in why and "fix:" in why


# -- the interpreters strategy ---------------------------------------------------------------------
def test_interpreters_on_312_and_313_match_sequential_and_311_is_skipped_with_the_reason(
    monkeypatch,
):
    pythons = [pyenv_python("11"), pyenv_python("12"), pyenv_python("13")]
    monkeypatch.chdir(TESTS)
    plan = Plan(
        [get_workload("cpu.count")],
        ["sequential", "interpreters"],
        pythons=pythons,
        params={"count": 1_000_000},
        samples=2,
    )
    doc = Session(plan).run()
    rows = {(r.python[:4], r.strategy): r for r in doc.results}
    skipped = rows[("3.11", "interpreters")]
    assert (
        skipped.status == "skipped"
        and skipped.reason == "Python 3.11 has no per-interpreter GIL (needs 3.12+)"
    )
    for version, machinery in (("3.12", "_xxsubinterpreters"), ("3.13", "interpreters-pep-734")):
        seq, interp = rows[(version, "sequential")], rows[(version, "interpreters")]
        assert interp.status == "ok", interp.error
        assert interp.checksum == seq.checksum is not None
        assert machinery in interp.note
        assert (
            interp.startup_s is not None and interp.startup_s > 0
        )  # creating the interpreters, timed apart
    # Trials ran in each interpreter's venv, under its own label and version.
    for entry in doc.interpreters:
        assert (
            entry["worker_python"].startswith(entry["venv"]["path"])
            and entry["label"] == entry["version"]
        )


@pytest.mark.parametrize("minor", ["12", "13"])
def test_a_function_in_main_is_skipped_with_the_reason(minor):
    out = trial(target(minor), "__main__:f")
    assert out.status == "skipped", out.error
    assert "__main__" in out.reason and "subinterpreter" in out.reason


@pytest.mark.parametrize("minor", ["12", "13"])
def test_a_module_that_refuses_subinterpreters_is_skipped_with_the_reason(minor):
    interp = target(minor)
    assert (
        trial(interp, "userfuncs.numpy_funcs:total", strategy="sequential", n=10).status == "ok"
    )  # numpy is there
    out = trial(interp, "userfuncs.numpy_funcs:total", n=10)
    assert out.status == "skipped", out.error
    assert out.reason.startswith(
        "module userfuncs.numpy_funcs cannot be imported in a subinterpreter"
    )
    assert "numpy._core._multiarray_umath does not support loading in subinterpreters" in out.reason


@pytest.mark.parametrize("minor", ["12", "13"])
def test_a_refusing_module_imported_inside_the_task_is_skipped_when_the_warm_up_meets_it(minor):
    out = trial(target(minor), "userfuncs.lazy_numpy:total", n=10)
    assert out.status == "skipped", out.error
    assert out.reason.startswith(
        "the task imports a module that cannot be loaded in a subinterpreter: ImportError: module "
    )
    assert out.reason.endswith("does not support loading in subinterpreters")
    assert out.startup_s is not None and not out.samples


@pytest.mark.parametrize("minor", ["12", "13"])
def test_a_task_that_raises_in_a_subinterpreter_is_an_error_not_a_hang(minor):
    out = trial(target(minor), "userfuncs.funcs:boom")
    assert out.status == "error" and "this function always raises" in out.error


# -- free-threaded builds ------------------------------------------------------------------------
def recorded_probe(monkeypatch, real_path: str | None = None):
    """Make the probe answer as the recorded free-threaded 3.13.0 build does (the GIL state
    following PYTHON_GIL as CPython's does); ``real_path`` runs the trials in a real interpreter."""
    with open(os.path.join(FIXTURES, "probe-3.13.0t.json")) as f:
        recorded = {k: v for k, v in json.load(f).items() if not k.startswith("_")}

    def probe(path, env=None):
        info = dict(recorded, path=real_path or path)
        info["gil_enabled"] = (env or {}).get("PYTHON_GIL") == "1"
        info["label"] = info["version"] + "t"
        return info

    monkeypatch.setattr(environment, "probe_interpreter", probe)


def test_a_free_threaded_build_becomes_two_variants_default_and_gil_forced(monkeypatch):
    recorded_probe(monkeypatch)
    entries = targets.expand(["/opt/python3.13t/bin/python3.13t"])
    assert [(e["label"], e["env"], e["gil_enabled"]) for e in entries] == [
        ("3.13.0t", {"PYTHON_GIL": ""}, False),
        ("3.13.0t+gil", {"PYTHON_GIL": "1"}, True),
    ]
    assert all(
        e["free_threaded_build"] and e["path"] == "/opt/python3.13t/bin/python3.13t"
        for e in entries
    )
    summary = targets.support_summary(entries[0], ["threads", "interpreters"])
    assert "free-threaded" in summary and "3.13.0t and 3.13.0t+gil" in summary


def test_both_variants_run_their_trials_with_their_own_environment(monkeypatch):
    # A real 3.13 stands in for a free-threaded binary (tests/test_freethreaded.py runs a real
    # one), so what is checked is that each variant's PYTHON_GIL reaches its trials (1 is accepted
    # by any 3.13; 0 would be refused by a GIL build, which is also why the default variant sets
    # it empty).
    real = pyenv_python("13")
    recorded_probe(monkeypatch, real_path=real)
    monkeypatch.setattr(
        venvs, "needs_venv", lambda path: False
    )  # no venv for a pretend build in the cache
    monkeypatch.chdir(TESTS)
    probe = Workload(
        "test.gil_env",
        "cpu",
        "returns PYTHON_GIL",
        lambda p, s: Call("os:getenv", args=("PYTHON_GIL",)),
    )
    doc = Session(Plan([probe], ["sequential"], pythons=[real], samples=1)).run()
    assert [(r.python, r.status) for r in doc.results] == [("3.13.0t", "ok"), ("3.13.0t+gil", "ok")]
    assert doc.results[0].checksum != doc.results[1].checksum  # "" and "1": each saw its own


def test_the_gil_re_enabled_warning_names_the_module():
    with open(os.path.join(FIXTURES, "gil-reenabled-warning.txt")) as f:
        text = f.read()
    assert freethreading.reenabled_modules(text) == ["numpy._core._multiarray_umath"]
    assert freethreading.reenabled_modules(
        text + text.replace("numpy._core._multiarray_umath", "lxml.etree")
    ) == ["numpy._core._multiarray_umath", "lxml.etree"]
    assert freethreading.reenabled_modules("RuntimeWarning: something else") == []


def test_the_worker_notes_which_import_turned_the_gil_back_on(monkeypatch):
    with open(os.path.join(FIXTURES, "gil-reenabled-warning.txt")) as f:
        message = f.read().split("RuntimeWarning: ", 1)[1].strip()
    state = {"gil": False}
    monkeypatch.setattr(freethreading, "is_free_threaded_build", lambda: True)
    monkeypatch.setattr(freethreading, "gil_enabled", lambda: state["gil"])
    with warnings.catch_warnings(record=True) as shown:  # restores showwarning and the filters
        watch = freethreading.GilWatch()
        assert watch.note() is None
        state["gil"] = True  # what CPython does on the import, before it warns
        warnings.warn(message, RuntimeWarning, stacklevel=1)
    assert [str(w.message) for w in shown] == [message]  # still shown to the user, not swallowed
    assert (
        watch.note() == "GIL re-enabled by importing numpy._core._multiarray_umath "
        "(not declared free-threading-safe): this ran with the GIL"
    )
    assert watch.reenabled_by() == ["numpy._core._multiarray_umath"]  # the row's gil_reenabled_by


def test_a_gil_already_on_when_the_worker_starts_is_not_taken_for_free_threading(monkeypatch):
    # A free-threaded build whose GIL nobody asked for (PYTHON_GIL unset) is on before gilbench's
    # code runs: a .pth file or sitecustomize imported an undeclared extension, its warning gone.
    monkeypatch.setattr(freethreading, "is_free_threaded_build", lambda: True)
    monkeypatch.setattr(freethreading, "gil_enabled", lambda: True)
    with warnings.catch_warnings():
        watch = freethreading.GilWatch()
    assert watch.reenabled_by() == [freethreading.UNKNOWN_MODULE]
    assert "before gilbench's worker started" in watch.note()
    monkeypatch.setattr(freethreading, "is_free_threaded_build", lambda: False)  # a GIL build
    with warnings.catch_warnings():
        assert freethreading.GilWatch().reenabled_by() is None


# -- what the user sees ----------------------------------------------------------------------------
def test_list_pythons_shows_the_provisioned_venvs_and_what_each_interpreter_supports():
    interp = target("12")
    proc = run_cli("list", "--pythons", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (
        "Interpreters" in proc.stdout
        and "Provisioned venvs" in proc.stdout
        and "strategies" in proc.stdout
    )
    # wide enough that no cell folds, whatever other venvs (and their pip errors) the cache holds
    console = Console(width=3000, record=True, file=io.StringIO())
    console.print(venvs_table([v.to_dict() for v in venvs.provisioned()]))
    shown = console.export_text()
    line = next(line for line in shown.splitlines() if interp["venv"]["path"] in line)
    base = environment.canonical_python(pyenv_python("12"))  # the python3.12 its links reach
    assert f" {base} " in line and "numpy 2.4.6" in line and "dependencies" in line


def test_the_side_by_side_table_has_one_column_per_interpreter():
    def row(python, strategy, median, speedup, status="ok", reason=None):
        return {
            "workload": "cpu.count",
            "strategy": strategy,
            "workers": 2,
            "python": python,
            "status": status,
            "reason": reason,
            "error": None,
            "wall_s": {"median": median} if median else None,
            "speedup": speedup,
        }

    doc = {
        "results": [
            row("3.11.7", "sequential", 0.70, 1.0),
            row("3.11.7", "interpreters", None, None, "skipped", "needs 3.12+"),
            row("3.13.0", "sequential", 0.72, 1.0),
            row("3.13.0", "interpreters", 0.38, 1.89),
        ]
    }
    table = side_by_side_table(doc)
    assert [c.header for c in table.columns] == [
        "workload",
        "strategy",
        "workers",
        "3.11.7",
        "3.13.0",
    ]
    cells = [str(c) for c in table.columns[3]._cells] + [str(c) for c in table.columns[4]._cells]
    assert cells == ["0.700 s", "skipped: needs 3.12+", "0.720 s", "0.380 s  1.89x"]
    assert side_by_side_table({"results": doc["results"][:2]}) is None


def test_an_interpreter_too_old_for_the_worker_is_bad_input():
    old = pyenv_python("10")
    proc = run_cli("run", "-w", "cpu.count", "--python", old, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        proc.stderr.strip()
        == f"gilbench: error: {old}: Python 3.10 is too old for gilbench's worker (needs 3.11+)"
    )
