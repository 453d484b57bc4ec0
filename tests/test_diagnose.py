"""weblab.diagnose: the endpoint kinds and the recommended configuration, from rows built the way
the sweep writes them (appsweep.new_row), so each rule is checked on both sides of its line."""

from __future__ import annotations

import pytest

from gilbench.weblab import diagnose
from gilbench.weblab.appserver import ServerConfig
from gilbench.weblab.appsweep import label, new_row


def row(workers, threads, users, rps, *, p50, cpu_ms, errors=0, p99=None, server="uvicorn"):
    kind = "uvicorn" if server == "uvicorn" else ("sync" if threads == 1 else "gthread")
    r = new_row("/x", "GET", ServerConfig(server, kind, workers, threads), users, "closed")
    window = 3.0
    requests = int(rps * window)
    r.update(
        rps=rps, requests=requests, errors=errors, window_s=window,
        latency_ms={"p50": p50, "p95": p50 * 1.2, "p99": p99 or p50 * 1.5, "max": p50 * 2},
        cpu_ms_per_request=cpu_ms, server_cpu_s=cpu_ms * requests / 1000,
        server_cpu_util=cpu_ms * requests / 1000 / window,
    )  # fmt: skip
    return r


def sweep(base_p50, base_cpu, rps_of, users=50, workers=(1, 2, 4), threads=(1, 4, 40)):
    """A one-user baseline plus every configuration at ``users``; ``rps_of(w, t)`` its RPS."""
    rows = [row(1, threads[0], 1, 1000 / base_p50, p50=base_p50, cpu_ms=base_cpu)]
    for w in workers:
        for t in threads:
            rows.append(row(w, t, users, rps_of(w, t), p50=base_p50 * 3, cpu_ms=base_cpu))
    return rows


def test_a_python_cpu_endpoint_scales_with_workers_not_threads():
    rows = sweep(25, 24, lambda w, t: 38 * min(w, 2))
    d = diagnose.classify(rows, "def", "asgi")
    assert d["kind"] == "cpu"
    assert "add worker processes" in d["sentence"] and "threads do not help" in d["sentence"]
    assert d["evidence"]["workers_gain"] == pytest.approx(2.0)
    assert d["evidence"]["threads_gain"] == pytest.approx(1.0)


def test_cpu_that_gains_from_threads_releases_the_gil():
    rows = sweep(10, 9, lambda w, t: 90 * min(w, 2) * (1.8 if t > 1 else 1))
    assert diagnose.classify(rows, "def", "wsgi")["kind"] == "cpu-releases-gil"
    # In async def, threads do not run the handler: the same gain is not read as released.
    assert diagnose.classify(rows, "async def", "asgi")["kind"] == "cpu"


def test_an_io_def_endpoint_is_capped_by_its_pool():
    rows = sweep(100, 2, lambda w, t: min(50, w * t) / 0.1)
    d = diagnose.classify(rows, "def", "wsgi")
    assert d["kind"] == "pool-capped"
    assert "raise the pool or go async" in d["sentence"]
    assert diagnose.expected_rps(rows[1], 0.1) == pytest.approx(10.0)


@pytest.mark.parametrize(
    "per_worker, kind", [(10.0, "async-blocking"), (19.0, "async-blocking"), (300.0, "async-ok")]
)
def test_an_async_endpoint_that_serves_one_request_per_latency_blocks_its_loop(per_worker, kind):
    rows = sweep(100, 2, lambda w, t: per_worker * w, threads=(40,))
    d = diagnose.classify(rows, "async def", "asgi")
    assert d["kind"] == kind
    if kind == "async-blocking":
        assert "make it def or use an async client" in d["sentence"]


def test_few_users_cannot_show_a_blocked_loop():
    rows = sweep(100, 2, lambda w, t: 10.0 * w, users=2, threads=(40,))
    assert diagnose.classify(rows, "async def", "asgi")["kind"] == "async-ok"


def test_every_request_failing_is_said_and_nothing_is_recommended():
    rows = sweep(100, 2, lambda w, t: 10.0)
    for r in rows:
        r.update(requests=0, rps=0.0, errors=30, error_kinds={"HTTP 500": 30})
    d = diagnose.classify(rows, "def", "wsgi")
    assert d["kind"] == "failing" and "HTTP 500" in d["sentence"]
    assert diagnose.recommend(rows, label) is None


def test_without_a_baseline_the_diagnosis_is_undetermined():
    rows = sweep(100, 2, lambda w, t: 10.0)[1:]
    assert diagnose.classify(rows, "def", "wsgi")["kind"] == "undetermined"


def test_the_cheapest_configuration_within_ten_percent_is_recommended():
    rows = sweep(25, 24, lambda w, t: {1: 38, 2: 76, 4: 80}[w])
    rec = diagnose.recommend(rows, label)
    assert (rec["workers"], rec["threads"]) == (2, 1)  # 76 is within 10% of 80, for half
    assert "within 10% of the fastest" in rec["sentence"]
    rows = sweep(25, 24, lambda w, t: {1: 38, 2: 60, 4: 80}[w])
    rec = diagnose.recommend(rows, label)
    assert (rec["workers"], rec["threads"]) == (4, 1)
    assert rec["next_rps"] == 80 and rec["gap"] == 0.0  # another 4-worker row ties it


def test_a_configuration_with_failed_requests_is_not_recommended():
    rows = sweep(25, 24, lambda w, t: 38 * w)
    best = max(rows, key=lambda r: r["rps"])
    best["errors"] = best["requests"]  # half of its requests failed
    rec = diagnose.recommend(rows, label)
    assert (rec["workers"], rec["threads"]) != (best["workers"], best["threads"])
    assert diagnose.error_rate(best) == pytest.approx(0.5)


def test_one_configuration_for_the_app_serves_every_endpoint_near_its_best():
    cpu = sweep(25, 24, lambda w, t: 38 * min(w, 2))
    io = sweep(100, 2, lambda w, t: min(50, w * t) / 0.1)
    for r in io:
        r["path"] = "/io"
    rec = diagnose.recommend_app({"/cpu": cpu, "/io": io}, label)
    # /io needs 50 threads' worth (w x t >= 50), /cpu needs 2 workers: 2 x 40 is the cheapest.
    assert (rec["workers"], rec["threads"]) == (2, 40)
    assert rec["score"] == pytest.approx(1.0)


def test_a_generator_at_its_limit_is_named_in_the_diagnosis():
    rows = sweep(25, 24, lambda w, t: 38 * min(w, 2))
    assert "bottleneck" not in diagnose.classify(rows, "def", "asgi")["sentence"]
    rows[-1].update(generator_bound=True, generator_cpu_util=0.94)
    d = diagnose.classify(rows, "def", "asgi")
    assert "load generator was the bottleneck in 1 of the 9 windows" in d["sentence"]
    assert "94%" in d["sentence"] and d["evidence"]["generator_bound_windows"] == 1


def test_numbers_in_sentences_read_as_numbers():
    assert diagnose.num(2281.4) == "2,281" and diagnose.num(9.6234) == "9.62"
    assert diagnose.num(0.30412) == "0.304"


def test_an_async_endpoint_whose_loop_runs_out_of_cpu_is_told_to_add_workers():
    rows = sweep(100, 2, lambda w, t: 92.0 * w, threads=(40,))
    assert "ran out of CPU" not in diagnose.classify(rows, "async def", "asgi")["sentence"]
    one = next(r for r in rows if r["concurrency"] == 50 and r["workers"] == 1)
    one.update(server_cpu_util=1.0, cpu_ms_per_request=10.9)
    d = diagnose.classify(rows, "async def", "asgi")
    assert d["kind"] == "async-ok" and "ran out of CPU (100% busy, 10.9 ms" in d["sentence"]
