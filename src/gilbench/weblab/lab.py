"""Run the web lab: endpoint variant x concurrent users x Uvicorn workers, against theory.

State machine of ``run_lab``:

    delay server + load generator (once)
      -> calibrate the CPU loop (~30 ms a request)
      -> generator ceiling: closed loop against /noop (best of two runs)
      -> round 1: for each server worker count, for each variant: a fresh Uvicorn server
           -> for each concurrency (ascending): warm-up, window, drain
              (server CPU sampled at the window's edges; a server whose /health does
              not answer after the drain holds a backlog and is restarted)
      -> further rounds, the CPU-bound variants only (a fresh server per worker count):
           --repeat N: until each has had N rounds;
           else (sample until decided): until each has had MIN_RUNS (2), then only the
           variants whose lesson is still undecided (theory.needs_another_run), at most
           MAX_RUNS (6) rounds; a variant once decided gets no more
      -> per cell the run with the median RPS; expected RPS, gain over 1 worker with its
         interval and whether it is decided, lessons, warnings

A fresh server per variant keeps one variant's backlog (async-blocking leaves up to
users x delay seconds of queued work) out of the next variant's numbers.

Why CPU-bound cells are repeated on fresh servers. Their throughput is the speed of the
worker processes, and on a shared VM that varies from process to process: the seed's
counting loop took 23 to 31 ms in ten fresh interpreters on this project's 2-core KVM
machine, minutes apart. A 1-worker and a 2-worker figure from one server each are one draw
per process; rounds (1 worker, 2 workers, 1 worker, ...) and the median of them are what
pyperf would do. I/O cells are measured once: the slow service's delay sets them.

How many rounds: as many as the CPU lesson needs, the way ``gilbench run`` samples until its
verdict is decided. The lesson rests on RPS at N workers over RPS at 1 worker (same variant,
closed loop, the highest concurrency: ``theory.lesson_pairs``); its 95% percentile-bootstrap
interval of the ratio of median RPS (Efron; ``stats.ratio_ci95`` over the runs' RPS) decides
it when it lies wholly at or above the 10% margin or wholly below it, by the rule run uses
(``analysis.recommend.settled_from``: 3 runs a side; 2 only when clear by the interval's own
width again; 1 never). When the runs agree (2 workers near twice 1 worker, each within a few
percent of its other run), 2 rounds decide it: fewer servers than the fixed 3 this lab used
to run. Otherwise more rounds, up to 6; a lesson still open then says it is undecided and
what would decide it instead of stating a scaling claim. Lower concurrencies are measured on
the same servers, so they get the same runs; their rows record their own gain and whether it
is decided, but do not ask for more rounds (at 1 user the gain is near 1 and noisy, and
settling it would lengthen every lab for a figure no lesson line rests on).

Queueing theory (``expected_rps``), lessons and warnings are pure functions in
``gilbench.weblab.theory``; the table is ``gilbench.report.web``.

Results JSON (``kind: web``, schema ``documents.schema_for("web")``); rows in ``web_results``:
``variant, concurrency, server_workers, threadpool, mode (closed|open), rps, requests,
errors, timeouts, latency_ms{p50,p95,p99,max}, server_cpu_s, generator_cpu_s,
other_cpu_s, above_half_ceiling, expected_rps, lesson, offered_rps and send_lag_ms_max (open
loop, else null), window_s, attempts (runs of this cell, each on a fresh server), rps_runs
(their RPS, in order; the row is the median run), gain, gain_ci95 and decided (a CPU
variant's closed-loop row above 1 worker: ratio of its runs' median RPS to the 1-worker
cell's, its 95% interval [low, high], and whether that settles the 10% margin; else null),
error (null, or why the measurement failed)``. ``other_cpu_s`` is the CPU the rest of the
machine (delay server, this lab, other programs) burnt during the window: on a shared machine
it explains a CPU-bound row that falls short. ``config.repeat`` is the fixed run count, or
null (until decided, between ``config.min_runs`` and ``config.max_runs`` runs).
"""

from __future__ import annotations

import importlib.metadata
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import psutil

from gilbench.documents import SCHEMA
from gilbench.engine.environment import capture, usable_cores
from gilbench.report.format import plural
from gilbench.services.delay_server import DelayServer, raise_fd_limit
from gilbench.weblab import VARIANTS, UsageError
from gilbench.weblab.loadgen import LoadGenerator, LoadResult, LoadSpec, measure_ceiling
from gilbench.weblab.server import UvicornServer
from gilbench.weblab.theory import (
    CPU_VARIANTS,
    MAX_RUNS,
    MIN_RUNS,
    explain,
    keep_median,
    lab_warnings,
    lesson_pairs,
    needs_another_run,
    new_row,
)
from gilbench.workloads.cpu import count

LOOP = "uvloop"  # Uvicorn's --loop for the lab's servers
HTTP = "httptools"  # Uvicorn's --http
CPU_REQUEST_TARGET_S = 0.030
"""CPU work per sync-cpu/async-cpu request: inside the 20-50 ms the lab is designed for."""
CEILING_MIN_USERS = 50  # users of the generator-ceiling run, at least
CEILING_RUNS = 2  # the ceiling is the best (highest RPS) of this many runs

Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, label: str) -> None:
    pass


def calibrate_cpu_count(target_s: float = CPU_REQUEST_TARGET_S) -> tuple[int, float]:
    """Iterations of the counting loop that take about ``target_s`` seconds here.

    Returns ``(iterations, seconds)``: iterations rounded to 10,000 (at least 10,000), and the
    best of two timings of that many (``time.perf_counter``).
    """
    probe = 200_000
    best = min(_timed(count, probe) for _ in range(3))
    iterations = max(10_000, int(round(probe * target_s / best, -4)))
    return iterations, min(_timed(count, iterations) for _ in range(2))


def _timed(fn: Callable[[int], object], n: int) -> float:
    start = time.perf_counter()
    fn(n)
    return time.perf_counter() - start


def validate(
    variants: Sequence[str],
    concurrency: Sequence[int],
    server_workers: Sequence[int],
    delay: float,
    duration: float,
    threadpool: int,
    open_loop_rate: float | None = None,
    repeat: int | None = None,
) -> None:
    """Raise UsageError (naming the option) for values the lab cannot measure; else None.

    Limits: known variants; 1-10,000 users; 1-64 server workers; 0 < delay <= 10 s;
    0 < duration <= 3600 s; threadpool 1-10,000; 0 < open-loop rate <= 100,000 RPS;
    repeat 1-100 or None (until decided).
    """
    if not variants:
        raise UsageError("no variant to measure")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise UsageError(f"unknown variant {unknown[0]!r} (choose from {', '.join(VARIANTS)})")
    if not concurrency or any(c < 1 or c > 10_000 for c in concurrency):
        raise UsageError("--concurrency values must be between 1 and 10000")
    if not server_workers or any(w < 1 or w > 64 for w in server_workers):
        raise UsageError("--server-workers values must be between 1 and 64")
    if not 0 < delay <= 10:
        raise UsageError("--delay must be > 0 and <= 10 seconds (the delay server's cap)")
    if not 0 < duration <= 3600:
        raise UsageError("--duration must be > 0 and <= 3600 seconds")
    if not 1 <= threadpool <= 10_000:
        raise UsageError("--threadpool must be between 1 and 10000")
    if open_loop_rate is not None and not 0 < open_loop_rate <= 100_000:
        raise UsageError("--open-loop-rate must be > 0 and <= 100000 requests per second")
    if repeat is not None and not 1 <= repeat <= 100:
        raise UsageError("--repeat must be between 1 and 100")


def environment(cpu_count: int, cpu_s: float) -> dict:
    """The machine (``gilbench.engine.environment.capture``) plus the lab's own stack and loop.

    ``cpu_count`` here is the counting loop's calibrated iterations, ``cpu_s`` their seconds
    (stored as ``cpu_request_ms``). Package versions are None when not installed.
    """

    def version(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        **capture(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        **{
            dist: version(dist)
            for dist in ("uvicorn", "fastapi", "starlette", "anyio", "aiohttp", "requests")
        },
        "loop": LOOP,
        "http": HTTP,
        "generator": "aiohttp closed/open loop on uvloop, in its own process",
        "cpu_loop_iterations": cpu_count,
        "cpu_request_ms": round(cpu_s * 1000, 2),
    }


def run_lab(
    variants: Sequence[str],
    concurrency: list[int],
    server_workers: list[int],
    delay: float,
    duration: float,
    threadpool: int,
    quick: bool,
    progress: Progress = _no_progress,
    open_loop_rate: float | None = None,
    checkpoint: Callable[[dict], None] | None = None,
    repeat: int | None = None,
) -> dict:
    """Measure every variant x concurrency x server workers; return the results document.

    The document is ``kind: web`` (see the module doc for its rows; RPS, latencies in ms, CPU
    in seconds). Raises UsageError from :func:`validate`; a server or generator failure
    during a measurement is recorded in that row's ``error`` instead of raised.

    CPU-bound variants are measured in rounds, each on a fresh server; their rows are the
    median runs. ``repeat`` N: exactly N rounds. None: sample until decided (the module doc;
    ``theory.needs_another_run``), MIN_RUNS to MAX_RUNS rounds. ``progress(done, total,
    label)`` is called before each measurement (``total`` grows when an undecided variant gets
    another round); ``checkpoint(doc)`` after each one, with the document so far (to save it:
    a crash loses nothing measured).
    """
    validate(
        variants, concurrency, server_workers, delay, duration, threadpool, open_loop_rate, repeat
    )
    variants = [v for v in VARIANTS if v in variants]  # canonical order, no duplicates
    concurrency = sorted(set(concurrency))
    server_workers = sorted(set(server_workers))
    raise_fd_limit()  # inherited by Uvicorn: many users need many sockets

    warmup = max(1.0, 2 * delay)
    timeout = max(10.0, 4 * delay)
    drain = max(2.0, 3 * delay)
    modes = ["closed"] + (["open"] if open_loop_rate else [])
    cpu_bound = [v for v in variants if v in CPU_VARIANTS]
    cells = [(users, mode) for users in concurrency for mode in modes]
    min_runs = repeat if repeat is not None else MIN_RUNS
    max_runs = repeat if repeat is not None else MAX_RUNS
    per_round = len(server_workers) * len(cells)  # measurements of one variant in one round

    def planned(round_no: int, round_variants: Sequence[str]) -> int:
        """Measurements from round ``round_no`` on that are sure to happen: this round's and
        the CPU-bound variants' rounds up to ``min_runs``."""
        later = len(cpu_bound) * max(0, min_runs - round_no)
        return (len(round_variants) + later) * per_round

    def run_label(run: int) -> str:
        if repeat is None:
            return f", run {run}, until decided (at most {max_runs})"
        return f", run {run} of {repeat}" if repeat > 1 else ""

    total = 1 + planned(1, variants)
    done = 0
    cpu_count, cpu_s = calibrate_cpu_count()
    cores = usable_cores()
    doc: dict = {
        "schema": SCHEMA,
        "kind": "web",
        "environment": environment(cpu_count, cpu_s),
        "config": {
            "delay_s": delay,
            "duration_s": duration,
            "threadpool": threadpool,
            "concurrency": concurrency,
            "server_workers": server_workers,
            "variants": variants,
            "open_loop_rate": open_loop_rate,
            "quick": quick,
            "repeat": repeat,
            "min_runs": min_runs,
            "max_runs": max_runs,
            "warmup_s": warmup,
            "timeout_s": timeout,
        },
        "generator_ceiling_rps": None,
        "web_results": [],
        "warnings": [],
    }
    rows: list[dict] = doc["web_results"]
    warnings: list[dict] = doc["warnings"]

    def server(workers: int) -> UvicornServer:
        return UvicornServer(
            slow_url=slow.url,
            delay_s=delay,
            workers=workers,
            threadpool=threadpool,
            cpu_count=cpu_count,
            loop=LOOP,
            http=HTTP,
        )

    with services() as (slow, gen):
        progress(done, total, "generator ceiling (closed loop against /noop)")
        try:
            with server(min(max(server_workers), cores)) as srv:
                users = max(CEILING_MIN_USERS, max(concurrency))
                ceiling_s = 1.0 if quick else 2.0
                doc["generator_ceiling_rps"] = measure_ceiling(
                    gen, f"{srv.url}/noop", users, ceiling_s, CEILING_RUNS
                )
        except Exception as exc:  # the rows can still be measured, just not flagged
            warnings.append(
                {"code": "no-ceiling", "message": f"generator ceiling not measured: {exc}"}
            )
            if gen.proc is None:
                gen.start()
        done += 1
        runs: dict[tuple, list[dict]] = {}  # every run of every cell, in order
        round_no, round_variants = 1, list(variants)
        while round_variants:
            total = done + planned(round_no, round_variants)
            # Every worker count, every variant of the round: one fresh server each.
            for workers, variant in [(w, v) for w in server_workers for v in round_variants]:
                srv = server(workers)  # fresh per variant and round: no backlog carried over
                try:
                    start_error = _start(srv)
                    for index, (users, mode) in enumerate(cells):
                        key = (variant, users, workers, mode)
                        run = len(runs.get(key, [])) + 1
                        of = run_label(run) if variant in CPU_VARIANTS else ""
                        progress(
                            done,
                            total,
                            f"{variant}, {users} users, {plural(workers, 'worker')}, "
                            f"{mode} loop{of}",
                        )
                        spec = LoadSpec(
                            url=f"{srv.url}/{variant}", concurrency=users, duration_s=duration,
                            warmup_s=warmup, ramp_s=min(delay, warmup / 2), mode=mode,
                            rate=open_loop_rate if mode == "open" else None, timeout_s=timeout,
                            drain_s=drain,
                        )  # fmt: skip
                        row = new_row(variant, users, workers, threadpool, mode, open_loop_rate)
                        if start_error:
                            row["error"] = start_error
                        else:
                            last = index == len(cells) - 1
                            start_error = _measure(gen, srv, spec, row, warnings, drain, last)
                        runs.setdefault(key, []).append(row)
                        keep_median(rows, runs[key])
                        for each in rows:  # a CPU lesson compares with another row: refresh all
                            explain(each, doc, cpu_s, cores)
                        done += 1
                        if checkpoint:
                            checkpoint(doc)
                finally:
                    srv.stop()
            # The next round: the CPU-bound variants whose lesson still needs a run.
            round_variants = [
                v for v in round_variants
                if v in CPU_VARIANTS
                and needs_another_run(lesson_pairs(doc, v), round_no, repeat)
            ]  # fmt: skip
            round_no += 1
    progress(done, total, "done")
    warnings.extend(lab_warnings(doc, cores))
    return doc


@contextmanager
def services() -> Iterator[tuple[DelayServer, LoadGenerator]]:
    """The delay server and the load generator, stopped however the lab ends.

    Not ``with DelayServer()``: ``__exit__`` does not run when ``__enter__`` raises, and a
    Ctrl-C can land while it waits for the ready line; this ``finally`` covers start() too.
    """
    slow, gen = DelayServer(), LoadGenerator()
    try:
        slow.start()
        gen.start()
        yield slow, gen
    finally:
        gen.stop()
        slow.stop()


def _start(srv: UvicornServer) -> str | None:
    try:
        srv.start()
        return None
    except Exception as exc:  # recorded in the rows: the lab goes on with the next variant
        return f"server did not start: {exc}"


def _busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores)."""
    times = psutil.cpu_times()
    # guest time is already inside user/nice; idle, iowait and steal are not ours to count.
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def measure_window(
    gen: LoadGenerator, spec: LoadSpec, server_cpu_seconds: Callable[[], float]
) -> tuple[LoadResult, float | None, float | None]:
    """Run ``spec`` and sample the server's CPU at the window's edges.

    Returns ``(result, server_cpu_s, other_cpu_s)``: the server's CPU seconds inside the window
    (``server_cpu_seconds()`` read at ``window_start`` and ``window_end``) and what the rest of
    the machine burnt beside the server and the generator (None when an edge was missed).
    Raises what ``gen.run`` raises (LoadError); a generator that died is restarted first, so
    the next measurement gets a new one."""
    marks: dict[str, tuple[float, float]] = {}

    def on_event(name: str) -> None:
        marks[name] = (server_cpu_seconds(), _busy_cpu_seconds())

    try:
        result: LoadResult = gen.run(spec, on_event)
    except Exception:
        if gen.proc is None:
            gen.start()
        raise
    if "window_start" not in marks or "window_end" not in marks:
        return result, None, None
    server = marks["window_end"][0] - marks["window_start"][0]
    busy = marks["window_end"][1] - marks["window_start"][1]
    other = max(0.0, busy - server - result.generator_cpu_s)
    return result, round(server, 3), round(other, 3)


def _measure(
    gen: LoadGenerator,
    srv: UvicornServer,
    spec: LoadSpec,
    row: dict,
    warnings: list[dict],
    drain: float,
    last: bool,
) -> str | None:
    """Fill ``row`` from one run; return an error that makes the server unusable, else None.

    Unless this is the server's ``last`` measurement, a server that does not answer
    ``/health`` after the drain holds a backlog and is restarted.
    """
    try:
        result, server_cpu_s, other_cpu_s = measure_window(gen, spec, srv.cpu_seconds)
    except Exception as exc:
        row["error"] = f"load generator: {exc}"
        return None
    row.update(
        rps=result.rps, requests=result.requests, errors=result.errors, timeouts=result.timeouts,
        latency_ms=result.latency_ms, generator_cpu_s=result.generator_cpu_s,
        send_lag_ms_max=result.send_lag_ms_max, window_s=result.window_s,
    )  # fmt: skip
    if server_cpu_s is not None:
        row["server_cpu_s"], row["other_cpu_s"] = server_cpu_s, other_cpu_s
    if last:
        return None
    if not srv.is_responsive(timeout=drain):
        label = (
            f"{row['variant']} at {row['concurrency']} users, "
            f"{plural(row['server_workers'], 'worker')}"
        )
        warnings.append({
            "code": "server-restarted",
            "message": f"{label}: /health did not answer {drain:g} s after the window "
                       "(a backlog of blocked requests); "
                       "the server was restarted before the next measurement",
        })  # fmt: skip
        srv.stop()
        return _start(srv)
    return None
