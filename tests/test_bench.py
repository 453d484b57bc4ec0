"""`gilbench bench MODULE:FUNC` as a user meets it: bad input, functions that misbehave, and
`gilbench.bench()` from Python. Verdicts on real speed belong in benchmarks/bench_bench.py."""

import json
import os
import time

import jsonschema
import pytest

from conftest import ROOT, load, run_cli
from gilbench.engine.session import MIN_SAMPLES

TESTS = os.path.join(ROOT, "tests")
SCHEMA = json.load(open(os.path.join(ROOT, "src", "gilbench", "schema.json")))
# Few strategies, one worker count, two samples: these tests check behaviour, not speed.
SMALL = ["-s", "sequential", "-s", "threads", "-s", "processes", "--workers", "2", "--samples", "2"]


def bench(*args, timeout=120):
    return run_cli("bench", *args, cwd=TESTS, timeout=timeout)


def one_line(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def rows_by_strategy(doc) -> dict:
    return {(r["strategy"], r["workers"]): r for r in doc["results"]}


@pytest.mark.parametrize(
    "args, words",
    [
        (["nosuchmodule:f"], "no module named 'nosuchmodule'"),
        (["userfuncs.funcs:nope"], "has no function 'nope'"),
        (["userfuncs.funcs:NOT_CALLABLE"], "is not callable"),
        (["userfuncs.funcs"], "expected MODULE:FUNC"),
        (["userfuncs.funcs:add", "--args", "[1"], "--args is not valid JSON"),
        (["userfuncs.funcs:add", "--kwargs", "[1]"], "--kwargs must be a JSON object"),
        (["userfuncs.funcs:add", "--setup", "userfuncs.funcs:nope"], "no --setup function 'nope'"),
        (["userfuncs.funcs:add", "-s", "fibers"], "unknown strategy 'fibers'"),
        (["userfuncs.funcs:add", "--json", "/nonexistent-dir/out.json"], "cannot write --json"),
    ],
)
def test_bad_input_exits_2_with_one_line_before_running_anything(args, words, tmp_path):
    t0 = time.monotonic()
    proc = bench(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert words in one_line(proc)
    assert time.monotonic() - t0 < 10


@pytest.mark.parametrize(
    "func, extra, status, words",
    [
        ("boom", [], "error", "raised ValueError: this function always raises"),
        ("die", [], "error", "ended the process it ran in (exit code 3)"),
        ("segfault", [], "error", "(killed by SIGSEGV)"),
        ("hang", ["--timeout", "2"], "timeout", "did not return within the 2 s timeout"),
        (
            "add",
            ["--setup", "userfuncs.funcs:setup_boom"],
            "error",
            "setup userfuncs.funcs:setup_boom failed: RuntimeError",
        ),
    ],
)
def test_a_function_that_fails_its_first_call_exits_1_with_one_line_and_a_results_file(
    func, extra, status, words, tmp_path, no_leftovers
):
    out = tmp_path / "out.json"
    t0 = time.monotonic()
    proc = bench(f"userfuncs.funcs:{func}", *extra, *SMALL, "--json", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert words in one_line(proc) and "nothing was measured" in proc.stderr
    assert (
        time.monotonic() - t0 < 20
    )  # nothing runs after the first call fails, however many trials
    doc = load(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["kind"] == "bench" and doc["results"]
    assert all(r["status"] == status and words in r["error"] for r in doc["results"])


def test_an_unpicklable_return_value_skips_processes_and_measures_the_rest(tmp_path, no_leftovers):
    out = tmp_path / "out.json"
    proc = bench("userfuncs.funcs:unpicklable_result", *SMALL, "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = rows_by_strategy(load(out))
    assert rows[("processes", 2)]["status"] == "skipped"
    assert "return value cannot be pickled" in rows[("processes", 2)]["reason"]
    assert rows[("sequential", 1)]["status"] == rows[("threads", 2)]["status"] == "ok"


def test_unpicklable_arguments_from_setup_skip_processes_and_measure_the_rest(
    tmp_path, no_leftovers
):
    out = tmp_path / "out.json"
    proc = bench(
        "userfuncs.funcs:use_lock",
        "--setup",
        "userfuncs.funcs:make_lock_args",
        *SMALL,
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = rows_by_strategy(load(out))
    assert (
        rows[("processes", 2)]["status"] == "skipped"
        and "not picklable" in rows[("processes", 2)]["reason"]
    )
    assert rows[("threads", 2)]["status"] == "ok" and rows[("threads", 2)]["wall_s"]["n"] == 2


def test_setup_args_json_and_a_bench_document(tmp_path):
    out = tmp_path / "out.json"
    proc = bench(
        "userfuncs.funcs:add",
        "--setup",
        "userfuncs.funcs:setup_pair",
        "--tasks",
        "8",
        *SMALL,
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = load(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["kind"] == "bench" and {r["tasks"] for r in doc["results"]} == {8}
    assert all(r["status"] == "ok" for r in doc["results"])  # the results agree across strategies
    assert [e["strategy"] for e in doc["scaling"]] == ["threads", "processes"]
    rec = doc["recommendations"][0]
    assert rec["workload"] == "userfuncs.funcs:add" and rec["why"]
    proc = bench(
        "userfuncs.funcs:add",
        "--args",
        "[3]",
        "--kwargs",
        '{"y": 4}',
        "--tasks",
        "4",
        "-s",
        "threads",
        "--workers",
        "2",
        "--samples",
        "1",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_coroutine_function_runs_natively_under_asyncio(tmp_path):
    out = tmp_path / "out.json"
    proc = bench(
        "userfuncs.funcs:sleepy_async",
        "--kwargs",
        '{"seconds": 0.02}',
        "-s",
        "asyncio",
        "-s",
        "threads",
        "--workers",
        "4",
        "--samples",
        "2",
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = rows_by_strategy(load(out))
    assert (
        rows[("asyncio", 4)]["status"] == "ok" and rows[("asyncio", 4)]["note"] is None
    )  # no to_thread fallback
    assert rows[("asyncio", 4)]["speedup"] > 2  # four 20 ms waits overlap


def test_asyncio_is_left_out_for_a_plain_function_unless_named(tmp_path):
    """A plain function under asyncio is asyncio.to_thread, the threads row again: bench leaves
    it out with the reason unless -s names asyncio; a coroutine function keeps its row."""
    common = ["--workers", "2", "--tasks", "2", "--samples", "1"]
    found = {}
    for name, func, extra in (
        ("plain", "userfuncs.funcs:sleepy", []),
        ("named", "userfuncs.funcs:sleepy", ["-s", "sequential", "-s", "asyncio"]),
        ("coroutine", "userfuncs.funcs:sleepy_async", []),
    ):
        out = tmp_path / f"{name}.json"
        proc = bench(func, "--kwargs", '{"seconds": 0.02}', *common, *extra, "--json", str(out))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        found[name] = rows_by_strategy(load(out))[("asyncio", 2)]
    assert found["plain"]["status"] == "skipped"
    assert "to_thread" in found["plain"]["reason"] and "-s asyncio" in found["plain"]["reason"]
    assert found["named"]["status"] == "ok" and "to_thread" in found["named"]["note"]
    assert found["coroutine"]["status"] == "ok" and found["coroutine"]["note"] is None


def test_results_that_vary_between_calls_are_not_compared_and_say_so(tmp_path):
    out = tmp_path / "out.json"
    proc = bench("userfuncs.funcs:varies", *SMALL, "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = load(out)
    assert all(r["status"] == "ok" for r in doc["results"])
    assert any(w["code"] == "results-vary" for w in doc["warnings"])


def test_gil_contention_is_on_the_rows_where_it_means_something(tmp_path):
    out = tmp_path / "out.json"
    proc = bench(
        "userfuncs.funcs:py_loop",
        "--kwargs",
        '{"n": 200000}',
        "--tasks",
        "6",
        *SMALL,
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = rows_by_strategy(load(out))
    for key in (("sequential", 1), ("threads", 2)):  # Python code keeps the GIL busy
        assert 0.5 < rows[key]["gil_contention"] <= 1 and rows[key]["gil_hold_ms"] > 0, rows[key]
    assert rows[("processes", 2)]["gil_contention"] is None
    assert "each process has its own GIL" in rows[("processes", 2)]["reason"]


def test_default_strategies_leave_dask_out_and_say_how_to_add_it():
    from gilbench import userbench

    cwd = os.getcwd()
    os.chdir(TESTS)
    try:
        target = userbench.check_target("userfuncs.funcs:fast")
        prepared = userbench.prepare(target, ["sequential", "threads", "dask"], workers=[1, 2])
        asked = userbench.prepare(target, ["sequential", "dask"], requested=["dask"], workers=[2])
    finally:
        os.chdir(cwd)
    assert "-s all" in prepared.plan.skip["dask"] and "dask" not in asked.plan.skip
    assert prepared.plan.tasks % 2 == 0 and prepared.plan.kind == "bench"


def test_the_python_api(monkeypatch):
    from rich.console import Console

    import gilbench
    from userfuncs import funcs

    monkeypatch.chdir(TESTS)
    result = gilbench.bench(
        funcs.add,
        args=[1],
        kwargs={"y": 2},
        tasks=4,
        workers=[2],
        strategies=["threads"],
        samples=2,
    )
    assert not result.failed and result.recommendation["workload"] == "userfuncs.funcs:add"
    assert json.loads(result.to_json())["kind"] == "bench"
    console = Console(width=150, record=True)
    console.print(result.table())
    assert "Verdict" in console.export_text()
    failed = gilbench.bench("userfuncs.funcs:boom", strategies=["threads"], workers=[2])
    assert failed.failed and "ValueError" in failed.problem and failed.recommendation is None
    with pytest.raises(ValueError, match="define it at module level"):
        gilbench.bench(lambda: 1)
    with pytest.raises(ValueError, match="JSON"):
        gilbench.bench(funcs.add, args=[object()])


def test_a_time_budget_starts_no_round_projected_past_it_and_says_so(monkeypatch):
    from gilbench.engine.session import Plan, Session
    from gilbench.workloads import Call, Workload

    monkeypatch.chdir(TESTS)
    w = Workload(
        "userfuncs.funcs:fast",
        "user",
        "",
        lambda p, s: Call("userfuncs.funcs:fast"),
        default_tasks=4,
    )
    doc = Session(Plan([w], ["sequential", "threads"], workers=[2], budget_s=0.001)).run()
    # The first round always runs (one sample each: nothing to project from before it); the
    # second, projected from it, would pass the budget and is not started.
    assert {r.wall_s["n"] for r in doc.results} == {1}
    [said] = [x.message for x in doc.warnings if x.code == "fewer-samples"]
    assert f"1 sample(s) per measurement instead of {MIN_SAMPLES}" in said


def test_trials_that_cannot_fit_in_the_timeout_are_not_started_and_say_why(tmp_path, no_leftovers):
    # 200 results of 32 MiB: checking them alone takes seconds, whatever the strategy, so no
    # trial can fit in 2 s. Before, each of the 5 rows waited out its own timeout.
    out, timeout = tmp_path / "out.json", 2
    t0 = time.monotonic()
    proc = bench(
        "userfuncs.funcs:big_bytes",
        "--tasks",
        "200",
        *["-s", "sequential", "-s", "threads", "-s", "processes", "--workers", "1,2"],
        *["--samples", "2", "--timeout", str(timeout), "--json", str(out)],
    )
    elapsed = time.monotonic() - t0
    assert proc.returncode == 1, proc.stdout + proc.stderr  # as for a timeout
    assert elapsed < 3 * timeout + 3, f"took {elapsed:.1f} s"
    doc = load(out)
    jsonschema.validate(doc, SCHEMA)
    assert len(doc["results"]) == 5
    for row in doc["results"]:
        assert row["status"] == "skipped" and row["wall_s"] is None
        assert row["reason"].startswith("not run: a trial needs at least"), row["reason"]
        assert f"over --timeout {timeout} s" in row["reason"]
        assert "+ checking 200 results of 34 MB x" in row["reason"]
    assert "not run: a trial needs at least" in proc.stdout + proc.stderr


def test_the_checksum_reads_bytes_and_text_as_they_are():
    from gilbench.engine.checksum import checksum

    big = b"x" * (64 << 20)
    t0 = time.perf_counter()
    assert checksum([big]) == checksum([bytes(big)])
    assert time.perf_counter() - t0 < 2  # through repr and JSON it took about 1 s per 64 MiB
    assert checksum([b"a"]) != checksum([bytearray(b"a")]) != checksum(["a"])
    assert checksum([memoryview(b"abcdef")[::2]]) == checksum([memoryview(b"ace")])
    assert checksum([{"b": {1, 2}, "a": b"x"}]) == checksum([{"a": b"x", "b": {2, 1}}])
    assert checksum([[1, 2]]) != checksum([1, 2]) != checksum([2, 1])


def test_default_workers_start_at_two_as_sequential_is_the_one_worker_point():
    from gilbench.userbench import default_workers

    assert default_workers(2) == [2, 4]
    assert default_workers(8) == [2, 4, 16]
    assert all(1 not in default_workers(c) for c in (1, 2, 3, 64))
