"""The web lab against real Uvicorn, a real delay server and real load, on loopback.

Assertions are relations that hold on any machine (async-blocking far below async-io,
sync-io capped near threadpool/delay), not absolute timings. Small thread pools and short
delays keep the whole file well under 90 s.

Every process the lab starts inherits the session's GILBENCH_TEST_TAG (conftest) through
``_process.child_env``, so a leftover one is found by its environment even after its
parent died and its command line says only ``multiprocessing.spawn``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from rich.console import Console

from conftest import assert_no_leftovers, gilbench_processes, leftovers
from gilbench.engine.environment import usable_cores
from gilbench.report.web import web_table
from gilbench.services._process import live_members
from gilbench.services.delay_server import DelayServer
from gilbench.weblab import UsageError, command
from gilbench.weblab.lab import run_lab
from gilbench.weblab.loadgen import LoadGenerator, LoadSpec, window_share
from gilbench.weblab.server import UvicornServer
from gilbench.weblab.theory import format_lessons

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module", autouse=True)
def baseline() -> set[int]:
    """This session's processes before the module; at its end, nothing more may be alive."""
    before = {p.pid for p in gilbench_processes()}
    yield before
    assert_no_leftovers(before)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args(argv)


def quiet_console() -> Console:
    return Console(file=io.StringIO(), width=200)


@pytest.mark.parametrize(
    "argv",
    [
        ["--concurrency", "0"],
        ["--concurrency", "a,b"],
        ["--concurrency", ","],
        ["--server-workers", "0"],
        ["--delay", "-1"],
        ["--delay", "soon"],
        ["--delay", "11"],
        ["--duration", "0"],
        ["--threadpool", "0"],
        ["--threadpool", "1.5"],
        ["--variant", "sync-io", "--variant", "nope"],
        ["--open-loop-rate", "-5"],
        ["--repeat", "0"],
        ["--repeat", "twice"],
        ["--json", "/no/such/dir/web.json"],
    ],
)
def test_bad_input_raises_usage_error(argv: list[str], baseline: set[int]) -> None:
    with pytest.raises(UsageError):
        command.measure(parse(argv), quiet_console())
    assert leftovers(baseline, grace=0) == []


def test_usage_error_is_a_value_error() -> None:
    assert issubclass(UsageError, ValueError)


@pytest.fixture(scope="module")
def io_lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, str, str]:
    """One small lab through the command: 8 users, a 4-thread pool, 0.2 s delay."""
    folder = tmp_path_factory.mktemp("web")
    path = folder / "web.json"
    args = parse([
        "--variant", "sync-io", "--variant", "async-blocking", "--variant", "async-io",
        "--concurrency", "8", "--server-workers", "1", "--delay", "0.2", "--threadpool", "4",
        "--duration", "1.5", "--quick", "--json", str(path),
    ])  # fmt: skip
    console = quiet_console()
    doc = command.measure(args, console)
    command.print_results(doc, console)
    code = 1 if command.failed(doc) else 0
    return code, json.loads(path.read_text()), console.file.getvalue(), str(folder)


def by_variant(doc: dict) -> dict[str, dict]:
    return {row["variant"]: row for row in doc["web_results"]}


def test_lab_json_shape(io_lab: tuple[int, dict, str, str]) -> None:
    code, doc, _, folder = io_lab
    assert code == 0
    assert doc["schema"] == "gilbench/1" and doc["kind"] == "web"
    assert {"cpu_count", "load_avg_1m", "python", "uvicorn", "loop", "http"} <= set(
        doc["environment"]
    )
    assert doc["config"]["delay_s"] == 0.2 and doc["config"]["threadpool"] == 4
    assert doc["config"]["concurrency"] == [8] and doc["config"]["server_workers"] == [1]
    assert doc["config"]["variants"] == ["sync-io", "async-blocking", "async-io"]
    assert doc["generator_ceiling_rps"] > 0
    assert isinstance(doc["warnings"], list)
    assert all(set(w) == {"code", "message"} for w in doc["warnings"])
    assert len(doc["web_results"]) == 3
    for row in doc["web_results"]:
        assert {
            "variant", "concurrency", "server_workers", "threadpool", "mode", "rps", "requests",
            "errors", "timeouts", "latency_ms", "server_cpu_s", "generator_cpu_s",
            "above_half_ceiling", "expected_rps", "lesson",
        } <= set(row)  # fmt: skip
        assert set(row["latency_ms"]) == {"p50", "p95", "p99", "max"}
        assert row["mode"] == "closed" and row["error"] is None
        assert row["requests"] > 0 and row["lesson"]
        assert row["server_cpu_s"] >= 0 and row["generator_cpu_s"] >= 0
        # Nothing answers faster than the slow service it waits for.
        assert row["latency_ms"]["p50"] >= 200
        assert not row["above_half_ceiling"]
    json.dumps(doc, allow_nan=False)
    assert not [name for name in os.listdir(folder) if name.startswith(".gilbench-web-")]


def test_lab_throughput_follows_queueing_theory(io_lab: tuple[int, dict, str, str]) -> None:
    _, doc, output, _ = io_lab
    rows = by_variant(doc)
    sync_io, blocking, async_io = rows["sync-io"], rows["async-blocking"], rows["async-io"]
    assert sync_io["expected_rps"] == 20.0  # min(8 users, 4 threads) / 0.2 s
    assert async_io["expected_rps"] == 40.0  # 8 users / 0.2 s
    assert blocking["expected_rps"] == 5.0  # 1 event loop / 0.2 s
    # async def + requests serialises: far below the async client at the same concurrency.
    assert blocking["rps"] < 0.3 * async_io["rps"]
    assert blocking["rps"] <= 1.3 * blocking["expected_rps"]
    # def + requests is capped by the thread pool, not by the users.
    assert 0.75 * 20 <= sync_io["rps"] <= 1.15 * 20
    assert sync_io["rps"] < 0.75 * async_io["rps"]
    assert async_io["rps"] >= 0.75 * 40
    assert "sync-io" in output and "Claim check" in output


def test_sync_cpu_scales_with_server_workers_not_threads() -> None:
    """4 threads share one GIL (at most ~1 core); a second worker process adds a core.

    Each cell is measured three times on fresh servers and the median run kept. The
    scaling figure needs the cores to be ours: when other programs burnt more than a
    quarter of a core during a window (the lab's ``other_cpu_s``), measure again, and skip
    if the machine stays busy.
    """
    if usable_cores() < 2:
        pytest.skip("needs 2 cores")
    for _attempt in range(2):
        doc = run_lab(
            ["sync-cpu"], [8], [1, 2], delay=0.2, duration=1.5, threadpool=4, quick=True, repeat=3
        )
        assert len(doc["web_results"]) == 2  # one row per cell, however many runs
        one, two = sorted(doc["web_results"], key=lambda row: row["server_workers"])
        assert one["error"] is None and two["error"] is None
        for row in (one, two):
            assert row["attempts"] == 3 and len(row["rps_runs"]) == 3
            assert row["rps"] == sorted(row["rps_runs"])[1]  # the median run
        # However many threads, one process running pure Python uses about one core.
        assert one["server_cpu_s"] / one["window_s"] <= 1.2
        busy = max(one["other_cpu_s"], two["other_cpu_s"]) / one["window_s"]
        if busy <= 0.25:
            break
    else:
        pytest.skip(f"other programs used {busy:.2f} cores during the windows")
    assert two["rps"] >= 1.3 * one["rps"], (one["rps"], two["rps"], doc["warnings"])
    assert "x the 1-worker" in two["lesson"] and "--repeat" not in two["lesson"]  # a median already


def test_cpu_lesson_explains_the_scaling_and_says_when_it_rests_on_one_run() -> None:
    from gilbench.weblab.theory import explain, new_row

    def cpu_row(
        variant: str, workers: int, rps: float, server_cpu: float, runs: list[float]
    ) -> dict:
        row = new_row(variant, 50, workers, 40, "closed", None)
        row.update(rps=rps, server_cpu_s=server_cpu, window_s=5.0, other_cpu_s=0.0, rps_runs=runs)
        return row

    doc = {"config": {"delay_s": 0.5}, "generator_ceiling_rps": 10_000.0, "web_results": [
        cpu_row("sync-cpu", 1, 38.8, 5.0, [38.8]), cpu_row("sync-cpu", 2, 64.3, 8.6, [64.3]),
        cpu_row("async-cpu", 2, 69.9, 9.8, [69.9]),
    ]}  # fmt: skip
    for row in doc["web_results"]:
        explain(row, doc, cpu_s=0.030, cores=2)
    lesson = doc["web_results"][1]["lesson"]
    assert "1.66x the 1-worker 39 RPS" in lesson and "its 2 cores 86% busy" in lesson
    assert "--repeat 3 takes a median" in lesson  # a single run each
    assert "async-cpu (one thread a worker) kept them 98% busy" in lesson  # where the rest went


@pytest.mark.parametrize("phase", [0.0, 0.13, 0.5, 0.77, 0.999])
def test_window_share_does_not_depend_on_phase(phase: float) -> None:
    """Back-to-back requests of 1.4 s, as a user of a batch-answering server sees them.

    Whole completions in a 2 s window are 1 or 2 depending on where the batches fall; the
    shares of the requests' lifetimes inside the window always add up to 2 / 1.4.
    """
    life, start, end = 1.4, 10.0, 12.0
    sends = [start - 3 * life + phase * life + i * life for i in range(8)]
    shares = [window_share(sent, sent + life, start, end) for sent in sends]
    completions = sum(start <= sent + life < end for sent in sends)
    assert completions in (1, 2)
    assert sum(shares) == pytest.approx((end - start) / life)
    assert all(0.0 <= share <= 1.0 for share in shares)


def test_keep_median_picks_the_middle_run_and_skips_failures() -> None:
    from gilbench.weblab.theory import keep_median

    def run(rps: float | None, error: str | None = None) -> dict:
        return {"rps": rps, "error": error}

    rows: list[dict] = [{"rps": 1.0, "error": None}]
    runs = [run(50.0)]
    keep_median(rows, runs)
    assert rows[1] is runs[0] and rows[1]["attempts"] == 1
    runs += [run(70.0), run(None, "load generator: died"), run(60.0)]
    keep_median(rows, runs)
    assert (
        len(rows) == 2 and rows[1]["rps"] == 60.0
    )  # median of 50, 60, 70; the failed run left out
    assert rows[1]["rps_runs"] == [50.0, 70.0, None, 60.0] and rows[1]["attempts"] == 4
    failed = [run(None, "server did not start")]
    keep_median(rows, failed)
    assert rows[2]["error"] == "server did not start"


def test_window_share_edges() -> None:
    assert window_share(1.0, 2.0, 0.0, 5.0) == 1.0  # wholly inside
    assert window_share(6.0, 7.0, 0.0, 5.0) == 0.0  # after the window
    assert window_share(-2.0, -1.0, 0.0, 5.0) == 0.0  # before it
    assert window_share(-1.0, 1.0, 0.0, 5.0) == pytest.approx(0.5)  # straddles the start
    assert window_share(4.0, 6.0, 0.0, 5.0) == pytest.approx(0.5)  # straddles the end
    assert window_share(3.0, 3.0, 0.0, 5.0) == 1.0  # instantaneous, inside


def test_open_loop_counts_latency_from_intended_send_time() -> None:
    """30 RPS offered to a server that does 10: the queue must show up in the latency."""
    delay = 0.1
    with DelayServer() as slow, LoadGenerator() as gen:
        with UvicornServer(slow_url=slow.url, delay_s=delay, workers=1) as server:
            spec = LoadSpec(url=f"{server.url}/async-blocking", concurrency=30, duration_s=1.5,
                            warmup_s=0.5, mode="open", rate=30.0, timeout_s=15.0)  # fmt: skip
            result = gen.run(spec)
    assert result.mode == "open" and result.offered_rps == 30.0
    assert result.rps <= 1.5 / delay
    # Closed-loop-style timing (from the actual send) would hide the wait behind each request.
    assert result.latency_ms["p99"] > 5 * delay * 1000


def test_server_is_stopped_when_the_block_raises(baseline: set[int]) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with UvicornServer(
            slow_url="http://127.0.0.1:9", delay_s=0.1, workers=2, threadpool=3
        ) as server:
            assert server.health["threadpool"] == 3 and server.health["loop"] == "uvloop"
            pgid = server.pgid
            assert len(live_members(pgid)) >= 3  # supervisor + 2 workers
            raise RuntimeError("boom")
    assert live_members(pgid) == []
    assert leftovers(baseline) == []


@pytest.mark.parametrize(
    ("sig", "after"),
    [(signal.SIGINT, 0.0), (signal.SIGTERM, 0.0), (signal.SIGINT, 1.5), (signal.SIGTERM, 1.5)],
    ids=["int-while-starting", "term-while-starting", "int-measuring", "term-measuring"],
)
def test_interrupted_lab_leaves_nothing_behind(
    sig: signal.Signals, after: float, baseline: set[int]
) -> None:
    argv = ["web", "--variant", "sync-io", "--concurrency", "4", "--server-workers", "2",
            "--duration", "20", "--delay", "0.2", "--quick"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "gilbench", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while not any("gilbench.weblab.app" in line for line in leftovers(baseline, grace=0)):
            assert proc.poll() is None and time.monotonic() < deadline, (
                "the lab never started uvicorn"
            )
            time.sleep(0.2)
        time.sleep(after)  # 0: uvicorn is still starting; 1.5: a measurement is running
        proc.send_signal(sig)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()
    assert leftovers(baseline) == []


def test_web_table_and_lessons_are_pure() -> None:
    row = {
        "variant": "sync-io", "concurrency": 50, "server_workers": 1, "threadpool": 40,
        "mode": "closed", "rps": 79.1, "requests": 400, "errors": 0, "timeouts": 0,
        "latency_ms": {"p50": 501.2, "p95": 505.0, "p99": 510.0, "max": 520.0},
        "server_cpu_s": 1.2, "generator_cpu_s": 0.3, "other_cpu_s": 0.1,
        "above_half_ceiling": False, "expected_rps": 80.0, "offered_rps": None, "error": None,
        "lesson": "def + requests runs in AnyIO's 40-thread pool: 79 RPS at 50 users, "
                  "capped at 40/0.5 s = 80",
    }  # fmt: skip
    doc = {
        "schema": "gilbench/1", "kind": "web", "environment": {},
        "config": {"delay_s": 0.5, "duration_s": 5, "threadpool": 40, "concurrency": [50],
                   "server_workers": [1], "variants": ["sync-io"]},
        "generator_ceiling_rps": 4123.0, "web_results": [row], "warnings": [],
    }  # fmt: skip
    console = Console(file=io.StringIO(), width=200)
    console.print(web_table(doc))
    text = console.file.getvalue()
    assert "sync-io" in text and "79.1" in text and "80.0" in text and "4123" in text
    lines = format_lessons(doc)
    assert lines[0].startswith("sync-io: def + requests") and lines[-1].startswith("Claim check")
