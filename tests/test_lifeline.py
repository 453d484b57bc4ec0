"""Nothing gilbench starts outlives it (issue 14): a SIGKILLed gilbench leaves no process and no
data directory, a later run removes what a killed one left, and a trial ends what it leaked."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import jsonschema
import psutil
import pytest

from conftest import GILBENCH, ROOT, TAG, gilbench_processes, run_cli
from gilbench.engine.protocol import TrialSpec
from gilbench.engine.runner import run_trial
from gilbench.services import lifeline
from gilbench.services.postgres import find_pg_bindir
from gilbench.workloads import Call

TESTS = os.path.join(ROOT, "tests")
with open(os.path.join(ROOT, "src", "gilbench", "schema.json")) as _f:
    RUN_SCHEMA = json.load(_f)
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "src"), TESTS]))

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(
        not lifeline.available(), reason="the lifeline needs Linux's prctl and /proc"
    ),
]
needs_postgres = pytest.mark.skipif(
    find_pg_bindir() is None, reason="PostgreSQL server binaries not installed"
)


# -- helpers --------------------------------------------------------------------------------------
def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)


def cluster_dirs_of(owner_pid: int) -> list[str]:
    """Throwaway cluster directories whose owner marker names ``owner_pid``."""
    import glob
    import tempfile

    found = []
    for base in dict.fromkeys([tempfile.gettempdir(), "/tmp"]):
        for d in glob.glob(os.path.join(base, "gilbench-pg-*")):
            try:
                with open(os.path.join(d, lifeline.MARKER)) as f:
                    if f.read().split(".")[0] == str(owner_pid):
                        found.append(d)
            except OSError:
                continue
    return found


def cluster_processes(tmpdir: str) -> list[psutil.Process]:
    """Live PostgreSQL processes naming the cluster (their environment is overwritten by their
    titles, so the test tag cannot find them)."""
    name = os.path.basename(tmpdir)
    found = []
    for p in psutil.process_iter(["name", "cmdline", "status"]):
        if (
            p.info["name"] in ("postgres", "initdb")
            and name in " ".join(p.info["cmdline"] or ())
            and p.info["status"] != psutil.STATUS_ZOMBIE
        ):
            found.append(p)
    return found


def sleeps(arg: str, since: float, tagged: bool = True) -> list[psutil.Process]:
    """Live ``sleep ARG`` processes started after ``since`` (with this session's tag if
    ``tagged``)."""
    found = []
    for p in psutil.process_iter(["cmdline", "create_time", "status"]):
        try:
            if (
                p.info["cmdline"] == ["sleep", arg]
                and p.info["create_time"] >= since - 1
                and p.info["status"] != psutil.STATUS_ZOMBIE
                and (not tagged or p.environ().get("GILBENCH_TEST_TAG") == TAG)
            ):
                found.append(p)
        except psutil.Error:
            continue
    return found


def alive(procs: list[psutil.Process]) -> list[str]:
    left = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{p.pid}: {' '.join(p.cmdline())}")
        except psutil.Error:
            continue
    return left


# An owner that starts everything from a thread that then ends: no parent-death signal is set
# (it would fire when that thread exits), so only the watcher or a later run can end them.
OWNER_SCRIPT = """
import json, sys, threading, time
from gilbench.services import _process, lifeline
from gilbench.services.postgres import TempPostgres
out = {}
def start():
    # sh in its own session (the spawn), a sleep that leaves it for a session of its own
    out["sh"] = _process.spawn(["sh", "-c", "setsid sleep 301 & exec sleep 302"]).pid
    if "pg" in sys.argv:
        out["pg"] = TempPostgres().start().tmpdir
    out["watcher"] = lifeline.watcher_pid()
t = threading.Thread(target=start)
t.start()
t.join()
print(json.dumps(out), flush=True)
time.sleep(600)
"""


def start_owner(*args: str) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [sys.executable, "-c", OWNER_SCRIPT, *args],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
        start_new_session=True,
    )
    line = proc.stdout.readline()
    assert line, "the owner script printed nothing"
    return proc, json.loads(line)


# -- 1. SIGKILL of gilbench -----------------------------------------------------------------------
@needs_postgres
def test_sigkill_of_gilbench_leaves_no_process_and_no_data_directory(tmp_path):
    """...and a valid results file with every planned row, pending or measured."""
    before = {p.pid for p in gilbench_processes()}
    proc = subprocess.Popen(
        [*GILBENCH, "run", "-w", "io.postgres", "-w", "io.http", "-s", "sequential"]
        + ["-s", "threads", "--workers", "2", "--tasks", "2", "--json", str(tmp_path / "r.json")],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def started():
            dirs = cluster_dirs_of(proc.pid)
            ours = [p for p in gilbench_processes() if p.pid not in before]
            delay = [p for p in ours if "gilbench.services.delay_server" in " ".join(p.cmdline())]
            if proc.poll() is not None:
                raise AssertionError(f"gilbench ended first (exit code {proc.returncode})")
            return (dirs, ours) if dirs and cluster_processes(dirs[0]) and delay else None

        dirs, ours = wait_for(started, 180, "PostgreSQL and the delay server")
        postgres = [p for d in dirs for p in cluster_processes(d)]
        assert any(p.pid != proc.pid for p in ours)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        killed_at = time.monotonic()

        def all_gone():
            left = alive(postgres + [p for p in gilbench_processes() if p.pid not in before])
            left += [p for d in dirs for p in alive(cluster_processes(d))]
            return (not left and not any(os.path.exists(d) for d in dirs)) or None

        try:
            wait_for(all_gone, 5, "everything gilbench started to stop")
        except AssertionError:
            left = alive(postgres + [p for p in gilbench_processes() if p.pid not in before])
            raise AssertionError(
                f"left after {time.monotonic() - killed_at:.1f} s: {left}; "
                f"directories: {[d for d in dirs if os.path.exists(d)]}"
            ) from None
        # Written before the services started, rewritten after every trial.
        doc = json.loads((tmp_path / "r.json").read_text())
        jsonschema.validate(doc, RUN_SCHEMA)
        rows = {(r["workload"], r["strategy"], r["workers"]): r["status"] for r in doc["results"]}
        assert set(rows) == {
            (w, s, n)
            for w in ("io.postgres", "io.http")
            for s, n in (("sequential", 1), ("threads", 2))
        }, rows
        # io.postgres was measured before io.http's delay server started; io.http's rows were
        # in the file, pending, from the start
        assert set(rows.values()) <= {"pending", "ok"}, rows
        assert rows[("io.postgres", "sequential", 1)] == "ok", rows
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@needs_postgres
def test_the_watcher_alone_ends_what_was_started_off_the_main_thread():
    owner, started = start_owner("pg")
    try:
        watcher = psutil.Process(started["watcher"])
        tmpdir = started["pg"]
        postgres = cluster_processes(tmpdir)
        assert postgres and os.path.isdir(tmpdir)
        spawned = [p for p in gilbench_processes() if p.pid != owner.pid]
        assert len([p for p in spawned if "sleep" in p.name()]) == 2  # 302 and the escaped 301
        owner.kill()
        owner.wait()
        wait_for(
            lambda: not alive(spawned + postgres + cluster_processes(tmpdir) + [watcher])
            and not os.path.exists(tmpdir),
            5,
            "the watcher to end the children, stop the cluster and remove its directory",
        )
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


def test_a_released_lifeline_leaves_no_watcher(no_leftovers):
    from gilbench.services import _process

    proc = _process.spawn(["sleep", "30"])
    watcher = lifeline.watcher_pid()
    assert watcher is not None
    _process.stop(proc)
    assert lifeline.watcher_pid() is None
    assert not psutil.pid_exists(watcher) or psutil.Process(watcher).status() == "zombie"


def test_the_watcher_says_bye_quietly_and_ends_what_is_tagged_at_end_of_file():
    assert lifeline.watch("1.1", io.BytesIO(b"group 5 7\nbye\n")) == 0
    owner = "999999999.1"  # no such process
    sleeper = subprocess.Popen(
        ["sleep", "300"], env=dict(os.environ, **{lifeline.ENV: owner}), start_new_session=True
    )
    try:
        assert lifeline.watch(owner, io.BytesIO(b"cluster /nonexistent/gilbench-pg-x\n")) == 1
        assert sleeper.wait(timeout=5) == -signal.SIGKILL
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()


@needs_postgres
def test_a_later_run_removes_what_a_killed_run_and_its_watcher_left_and_says_so():
    owner, started = start_owner("pg")
    tmpdir = started["pg"]
    try:
        # The worst case: the watcher dies too (e.g. a kill of every process of the user).
        os.kill(started["watcher"], signal.SIGKILL)
        owner.kill()
        owner.wait()
        time.sleep(0.5)
        left = [p for p in gilbench_processes() if "sleep" in p.name()]
        assert len(left) == 2 and cluster_processes(tmpdir) and os.path.isdir(tmpdir)
        # A later gilbench process: its first service sweeps.
        later = subprocess.run(
            [
                sys.executable,
                "-c",
                "from gilbench.services.postgres import TempPostgres\n"
                "with TempPostgres() as pg: pass\n",
            ],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=60,
        )
        assert later.returncode == 0, later.stderr
        lines = later.stderr.strip().splitlines()
        assert any(
            "ended" in line and f"pid {owner.pid}" in line and "earlier gilbench run" in line
            for line in lines
        ), later.stderr
        assert any("removed a PostgreSQL cluster" in line and tmpdir in line for line in lines), (
            later.stderr
        )
        assert not alive(left + cluster_processes(tmpdir)) and not os.path.exists(tmpdir)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        lifeline.remove_cluster(tmpdir)


def test_only_clusters_whose_owner_died_are_swept(tmp_path):
    from gilbench.services.postgres import sweep_stale_clusters

    mine = tmp_path / "gilbench-pg-live"
    mine.mkdir()
    (mine / lifeline.MARKER).write_text(lifeline.owner() + "\n")
    no_marker = tmp_path / "gilbench-pg-nomarker"
    no_marker.mkdir()
    assert sweep_stale_clusters([str(tmp_path)]) == []
    assert mine.is_dir() and no_marker.is_dir()
    dead = tmp_path / "gilbench-pg-dead"
    dead.mkdir()
    (dead / lifeline.MARKER).write_text("999999999.1\n")
    assert sweep_stale_clusters([str(tmp_path)]) == [str(dead)]
    assert not dead.exists()


# -- 2. Leaked descendants of a trial -------------------------------------------------------------
def leaky(func: str, strategy: str = "sequential", tasks: int = 3, samples: int = 2) -> TrialSpec:
    call = Call(f"userfuncs.leaky:{func}").to_dict()
    return TrialSpec.measure(call, strategy, 2, tasks, samples, cwd=TESTS)


@pytest.mark.parametrize("strategy", ["sequential", "threads", "processes"])
def test_a_trial_ends_and_counts_the_processes_its_function_leaked(strategy, no_leftovers):
    t0 = time.time()
    out = run_trial(sys.executable, leaky("func", strategy), timeout=60)
    assert out.status == "ok", out.error
    assert out.leaked_processes >= 3 * 2  # one per call: at least the timed ones
    assert not sleeps("300", t0)


@pytest.mark.parametrize("late_s", [0.0, 1.0])
def test_a_leaked_process_without_the_trials_environment_is_found_through_the_subreaper(
    late_s, monkeypatch
):
    # late_s: the parent looks for the trial's processes that long after the worker's last
    # message, as a loaded machine may. The worker waits to be released, so its untagged
    # children are still its own (CI once lost them to init when the worker exited first).
    from gilbench.engine import runner

    look = runner.lifeline.trial_descendants

    def late(*args):
        time.sleep(late_s)
        return look(*args)

    monkeypatch.setattr(runner.lifeline, "trial_descendants", late)
    t0 = time.time()
    out = run_trial(sys.executable, leaky("func_clean_env"), timeout=60)
    assert out.status == "ok", out.error
    assert out.leaked_processes >= 3 * 2
    assert not sleeps("299", t0, tagged=False)


@pytest.mark.parametrize(
    "func, status, timeout", [("leak_then_hang", "timeout", 3), ("leak_then_exit", "error", 30)]
)
def test_leaks_are_ended_when_the_trial_times_out_or_its_worker_dies(
    func, status, timeout, no_leftovers
):
    t0 = time.time()
    out = run_trial(sys.executable, leaky(func, tasks=1, samples=1), timeout=timeout)
    assert out.status == status
    assert out.leaked_processes == 1
    assert not sleeps("300", t0)


def test_bench_quick_on_a_leaking_function_leaves_no_process(no_leftovers, tmp_path):
    t0 = time.time()
    out = tmp_path / "leaky.json"
    proc = run_cli(
        "bench", "leaky:func", "--quick", "--json", str(out), cwd=os.path.join(TESTS, "userfuncs")
    )
    assert proc.returncode == 0, proc.stderr
    assert not sleeps("300", t0)
    rows = [r for r in json.loads(out.read_text())["results"] if r["status"] == "ok"]
    assert rows and all(r["leaked_processes"] > 0 for r in rows)
    assert all("left" in r["note"] and "gilbench ended them" in r["note"] for r in rows)
