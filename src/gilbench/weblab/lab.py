"""Run the web lab: endpoint variant x concurrent users x Uvicorn workers, against theory.

State machine of ``run_lab``:

    delay server + load generator (once)
      -> calibrate the CPU loop (~30 ms a request)
      -> generator ceiling: closed loop against /noop (best of two runs)
      -> round 1: for each server worker count, for each variant: a fresh Uvicorn server
           -> for each concurrency (ascending): warm-up, window, drain
              (server CPU sampled at the window's edges; a server whose /health does
              not answer after the drain holds a backlog and is restarted)
      -> rounds 2..repeat: the same for the CPU-bound variants only
      -> per cell the run with the median RPS; expected RPS, lessons, warnings

A fresh server per variant keeps one variant's backlog (async-blocking leaves up to
users x delay seconds of queued work) out of the next variant's numbers.

Why CPU-bound cells are repeated on fresh servers. Their throughput is the speed of the
worker processes, and on a shared VM that varies from process to process: the seed's
counting loop took 23 to 31 ms in ten fresh interpreters on this project's 2-core KVM
machine, minutes apart. A 1-worker and a 2-worker figure from one server each are one draw
per process; rounds (1 worker, 2 workers, 1 worker, ...) and the median of them are what
pyperf would do. I/O cells are measured once: the slow service's delay sets them.

Queueing theory used for ``expected_rps`` (closed loop, zero think time, service time =
the slow service's delay): ``m`` requests in service at once give ``min(users, m) / delay``,
with ``m`` = threadpool x workers for ``def`` + requests, users for ``async def`` + an async
client, and workers for ``async def`` + requests (the event loop is the only "thread").
CPU variants are bounded by cores: ``min(users, workers, cores) / cpu time per request``.

Results JSON (schema ``gilbench/1``, ``kind: web``); rows in ``web_results``:
``variant, concurrency, server_workers, threadpool, mode (closed|open), rps, requests,
errors, timeouts, latency_ms{p50,p95,p99,max}, server_cpu_s, generator_cpu_s,
other_cpu_s, above_half_ceiling, expected_rps, lesson, offered_rps and send_lag_ms_max (open
loop, else null), window_s, attempts (runs of this cell, each on a fresh server), rps_runs
(their RPS, in order; the row is the median run), error (null, or why the measurement
failed)``. ``other_cpu_s`` is the CPU the rest of the machine (delay server, this lab, other
programs) burnt during the window: on a shared machine it explains a CPU-bound row that
falls short.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import psutil
from rich.table import Table

from gilbench.services.delay_server import DelayServer, raise_fd_limit
from gilbench.weblab import VARIANTS, UsageError
from gilbench.weblab.loadgen import LoadGenerator, LoadResult, LoadSpec, measure_ceiling
from gilbench.weblab.server import UvicornServer
from gilbench.workloads.cpu import count

SCHEMA = "gilbench/1"
LOOP = "uvloop"
HTTP = "httptools"
CPU_REQUEST_TARGET_S = 0.030
"""CPU work per sync-cpu/async-cpu request: inside the 20-50 ms the lab is designed for."""
CEILING_MIN_USERS = 50
CEILING_RUNS = 2
OFF_THEORY = 0.15
"""An I/O row further than this from its expected RPS gets a warning."""
NOISY_CORES = 0.25
"""Other processes using more than this many cores during a window get a warning."""
CPU_VARIANTS = ("sync-cpu", "async-cpu")
BUSIER = 0.05
"""async-cpu keeping its cores this much busier than sync-cpu is worth a sentence."""

Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, label: str) -> None:
    pass


def calibrate_cpu_count(target_s: float = CPU_REQUEST_TARGET_S) -> tuple[int, float]:
    """Iterations of the counting loop that take about ``target_s`` here, and their time."""
    probe = 200_000
    best = min(_timed(count, probe) for _ in range(3))
    iterations = max(10_000, int(round(probe * target_s / best, -4)))
    return iterations, min(_timed(count, iterations) for _ in range(2))


def _timed(fn: Callable[[int], object], n: int) -> float:
    start = time.perf_counter()
    fn(n)
    return time.perf_counter() - start


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def expected_rps(variant: str, users: int, workers: int, threadpool: int, delay_s: float,
                 cpu_s: float | None, cores: int) -> float | None:
    """Queueing-theory throughput of a closed loop with zero think time (see module doc)."""
    if variant == "sync-io":
        return min(users, threadpool * workers) / delay_s
    if variant == "async-io":
        return users / delay_s
    if variant == "async-blocking":
        return min(users, workers) / delay_s
    if variant in CPU_VARIANTS and cpu_s:
        return min(users, workers, cores) / cpu_s
    return None


def validate(variants: Sequence[str], concurrency: Sequence[int], server_workers: Sequence[int],
             delay: float, duration: float, threadpool: int, open_loop_rate: float | None = None,
             repeat: int = 1) -> None:
    """Raise UsageError for values the lab cannot measure."""
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
    if not 1 <= repeat <= 100:
        raise UsageError("--repeat must be between 1 and 100")


def environment(cpu_count: int, cpu_s: float) -> dict:
    def version(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "uvicorn": version("uvicorn"),
        "fastapi": version("fastapi"),
        "starlette": version("starlette"),
        "anyio": version("anyio"),
        "aiohttp": version("aiohttp"),
        "requests": version("requests"),
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
    repeat: int = 1,
) -> dict:
    """Measure every variant x concurrency x server workers; return the results document.

    CPU-bound variants are measured ``repeat`` times, in rounds, each on a fresh server;
    their rows are the median runs. ``progress(done, total, label)`` is called before each
    measurement; ``checkpoint(doc)`` after each one, with the document so far (to save it:
    a crash loses nothing measured).
    """
    validate(variants, concurrency, server_workers, delay, duration, threadpool, open_loop_rate, repeat)
    variants = [v for v in VARIANTS if v in variants]  # canonical order, no duplicates
    concurrency = sorted(set(concurrency))
    server_workers = sorted(set(server_workers))
    raise_fd_limit()  # inherited by Uvicorn: many users need many sockets

    warmup = max(1.0, 2 * delay)
    timeout = max(10.0, 4 * delay)
    drain = max(2.0, 3 * delay)
    modes = ["closed"] + (["open"] if open_loop_rate else [])
    cpu_bound = [v for v in variants if v in CPU_VARIANTS]
    rounds = [variants] + [cpu_bound] * (repeat - 1 if cpu_bound else 0)
    # Round by round, every worker count, every variant of the round: one fresh server each.
    servers = [(workers, variant) for round_variants in rounds for workers in server_workers
               for variant in round_variants]  # fmt: skip
    cells = [(users, mode) for users in concurrency for mode in modes]
    total = 1 + len(servers) * len(cells)
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
        return UvicornServer(slow_url=slow.url, delay_s=delay, workers=workers, threadpool=threadpool,
                             cpu_count=cpu_count, loop=LOOP, http=HTTP)

    with _services() as (slow, gen):
        progress(done, total, "generator ceiling (closed loop against /noop)")
        try:
            with server(min(max(server_workers), cores)) as srv:
                users = max(CEILING_MIN_USERS, max(concurrency))
                ceiling_s = 1.0 if quick else 2.0
                doc["generator_ceiling_rps"] = measure_ceiling(gen, f"{srv.url}/noop", users, ceiling_s, CEILING_RUNS)
        except Exception as exc:  # the rows can still be measured, just not flagged
            warnings.append({"code": "no-ceiling", "message": f"generator ceiling not measured: {exc}"})
            if gen.proc is None:
                gen.start()
        done += 1
        runs: dict[tuple, list[dict]] = {}  # every run of every cell, in order
        for workers, variant in servers:
            srv = server(workers)  # fresh per variant and round: no backlog carried over
            try:
                start_error = _start(srv)
                for index, (users, mode) in enumerate(cells):
                    key = (variant, users, workers, mode)
                    run = len(runs.get(key, [])) + 1
                    of = f", run {run} of {repeat}" if variant in CPU_VARIANTS and repeat > 1 else ""
                    progress(done, total, f"{variant}, {users} users, {_workers(workers)}, {mode} loop{of}")
                    spec = LoadSpec(
                        url=f"{srv.url}/{variant}", concurrency=users, duration_s=duration,
                        warmup_s=warmup, ramp_s=min(delay, warmup / 2), mode=mode,
                        rate=open_loop_rate if mode == "open" else None, timeout_s=timeout, drain_s=drain,
                    )  # fmt: skip
                    row = _row(variant, users, workers, threadpool, mode, open_loop_rate)
                    if start_error:
                        row["error"] = start_error
                    else:
                        last = index == len(cells) - 1
                        start_error = _measure(gen, srv, spec, row, warnings, drain, last)
                    runs.setdefault(key, []).append(row)
                    _keep_median(rows, runs[key])
                    for each in rows:  # a CPU lesson compares with another row: refresh all
                        _explain(each, doc, cpu_s, cores)
                    done += 1
                    if checkpoint:
                        checkpoint(doc)
            finally:
                srv.stop()
    progress(done, total, "done")
    warnings.extend(_warnings(doc, cores))
    return doc


@contextmanager
def _services() -> Iterator[tuple[DelayServer, LoadGenerator]]:
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


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _workers(n: int) -> str:
    return _plural(n, "worker")


def _start(srv: UvicornServer) -> str | None:
    try:
        srv.start()
        return None
    except Exception as exc:  # recorded in the rows: the lab goes on with the next variant
        return f"server did not start: {exc}"


def _row(variant: str, users: int, workers: int, threadpool: int, mode: str, rate: float | None) -> dict:
    return {
        "variant": variant, "concurrency": users, "server_workers": workers, "threadpool": threadpool,
        "mode": mode, "rps": None, "requests": 0, "errors": 0, "timeouts": 0,
        "latency_ms": {"p50": None, "p95": None, "p99": None, "max": None},
        "server_cpu_s": None, "generator_cpu_s": None, "other_cpu_s": None, "above_half_ceiling": False,
        "expected_rps": None, "lesson": "", "offered_rps": rate if mode == "open" else None,
        "send_lag_ms_max": None, "window_s": None, "attempts": 0, "rps_runs": [], "error": None,
    }  # fmt: skip


def _busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores)."""
    times = psutil.cpu_times()
    # guest time is already inside user/nice; idle, iowait and steal are not ours to count.
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def _noise_cores(row: dict) -> float:
    """Cores other programs used during the row's window (0 when not measured)."""
    if not row["window_s"] or row["other_cpu_s"] is None:
        return 0.0
    return row["other_cpu_s"] / row["window_s"]


def _keep_median(rows: list[dict], runs: list[dict]) -> None:
    """Put the cell's median-RPS run in ``rows`` (in place of its earlier pick), with all runs' RPS.

    The median of an even count is the lower middle run; runs that failed are kept out
    unless every run failed (then the first one, with its error).
    """
    ok = sorted((r for r in runs if r["error"] is None and r["rps"] is not None), key=lambda r: r["rps"])
    pick = ok[(len(ok) - 1) // 2] if ok else runs[0]
    pick.update(attempts=len(runs), rps_runs=[r["rps"] for r in runs])
    for index, row in enumerate(rows):
        if any(row is run for run in runs):
            rows[index] = pick
            return
    rows.append(pick)


def _measure(gen: LoadGenerator, srv: UvicornServer, spec: LoadSpec, row: dict, warnings: list[dict],
             drain: float, last: bool) -> str | None:
    """Fill ``row`` from one run; return an error that makes the server unusable, else None.

    Unless this is the server's ``last`` measurement, a server that does not answer
    ``/health`` after the drain holds a backlog and is restarted.
    """
    marks: dict[str, tuple[float, float]] = {}

    def on_event(name: str) -> None:
        marks[name] = (srv.cpu_seconds(), _busy_cpu_seconds())

    try:
        result: LoadResult = gen.run(spec, on_event)
    except Exception as exc:
        row["error"] = f"load generator: {exc}"
        if gen.proc is None:  # it died or was stopped: the next measurement gets a new one
            gen.start()
        return None
    row.update(
        rps=result.rps, requests=result.requests, errors=result.errors, timeouts=result.timeouts,
        latency_ms=result.latency_ms, generator_cpu_s=result.generator_cpu_s, send_lag_ms_max=result.send_lag_ms_max,
        window_s=result.window_s,
    )  # fmt: skip
    if "window_start" in marks and "window_end" in marks:
        server = marks["window_end"][0] - marks["window_start"][0]
        busy = marks["window_end"][1] - marks["window_start"][1]
        row["server_cpu_s"] = round(server, 3)
        row["other_cpu_s"] = round(max(0.0, busy - server - result.generator_cpu_s), 3)
    if last:
        return None
    if not srv.is_responsive(timeout=drain):
        label = f"{row['variant']} at {row['concurrency']} users, {_workers(row['server_workers'])}"
        warnings.append({
            "code": "server-restarted",
            "message": f"{label}: /health did not answer {drain:g} s after the window (a backlog of "
                       "blocked requests); the server was restarted before the next measurement",
        })  # fmt: skip
        srv.stop()
        return _start(srv)
    return None


def _explain(row: dict, doc: dict, cpu_s: float, cores: int) -> None:
    """Set expected_rps, above_half_ceiling and the one-line lesson of a row."""
    cfg = doc["config"]
    delay = cfg["delay_s"]
    users, workers, tp = row["concurrency"], row["server_workers"], row["threadpool"]
    expected = expected_rps(row["variant"], users, workers, tp, delay, cpu_s, cores)
    if expected is not None and row["mode"] == "open":
        expected = min(expected, row["offered_rps"])
    row["expected_rps"] = None if expected is None else round(expected, 1)
    ceiling = doc["generator_ceiling_rps"]
    row["above_half_ceiling"] = bool(ceiling and row["rps"] is not None and row["rps"] > ceiling / 2)
    if row["error"]:
        row["lesson"] = f"not measured: {row['error']}"
        return
    row["lesson"] = _lesson(row, doc, delay, cpu_s, cores)


def _lesson(row: dict, doc: dict, delay: float, cpu_s: float, cores: int) -> str:
    variant, users, workers, tp = row["variant"], row["concurrency"], row["server_workers"], row["threadpool"]
    rps, exp = row["rps"], row["expected_rps"]
    at = f"{rps:.3g} RPS at {users} users" if rps < 10 else f"{rps:.0f} RPS at {users} users"
    if workers > 1:
        at += f" on {workers} workers"
    if row["mode"] == "open":
        p99 = row["latency_ms"]["p99"]
        p99_text = "no request succeeded" if p99 is None else f"p99 {p99:.0f} ms from the intended send time"
        return f"{variant}, open loop at {row['offered_rps']:g} RPS offered: {at}; {p99_text}"
    if variant == "sync-io":
        pool = f"{tp}-thread pool" if workers == 1 else f"{tp}-thread pools"
        slots = tp * workers
        if users > slots:
            return f"def + requests runs in AnyIO's {pool}: {at}, capped at {slots}/{delay:g} s = {exp:.0f}"
        return f"def + requests runs in AnyIO's {pool}: {at}, all in flight ({users}/{delay:g} s = {exp:.0f})"
    if variant == "async-blocking":
        return (f"async def + requests serialises every request: {at} "
                f"({min(users, workers)}/{delay:g} s = {exp:.3g}, one request per event loop)")
    if variant == "async-io":
        return f"async def + one shared aiohttp session: {at}, every user in flight ({users}/{delay:g} s = {exp:.0f})"
    if variant in CPU_VARIANTS:
        kind = "def" if variant == "sync-cpu" else "async def"
        holds = "holds the GIL" if variant == "sync-cpu" else "blocks the event loop"
        text = (f"{kind} + the pure-Python loop ({cpu_s * 1000:.0f} ms) {holds}: {at} "
                f"(estimate {_plural(min(users, workers, cores), 'core')} / {cpu_s * 1000:.0f} ms = {exp:.0f})")
        runs = [r for r in row["rps_runs"] if r is not None]
        if len(runs) > 1:
            text += f", median of {len(runs)} fresh servers ({min(runs):.0f}-{max(runs):.0f})"
        busy = _busy(row, cores)
        if busy is not None:
            text += f", its {_plural(min(workers, cores), 'core')} {busy:.0%} busy"
        base = _find(doc, variant, users, 1, "closed")
        if workers > 1 and base and base["rps"]:
            text += f"; {rps / base['rps']:.2f}x the 1-worker {base['rps']:.0f} RPS: only processes add cores"
            if len(runs) <= 1:
                text += " (one server each, and fresh processes differ in speed: --repeat 3 takes a median)"
        single = _find(doc, "async-cpu", users, workers, "closed") if variant == "sync-cpu" else None
        single_busy = _busy(single, cores) if single and not single["error"] else None
        if busy is not None and single_busy is not None and single_busy - busy > BUSIER:
            text += (f"; async-cpu (one thread a worker) kept them {single_busy:.0%} busy: the rest went on "
                     f"handing one GIL between up to {min(tp, users)} threads")
        others = max(_noise_cores(r) for r in (row, base) if r)
        if others > NOISY_CORES:
            text += f" (other programs took {others:.1f} cores meanwhile: measure again on a quiet machine)"
        return text
    ceiling = doc["generator_ceiling_rps"]
    limit = "" if ceiling is None else f" (generator ceiling {ceiling:.0f} RPS)"
    return f"no work at all: {at}, the harness's own limit{limit}"


def _busy(row: dict, cores: int) -> float | None:
    """Share of the cores the server's workers could use that they did use, in the window."""
    if row["server_cpu_s"] is None or not row["window_s"]:
        return None
    return row["server_cpu_s"] / row["window_s"] / min(row["server_workers"], cores)


def _find(doc: dict, variant: str, users: int, workers: int, mode: str) -> dict | None:
    for row in doc["web_results"]:
        if (row["variant"], row["concurrency"], row["server_workers"], row["mode"]) == (variant, users, workers, mode):
            return row
    return None


def _warnings(doc: dict, cores: int) -> list[dict]:
    """Warnings as values: one per condition, naming the rows it concerns."""
    out: list[dict] = []
    env, cfg, rows = doc["environment"], doc["config"], doc["web_results"]

    def label(row: dict) -> str:
        return f"{row['variant']}@{row['concurrency']}u/{row['server_workers']}w/{row['mode']}"

    if env["load_avg_1m"] > cores / 2:
        out.append({"code": "machine-loaded",
                    "message": f"1-minute load average {env['load_avg_1m']} on {cores} core(s) before the lab: "
                               "CPU-bound figures may be low"})  # fmt: skip
    if max(cfg["server_workers"]) > cores:
        out.append({"code": "workers-exceed-cores",
                    "message": f"{max(cfg['server_workers'])} server workers on {cores} usable core(s); the load "
                               "generator and delay server share them too"})  # fmt: skip
    failed = [row for row in rows if row["error"]]
    if failed:
        out.append({"code": "measurement-failed",
                    "message": "; ".join(f"{label(r)}: {r['error']}" for r in failed)})  # fmt: skip
    flagged = [row for row in rows if row["above_half_ceiling"] and row["variant"] != "noop"]
    if flagged:
        out.append({"code": "generator-bound",
                    "message": f"above half the generator ceiling ({doc['generator_ceiling_rps']:.0f} RPS), so "
                               f"partly a measure of the generator: {', '.join(map(label, flagged))}"})  # fmt: skip
    noisy = [row for row in rows if _noise_cores(row) > NOISY_CORES]
    if noisy:
        out.append({"code": "noisy-neighbours",
                    "message": "other processes used CPU during the window (cores): "
                               + ", ".join(f"{label(r)} {_noise_cores(r):.2f}" for r in noisy)})  # fmt: skip
    erred = [row for row in rows if row["errors"] or row["timeouts"]]
    if erred:
        out.append({"code": "request-errors",
                    "message": ", ".join(f"{label(r)}: {r['errors']} errors, {r['timeouts']} timeouts"
                                         for r in erred)})  # fmt: skip
    off = [
        row for row in rows
        if row["variant"] in ("sync-io", "async-io", "async-blocking") and row["rps"] is not None
        and row["expected_rps"] and abs(row["rps"] / row["expected_rps"] - 1) > OFF_THEORY
    ]  # fmt: skip
    if off:
        pairs = ", ".join(f"{label(r)} {r['rps']:.1f} vs {r['expected_rps']:.1f} RPS" for r in off)
        out.append({"code": "off-theory", "message": f"more than {OFF_THEORY:.0%} from queueing theory: {pairs}"})
    return out


# --- presentation: pure functions of the document ---------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(doc: dict) -> Table:
    """The results as a rich Table: one row per measurement."""
    ceiling = doc.get("generator_ceiling_rps")
    cfg = doc["config"]
    table = Table(
        title=f"gilbench web: {cfg['delay_s']:g} s slow service, thread pool {cfg['threadpool']}, "
              f"{cfg['duration_s']:g} s windows",
        caption=None if ceiling is None else f"generator ceiling {ceiling:.0f} RPS; ! = above half of it",
    )  # fmt: skip
    for name, justify in [
        ("variant", "left"), ("users", "right"), ("workers", "right"), ("loop", "left"),
        ("RPS", "right"), ("theory", "right"), ("p50 ms", "right"), ("p99 ms", "right"),
        ("err/t-o", "right"), ("server CPU s", "right"), ("gen CPU s", "right"), ("other CPU s", "right"),
        ("", "left"),
    ]:  # fmt: skip
        table.add_column(name, justify=justify)
    for row in doc["web_results"]:
        if row["error"]:
            cells = [row["variant"], str(row["concurrency"]), str(row["server_workers"]), row["mode"],
                     "failed", _num(row["expected_rps"]), "-", "-", "-", "-", "-", "-", ""]  # fmt: skip
        else:
            cells = [
                row["variant"], str(row["concurrency"]), str(row["server_workers"]), row["mode"],
                _num(row["rps"]), _num(row["expected_rps"]),
                _ms(row["latency_ms"]["p50"]), _ms(row["latency_ms"]["p99"]),
                f"{row['errors']}/{row['timeouts']}",
                _num(row["server_cpu_s"], 2), _num(row["generator_cpu_s"], 2), _num(row["other_cpu_s"], 2),
                "!" if row["above_half_ceiling"] else "",
            ]  # fmt: skip
        table.add_row(*cells)
    return table


def format_lessons(doc: dict) -> list[str]:
    """One line per variant (at its highest concurrency), then the verdict on the post's claim."""
    rows = [r for r in doc["web_results"] if r["mode"] == "closed" and not r["error"]]
    lines: list[str] = []
    for variant in doc["config"]["variants"]:
        mine = [r for r in rows if r["variant"] == variant]
        if not mine:
            continue
        top = max(r["concurrency"] for r in mine)
        at_top = sorted((r for r in mine if r["concurrency"] == top), key=lambda r: r["server_workers"])
        if variant in CPU_VARIANTS:  # the most-workers lesson compares with 1 worker
            lines.append(f"{variant}: {at_top[-1]['lesson']}")
            continue
        line = f"{variant}: {at_top[0]['lesson']}"
        for other in at_top[1:]:
            line += f" | {other['server_workers']} workers: {other['rps']:.0f} RPS"
            if other["expected_rps"] is not None:
                line += f" (theory {other['expected_rps']:.0f})"
        lines.append(line)
    claim = verdict(doc)
    if claim:
        lines.append(claim)
    return lines


def verdict(doc: dict) -> str | None:
    """What the numbers say about the post's claim, from the sync-io rows at the highest concurrency."""
    rows = [r for r in doc["web_results"]
            if r.get("mode", "closed") == "closed" and not r.get("error") and r.get("rps") is not None]
    sync = [r for r in rows if r["variant"] == "sync-io"]
    if not sync:
        return None
    top = max(r["concurrency"] for r in sync)
    by_workers = {r["server_workers"]: r for r in sync if r["concurrency"] == top}
    tp, delay = doc["config"]["threadpool"], doc["config"]["delay_s"]
    first = by_workers[min(by_workers)]
    slots = tp * first["server_workers"]
    text = (f"Claim check: a def endpoint calling a slow service scales with users only up to the thread pool: "
            f"{first['rps']:.0f} RPS at {top} users with {_workers(first['server_workers'])}, "
            f"at most {slots}/{delay:g} s = {slots / delay:.0f}")  # fmt: skip
    if len(by_workers) > 1:
        last = by_workers[max(by_workers)]
        text += f"; {last['server_workers']} workers: {last['rps']:.0f} RPS"
    async_io = [r for r in rows if r["variant"] == "async-io" and r["concurrency"] == top]
    if async_io:
        text += f"; async def + an async client: {async_io[0]['rps']:.0f} RPS with no pool to exhaust"
    return text + "."
