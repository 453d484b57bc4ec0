"""The backend workloads and the hybrid strategy, on real servers, at small sizes.

Each run goes through the engine (fresh trial processes, checksums against sequential), so a
row that is ``ok`` computed the same results under every strategy. Speed targets live in
benchmarks/bench_backend.py; here only relations that hold on any 2-core machine.
"""

from __future__ import annotations

import os
import tempfile
import time

import psutil
import pytest

from conftest import TAG, load, run_cli
from gilbench.engine.session import Plan, Session
from gilbench.services.postgres import TempPostgres, find_pg_bindir
from gilbench.workloads import Call, Need, Workload, get_workload

needs_postgres = pytest.mark.skipif(
    find_pg_bindir() is None, reason="PostgreSQL server binaries not installed"
)


def measure(names: list[str], strategies: list[str], params: dict | None = None, **plan) -> dict:
    plan.setdefault("samples", 1)
    workloads = [get_workload(n) for n in names]
    doc = Session(Plan(workloads, strategies, params=params or {}, **plan)).run()
    return {(r.workload, r.strategy): r for r in doc.results}


def assert_all_ok(rows: dict, skipped: tuple[str, ...] = ()) -> None:
    for (workload, strategy), row in rows.items():
        if strategy in skipped:
            continue
        assert row.status == "ok", f"{workload} / {strategy}: {row.error or row.reason}"
        assert row.checksum == rows[(workload, "sequential")].checksum


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """This test's temporary files (the session's scratch directory included) go to tmp_path."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_call_round_trips_its_steps_and_fixture():
    call = Call("m:f", (1,), {"a": 2}, "m:af", io_func="m:io", cpu_func="m:cpu", fixture="m:db")
    assert Call.from_dict(call.to_dict()) == call
    assert Call.from_dict({"func": "m:f"}) == Call("m:f")


def test_cpu_and_native_workloads_give_the_same_results_everywhere(no_leftovers):
    sizes = {"docs": 1, "blocks": 1, "hash_mib": 8, "zlib_mib": 1, "matmuls": 4}
    rows = measure(
        ["cpu.json", "cpu.regex", "native.hashlib", "native.zlib", "native.numpy"],
        ["sequential", "threads", "processes"],
        sizes,
    )
    assert_all_ok(rows)
    for strategy in ("sequential", "threads", "processes"):
        assert "BLAS pinned to 1 thread" in rows[("native.numpy", strategy)].note


def test_numpy_sequential_uses_one_core_because_blas_is_pinned(no_leftovers):
    """An unpinned OpenBLAS spreads one matmul over every core: sequential would not be sequential.

    threadpoolctl only limits libraries already loaded, so pinning before numpy's import
    silently did nothing (sequential used 1.98 cores on this 2-core machine).
    """
    plan = Plan([get_workload("native.numpy")], ["sequential"], params={"matmuls": 400}, samples=1)
    row = Session(plan).run().results[0]
    assert row.status == "ok", row.error
    assert row.cpu_util < 1.3, row.cpu_util


def test_c_code_releasing_the_gil_leaves_it_free_and_cores_busy_unlike_c_code_holding_it():
    # Sized by calibration (--quick: ~0.1 s per task), so the relations hold on any machine.
    plan = Plan(
        [get_workload("native.hashlib"), get_workload("cpu.json")],
        ["sequential", "threads"],
        quick=True,
        samples=2,
    )
    doc = Session(plan).run()
    rows = {(r.workload, r.strategy): r for r in doc.results}
    assert_all_ok(rows)
    hashlib, json_ = rows[("native.hashlib", "threads")], rows[("cpu.json", "threads")]
    # The GIL, seen from inside the process: free while hashlib works, held in long stretches
    # (one C call each, > 20 ms) by json. Other load on the machine does not change this.
    assert hashlib.gil_contention is not None and json_.gil_contention is not None, (
        hashlib.reason,
        json_.reason,
    )
    assert hashlib.gil_contention < 0.3 < 0.7 < json_.gil_contention
    assert json_.gil_hold_ms > 20
    assert json_.cpu_util < 1.25  # one thread at a time, however many
    # Two threads keeping two cores busy needs a second core free: a core's worth of other
    # load (another run on this shared machine) takes it, and then both show about 1.
    if doc.environment["load_avg_1m"] < 0.8:
        assert hashlib.cpu_util > json_.cpu_util


def test_io_file_matches_and_leaves_no_files(private_tmp, no_leftovers):
    rows = measure(["io.file"], ["sequential", "threads", "processes", "hybrid"], {"files": 10})
    assert_all_ok(rows, skipped=("hybrid",))
    hybrid = rows[("io.file", "hybrid")]
    assert hybrid.status == "skipped" and "declares no I/O and CPU steps" in hybrid.reason
    assert os.listdir(private_tmp) == []


def test_io_file_task_removes_its_directory_whether_it_succeeds_or_fails(private_tmp, monkeypatch):
    from gilbench.workloads import files

    # In process, without the session's scratch directory that would hide a leak.
    assert files.write_fsync_read(3) == {"files": 3, "bytes": 3 * files.FILE_BYTES}
    assert os.listdir(private_tmp) == []

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        files.write_fsync_read(3)
    assert os.listdir(private_tmp) == []


def test_io_sqlite_matches_and_removes_its_database(private_tmp, no_leftovers):
    from gilbench.workloads import db

    rows = measure(["io.sqlite"], ["sequential", "threads", "processes"], {"queries": 2})
    assert_all_ok(rows)
    assert os.listdir(private_tmp) == []
    with (
        db.sqlite_database() as kwargs
    ):  # the per-trial fixture itself, outside any scratch directory
        assert os.path.dirname(kwargs["path"]).startswith(str(private_tmp))
        assert db.sqlite_queries(kwargs["path"], 1)[0][1] == 16  # one row per group
    assert os.listdir(private_tmp) == []


def _tagged_postgres() -> list[psutil.Process]:
    """PostgreSQL server processes started from this test session (they inherit its tag)."""
    found = []
    for p in psutil.process_iter(["name"]):
        try:
            if p.info["name"] == "postgres" and p.environ().get("GILBENCH_TEST_TAG") == TAG:
                found.append(p)
        except psutil.Error:
            continue
    return found


@needs_postgres
def test_io_postgres_overlaps_server_waits_and_stops_its_cluster(no_leftovers):
    assert _tagged_postgres() == []
    rows = measure(
        ["io.postgres"], ["sequential", "threads", "asyncio", "processes"], {"rounds": 2}
    )
    assert_all_ok(rows)
    # 8 tasks on 8 workers, each mostly pg_sleep: far closer to one task's time than to eight.
    assert rows[("io.postgres", "threads")].speedup > 3
    assert rows[("io.postgres", "asyncio")].speedup > 3
    assert rows[("io.postgres", "asyncio")].note is None  # it used psycopg's AsyncConnection
    assert _tagged_postgres() == []


@needs_postgres
def test_postgres_dsn_uses_the_given_server(tmp_path, no_leftovers):
    import psycopg

    out = tmp_path / "out.json"
    with TempPostgres() as pg:
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE given")
        proc = run_cli(
            "run",
            "-w",
            "io.postgres",
            "-s",
            "sequential",
            "-s",
            "threads",
            "--workers",
            "2",
            "--tasks",
            "2",
            "--samples",
            "1",
            "--postgres-dsn",
            pg.dsn.replace("dbname=postgres", "dbname=given"),
            "--json",
            str(out),
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        # The given database ran the queries:
        # 2 trials x (2 + 2 warm-up tasks) x 4 rounds x 3 queries.
        deadline = time.monotonic() + 5
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            while True:  # a backend reports its counts as it exits, just after the client left
                commits = conn.execute(
                    "SELECT xact_commit FROM pg_stat_database WHERE datname = 'given'"
                ).fetchone()[0]
                if commits >= 96 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        assert commits >= 96
    rows = {r["strategy"]: r for r in load(out)["results"]}
    assert rows["sequential"]["status"] == rows["threads"]["status"] == "ok"


def test_mixed_fetch_parse_matches_under_every_strategy_including_hybrid(no_leftovers):
    strategies = ["sequential", "threads", "processes", "asyncio", "hybrid"]
    rows = measure(["mixed.fetch_parse"], strategies, {"passes": 10})
    assert_all_ok(rows)
    assert (
        "I/O step in 2 threads, CPU step in 2 processes"
        in rows[("mixed.fetch_parse", "hybrid")].note
    )


def test_missing_package_or_program_skips_the_workload_with_the_fix():
    call = lambda p, s: Call("gilbench.workloads.io:sleep", kwargs={"seconds": 0.01})  # noqa: E731
    no_pkg = Workload(
        "test.no_pkg",
        "cpu",
        "needs a package",
        call,
        needs=(Need("package", "no_such_pkg_xyz", "pip install no_such_pkg_xyz"),),
    )
    no_bin = Workload(
        "test.no_bin",
        "io",
        "needs a program",
        call,
        needs=(Need("binary", "no_such_binary_xyz", "apt-get install xyz"),),
    )
    doc = Session(Plan([no_pkg, no_bin], ["sequential", "threads"], samples=1)).run()
    by_workload = {r.workload: r for r in doc.results}
    assert all(r.status == "skipped" for r in doc.results)
    assert "pip install no_such_pkg_xyz" in by_workload["test.no_pkg"].reason
    assert (
        "no_such_binary_xyz" in by_workload["test.no_bin"].reason
        and "apt-get install xyz" in by_workload["test.no_bin"].reason
    )
