"""The command line as a user meets it: bad input, list, doctor, and a real run."""

import json
import os
import signal
import subprocess
import time

import jsonschema
import pytest

from conftest import GILBENCH, ROOT, assert_no_leftovers, gilbench_processes, load, run_cli

SCHEMA = json.load(open(os.path.join(ROOT, "src", "gilbench", "schema.json")))


@pytest.mark.parametrize(
    "args, words",
    [
        (["run", "--workers", "0"], "--workers"),
        (["run", "-w", "cpu.nope"], "unknown workload 'cpu.nope'"),
        (["run", "-s", "fibers"], "unknown strategy 'fibers'"),
        (["run", "--json", "/nonexistent-dir/out.json"], "cannot write --json"),
        (["run", "--python", "/no/such/python"], "no Python at /no/such/python"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, words):
    proc = run_cli(*args, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_list_names_every_contract_workload_and_strategy():
    proc = run_cli("list", timeout=60)
    assert proc.returncode == 0, proc.stderr
    for name in (
        "cpu.count",
        "io.sleep",
        "io.http",
        "sequential",
        "threads",
        "processes",
        "asyncio",
        "interpreters",
    ):
        assert name in proc.stdout


def test_doctor_reports_cores_and_starts_the_delay_server(no_leftovers):
    proc = run_cli("doctor", timeout=60)
    assert proc.returncode in (0, 1)
    assert "usable cores" in proc.stdout and "delay server" in proc.stdout
    assert "process-to-process speed: the same loop in 8 fresh interpreters" in " ".join(
        proc.stdout.split()
    )


def test_doctor_warns_when_fresh_processes_differ_in_speed():
    from gilbench.engine.doctor import speed_check

    steady = speed_check([0.0200, 0.0202, 0.0199, 0.0201])
    assert steady.status == "ok" and "19.9-20.2 ms (spread 1% of the median)" in steady.detail
    uneven = speed_check([0.020, 0.023, 0.026, 0.021])
    assert uneven.status == "warn" and "27%" in uneven.detail and "--samples" in uneven.detail


def test_run_writes_a_valid_document_whose_numbers_tell_the_posts_story(tmp_path, no_leftovers):
    out = tmp_path / "out.json"
    proc = run_cli(
        "run",
        "-w",
        "cpu.count",
        "-w",
        "io.http",
        "-s",
        "sequential",
        "-s",
        "threads",
        "-s",
        "processes",
        "-s",
        "asyncio",
        "--count",
        "3000000",
        "--delay",
        "0.3",
        "--samples",
        "3",
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = load(out)
    jsonschema.validate(doc, SCHEMA)
    rows = {(r["workload"], r["strategy"]): r for r in doc["results"]}
    assert all(r["status"] == "ok" for r in rows.values()), [r["error"] for r in rows.values()]
    # The GIL lets one thread run Python at a time: CPU/wall stays near 1 however many threads.
    # (Whether processes reach 2 cores depends on what else the machine runs: benchmarks/ checks
    # that.)
    assert rows[("cpu.count", "threads")]["cpu_util"] < 1.25
    # Five 0.3 s calls overlap under threads and asyncio: far closer to one delay than to five.
    for strategy in ("threads", "asyncio"):
        assert rows[("io.http", strategy)]["speedup"] > 3.0
        low, high = rows[("io.http", strategy)]["speedup_ci95"]
        assert low <= rows[("io.http", strategy)]["speedup"] <= high
    assert rows[("io.http", "asyncio")]["note"] is None  # it used its native aiohttp variant
    recs = {r["workload"]: r for r in doc["recommendations"]}
    assert recs["io.http"]["classification"] == "io"
    assert recs["io.http"]["strategy"] in ("threads", "asyncio")
    assert "The post's table" in proc.stdout and "I/O-bound" in proc.stdout


def test_results_that_differ_from_sequential_are_an_error(tmp_path):
    from gilbench.engine.session import Plan, Session
    from gilbench.workloads import Call, Workload

    racy = Workload(
        "test.racy",
        "cpu",
        "returns a counter",
        lambda p, s: Call("userfuncs.funcs:racy"),
        default_tasks=2,
        default_workers=2,
    )
    cwd = os.getcwd()
    os.chdir(os.path.join(ROOT, "tests"))
    try:
        doc = Session(Plan([racy], ["sequential", "threads"], samples=1)).run()
    finally:
        os.chdir(cwd)
    threads = next(r for r in doc.results if r.strategy == "threads")
    assert threads.status == "error" and "differ from sequential" in threads.error


def test_ctrl_c_stops_everything_within_2_s_and_keeps_valid_json(tmp_path):
    before = {p.pid for p in gilbench_processes()}
    out = tmp_path / "out.json"
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    proc = subprocess.Popen(
        [
            *GILBENCH,
            "run",
            "-w",
            "io.sleep",
            "-w",
            "io.http",
            "-s",
            "sequential",
            "-s",
            "threads",
            "-s",
            "processes",
            "--sleep",
            "0.2",
            "--delay",
            "5",
            "--json",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    # Wait until io.http is under way: io.sleep is measured (the file lists every planned row from
    # the start, "pending" until measured), so the delay server is up or starting.
    while time.monotonic() < deadline:
        rows = load(out)["results"] if out.exists() else []
        sleep_rows = [r for r in rows if r["workload"] == "io.sleep"]
        if sleep_rows and all(r["status"] != "pending" for r in sleep_rows):
            break
        time.sleep(0.2)
    time.sleep(1.0)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert time.monotonic() - t0 < 2.5
    assert proc.returncode == 130
    assert "interrupted" in err
    doc = load(out)
    jsonschema.validate(doc, SCHEMA)
    assert any(r["workload"] == "io.sleep" and r["status"] == "ok" for r in doc["results"])
    assert_no_leftovers(before)


def test_the_default_run_leaves_out_dask_and_to_thread_asyncio_and_all_brings_them(
    tmp_path, no_leftovers
):
    found = {}
    for name, extra in (("default", []), ("all", ["-s", "all"])):
        out = tmp_path / f"{name}.json"
        proc = run_cli(
            "run", "-w", "cpu.count", "--count", "200000", "--workers", "2", "--samples", "1",
            "--json", str(out), *extra, timeout=180,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        jsonschema.validate(load(out), SCHEMA)
        found[name] = {r["strategy"]: r for r in load(out)["results"]}
    default, every = found["default"], found["all"]
    assert default["dask"]["status"] == "skipped"
    assert "left out of the default run" in default["dask"]["reason"]
    assert "-s all" in default["dask"]["reason"]
    assert default["asyncio"]["status"] == "skipped" and "to_thread" in default["asyncio"]["reason"]
    assert "pool" not in default  # opt-in: only when named
    assert every["dask"]["status"] == "ok" and every["pool"]["status"] == "ok"
    assert every["asyncio"]["status"] == "ok" and "to_thread" in every["asyncio"]["note"]


def test_quick_run_leaves_out_what_adds_time_but_no_news_with_a_reason(tmp_path, no_leftovers):
    out = tmp_path / "quick.json"
    proc = run_cli(
        "run", "--quick", "-w", "io.sleep", "-w", "cpu.count", "--json", str(out), timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {(r["workload"], r["strategy"]): r for r in load(out)["results"]}
    for workload in ("io.sleep", "cpu.count"):
        dask = rows[(workload, "dask")]
        assert dask["status"] == "skipped" and "-s dask" in dask["reason"]
    assert (
        rows[("io.sleep", "threads")]["status"] == "ok"
        and rows[("io.sleep", "threads")]["speedup"] > 3
    )
    # asyncio stays where the workload has a coroutine; elsewhere it would repeat the threads row.
    assert rows[("io.sleep", "asyncio")]["status"] == "ok"
    assert (
        rows[("cpu.count", "asyncio")]["status"] == "skipped"
        and "to_thread" in rows[("cpu.count", "asyncio")]["reason"]
    )
    jsonschema.validate(load(out), SCHEMA)
