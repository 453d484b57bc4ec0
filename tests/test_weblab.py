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
    assert "x the 1-worker" in two["lesson"]
    # --repeat 3 is a fixed count: whatever its interval says, the row records it and the
    # lesson states the scaling claim only when it is settled.
    assert two["decided"] is not None and len(two["gain_ci95"]) == 2
    assert ("undecided" in two["lesson"]) == (not two["decided"])
    assert ("only processes add cores" in two["lesson"]) == two["decided"]


def test_cpu_lesson_states_the_scaling_only_when_it_is_decided() -> None:
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
    two = doc["web_results"][1]
    lesson = two["lesson"]
    assert "1.66x the 1-worker 39 RPS" in lesson and "its 2 cores 86% busy" in lesson
    assert "async-cpu (one thread a worker) kept them 98% busy" in lesson  # where the rest went
    # One run each never settles the comparison (run's rule): no scaling claim, and the lesson
    # says what would decide it.
    assert two["decided"] is False and two["gain"] == pytest.approx(64.3 / 38.8, abs=1e-3)
    assert "undecided, inconclusive" in lesson and "one run each never settles it" in lesson
    assert "a quieter machine or more runs (--repeat 6) would decide it" in lesson
    assert "only processes add cores" not in lesson
    assert doc["web_results"][0]["gain"] is None and doc["web_results"][0]["decided"] is None
    assert doc["web_results"][2]["gain"] is None  # async-cpu has no 1-worker row here

    # Three runs a side that agree: decided, the claim made, with its interval.
    doc["web_results"][0]["rps_runs"] = [38.8, 39.5, 40.1]
    two["rps_runs"] = [64.3, 65.0, 66.2]
    for row in doc["web_results"]:
        explain(row, doc, cpu_s=0.030, cores=2)
    assert two["decided"] is True and two["gain_ci95"][0] >= 1.1
    assert (
        "(95% CI 1." in two["lesson"] and "3 runs each): only processes add cores" in two["lesson"]
    )
    assert "undecided" not in two["lesson"]

    # Six runs a side straddling the margin: undecided after the cap, and it says so.
    doc["web_results"][0]["rps_runs"] = [36.0, 41.0, 38.0, 43.0, 37.0, 42.0]
    two["rps_runs"] = [38.0, 49.0, 41.0, 47.0, 40.0, 46.0]
    for row in doc["web_results"]:
        explain(row, doc, cpu_s=0.030, cores=2)
    low, high = two["gain_ci95"]
    assert two["decided"] is False and low < 1.1 <= high
    assert "6 runs each): undecided, inconclusive" in two["lesson"]
    assert "the interval holds the 10% margin" in two["lesson"] and "--repeat 12" in two["lesson"]


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


# -- sampling until decided ------------------------------------------------------------------------

AGREE_1W, AGREE_2W = [38.8, 40.1, 39.5, 39.0, 40.4, 38.9], [64.3, 66.0, 65.2, 64.8, 65.9, 64.0]
"""RPS of 1-worker and 2-worker runs that agree: 2 workers clearly add more than 10%."""
NOISY_1W, NOISY_2W = [36.0, 43.0, 38.0, 41.0, 37.0, 42.0], [38.0, 49.0, 41.0, 47.0, 40.0, 46.0]
"""Runs whose ratio (about 1.1) sits on the 10% margin, whatever their count."""


def test_scaling_uses_runs_rule_for_settling() -> None:
    """The lab's comparison is decided by the same function as ``gilbench run``'s rows."""
    from gilbench.analysis.recommend import settled_from
    from gilbench.engine.stats import ratio_ci95
    from gilbench.weblab.theory import scaling

    for n in (1, 2, 3, 6):
        found = scaling(AGREE_2W[:n], AGREE_1W[:n])
        low, high = ratio_ci95(AGREE_2W[:n], AGREE_1W[:n])
        assert found["n"] == n and found["decided"] is settled_from(n, low, high)
        assert found["gain_ci95"] == [round(low, 3), round(high, 3)]
    assert scaling(AGREE_2W[:1], AGREE_1W[:1])["decided"] is False  # one run: never
    assert scaling(AGREE_2W[:2], AGREE_1W[:2])["decided"] is True  # two that agree: clear
    assert scaling(NOISY_2W, NOISY_1W)["decided"] is False
    # Failed runs (None) are left out; no successful run on a side: no comparison.
    assert scaling([None, 65.0, 64.0], [39.0, None, 40.0])["n"] == 2
    assert scaling([65.0], [None]) is None and scaling([65.0], [0.0]) is None


def test_settles_on_rows_and_settled_from_agree() -> None:
    from gilbench.analysis.recommend import settled_from, settles
    from gilbench.engine.results import Row

    def row(n: int) -> Row:
        r = Row.__new__(Row)
        r.samples_s = [1.0] * n
        return r

    for n in (1, 2, 3, 5):
        for interval in ((1.2, 1.3), (1.0, 1.3), (0.9, 1.05), (1.15, 1.5)):
            assert settles(row(n), row(n + 1), (1.0, *interval)) is settled_from(n, *interval)


def test_needs_another_run_stops_when_decided_or_capped() -> None:
    from gilbench.weblab.theory import MAX_RUNS, MIN_RUNS, needs_another_run

    def rounds(one: list[float], two: list[float], repeat: int | None) -> int:
        """Rounds the lab runs for one variant whose k-th runs give these RPS."""
        k = 1
        while needs_another_run([(two[:k], one[:k])], k, repeat):
            k += 1
            assert k <= 100
        return k

    assert (MIN_RUNS, MAX_RUNS) == (2, 6)
    assert rounds(AGREE_1W, AGREE_2W, None) == MIN_RUNS  # clearly decided: stop at the minimum
    assert rounds(NOISY_1W, NOISY_2W, None) == MAX_RUNS  # on the margin: until the cap, undecided
    for fixed in (1, 3, 4):  # --repeat N: exactly N, decided or not
        assert rounds(AGREE_1W, AGREE_2W, fixed) == fixed
        assert rounds(NOISY_1W, NOISY_2W, fixed) == fixed
    # Undecided at 3 runs continues; any open comparison keeps the variant going.
    assert needs_another_run([(NOISY_2W[:3], NOISY_1W[:3])], 3, None)
    assert needs_another_run([(AGREE_2W[:3], AGREE_1W[:3]), (NOISY_2W[:3], NOISY_1W[:3])], 3, None)
    assert not needs_another_run([(AGREE_2W[:3], AGREE_1W[:3])], 3, None)
    # Nothing to compare (no 1-worker cell, or every run failed): the minimum, then stop.
    assert needs_another_run([], 1, None) and not needs_another_run([], 2, None)
    assert not needs_another_run([([None, None], [40.0, 41.0])], 2, None)


class _FakeServer:
    """Stands in for UvicornServer in ``run_lab``: nothing is started."""

    def __init__(self, **kwargs: object) -> None:
        self.workers = kwargs["workers"]
        self.url = "http://127.0.0.1:9"

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def __enter__(self) -> _FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _scripted_lab(monkeypatch: pytest.MonkeyPatch, script: dict, **kwargs: object) -> tuple:
    """``run_lab`` with no process started: the k-th run of a (variant, workers) cell, at any
    users, gets ``script[variant, workers][k]`` RPS (I/O variants: 10). Returns (doc, progress
    labels, (done, total) pairs)."""
    from contextlib import contextmanager
    from types import SimpleNamespace

    from gilbench.weblab import lab

    served: dict[tuple, int] = {}

    def measure(gen, srv, spec, row, warnings, drain, last) -> None:
        key = (row["variant"], row["server_workers"])
        k = served.get((*key, row["concurrency"]), 0)
        served[*key, row["concurrency"]] = k + 1
        rps = script.get(key, [10.0] * 100)[k]
        row.update(rps=rps, requests=int(rps * 2), window_s=2.0, server_cpu_s=1.0)
        row["other_cpu_s"], row["generator_cpu_s"] = 0.0, 0.1
        row["latency_ms"] = {"p50": 10.0, "p95": 20.0, "p99": 30.0, "max": 40.0}
        return None

    @contextmanager
    def services():
        yield SimpleNamespace(url="http://127.0.0.1:9"), SimpleNamespace(proc=object())

    monkeypatch.setattr(lab, "services", services)
    monkeypatch.setattr(lab, "UvicornServer", _FakeServer)
    monkeypatch.setattr(lab, "_measure", measure)
    monkeypatch.setattr(lab, "measure_ceiling", lambda *a: 5000.0)
    monkeypatch.setattr(lab, "calibrate_cpu_count", lambda: (100_000, 0.030))
    monkeypatch.setattr(lab, "usable_cores", lambda: 2)
    monkeypatch.setattr(lab, "environment", lambda n, s: {"cpu_count": 2, "load_avg_1m": 0.0})
    monkeypatch.setattr(lab, "raise_fd_limit", lambda: None)
    labels: list[str] = []
    counts: list[tuple[int, int]] = []

    def progress(done: int, total: int, label: str) -> None:
        labels.append(label)
        counts.append((done, total))

    options = {"concurrency": [50], "server_workers": [1, 2], "delay": 0.5, "duration": 2.0,
               "threadpool": 40, "quick": False, "progress": progress} | kwargs  # fmt: skip
    doc = lab.run_lab(**options)
    return doc, labels, counts


def _cells(doc: dict) -> dict[tuple[str, int], dict]:
    return {(r["variant"], r["server_workers"]): r for r in doc["web_results"]}


def test_lab_samples_each_cpu_variant_until_its_lesson_is_decided(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gilbench.documents import load

    script = {("sync-cpu", 1): AGREE_1W, ("sync-cpu", 2): AGREE_2W,
              ("async-cpu", 1): NOISY_1W, ("async-cpu", 2): NOISY_2W}  # fmt: skip
    doc, labels, counts = _scripted_lab(
        monkeypatch, script, variants=["sync-io", "sync-cpu", "async-cpu"]
    )
    cells = _cells(doc)
    assert len(doc["web_results"]) == 6  # one row per cell, however many runs
    assert cells["sync-io", 1]["attempts"] == 1 and cells["sync-io", 2]["attempts"] == 1
    # sync-cpu agrees after the 2 runs everyone gets; async-cpu stays open until the cap.
    assert cells["sync-cpu", 1]["attempts"] == cells["sync-cpu", 2]["attempts"] == 2
    assert cells["async-cpu", 1]["attempts"] == cells["async-cpu", 2]["attempts"] == 6
    assert cells["sync-cpu", 2]["rps_runs"] == AGREE_2W[:2]
    assert (
        cells["sync-cpu", 2]["decided"] is True
        and "only processes add cores" in (cells["sync-cpu", 2]["lesson"])
    )
    undecided = cells["async-cpu", 2]
    assert undecided["decided"] is False and "undecided, inconclusive" in undecided["lesson"]
    assert "more runs (--repeat 12) would decide it" in undecided["lesson"]
    assert doc["config"]["repeat"] is None
    assert (doc["config"]["min_runs"], doc["config"]["max_runs"]) == (2, 6)
    # Honest progress: no fixed N, the total grows with each added round and ends reached.
    assert "async-cpu, 50 users, 2 workers, closed loop, run 6, until decided (at most 6)" in labels
    assert not any(" of " in label for label in labels)
    assert all(done <= total for done, total in counts) and counts[-1][0] == counts[-1][1]
    assert counts[-1][1] == 1 + 2 * (3 + 1 + 5)  # ceiling; 2 worker counts x (round 1, 2, 3-6)
    assert load(json.loads(json.dumps(doc)))["web_results"][-1]["gain_ci95"]  # schema holds
    # Shown as undecided in the table and the HTML report.
    console = quiet_console()
    console.print(web_table(doc))
    text = console.file.getvalue()
    assert "Gain vs 1 worker" in text and "undecided" in text
    from gilbench.report.html import render_html

    html = render_html([doc])
    assert '<span class="badge status-skipped">undecided</span> def + the pure-Python' not in html
    assert '<span class="badge status-skipped">undecided</span> async def + the pure' in html


def test_repeat_is_a_fixed_count(monkeypatch: pytest.MonkeyPatch) -> None:
    script = {("sync-cpu", 1): AGREE_1W, ("sync-cpu", 2): AGREE_2W}
    doc, labels, counts = _scripted_lab(monkeypatch, script, variants=["sync-cpu"], repeat=4)
    assert [r["attempts"] for r in doc["web_results"]] == [4, 4]  # decided at 2, still 4
    assert doc["config"]["repeat"] == doc["config"]["min_runs"] == doc["config"]["max_runs"] == 4
    assert "sync-cpu, 50 users, 1 worker, closed loop, run 4 of 4" in labels
    assert {total for _, total in counts} == {1 + 2 * 4}  # known from the start
    doc, labels, _ = _scripted_lab(monkeypatch, script, variants=["sync-cpu"], repeat=1)
    assert [r["attempts"] for r in doc["web_results"]] == [1, 1] and not any(
        "run " in label for label in labels
    )
    assert "undecided" in _cells(doc)["sync-cpu", 2]["lesson"]  # one run never settles it


def test_repeat_defaults_to_until_decided_and_quick_to_one_run() -> None:
    assert command.lab_arguments(parse([]))["repeat"] is None
    assert command.lab_arguments(parse(["--quick"]))["repeat"] == 1
    assert command.lab_arguments(parse(["--repeat", "5"]))["repeat"] == 5
    assert command.lab_arguments(parse(["--quick", "--repeat", "3"]))["repeat"] == 3
