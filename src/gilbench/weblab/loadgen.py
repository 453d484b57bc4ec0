"""A load generator for the web lab: asyncio + aiohttp, closed or open loop, HdrHistogram.

Why a subprocess. The generator runs as ``python -m gilbench.weblab.loadgen``, one
process for the whole lab, taking one job per stdin line. That keeps three things apart
that would otherwise blur the measurement: its CPU seconds (``time.process_time`` of its
own process, over the window only) are not mixed with the lab's; the lab's progress
display and psutil sampling never hold the generator's GIL; and a sick generator can be
killed by process group like every other service. Starting it once, not per job, saves
~0.3 s of interpreter and aiohttp import per measurement.

Modes.

- *closed*: ``concurrency`` users, each sending its next request when the previous one
  completes (zero think time). Users start staggered over ``ramp_s`` so completions are
  spread in time rather than in lock-step batches. Latencies, errors and timeouts are those
  of the requests *completing* in the window. Throughput counts every successful request by
  the share of its lifetime that lies inside the window (a request sent 1 s before the
  window and answered 1 s into it counts 0.5), divided by the window. Counting whole
  completions instead swings with phase whenever the server answers in batches: a CPU-bound
  ``def`` endpoint shares one core among 40 threads, so ~40 requests finish together every
  ~1.4 s, and a 2 s window held 25 or 57 "RPS" of the same server (same CPU seconds) in
  two runs. The shares sum to the same figure on average, without the jump, provided the
  requests in flight when the window opens were sent to a server already in its steady
  state: a young request (sent just after the load began) lies mostly inside the window, so
  the window opens only after ``warmup_s`` *and* every user's first answer (up to
  ``steady_wait_s`` more). Measured on gunicorn's sync worker, 50 users, 0.1 s per request:
  with a fixed 1 s warm-up the shares gave 13.1 RPS where 29 completions in 3 s (9.7 RPS)
  and 1/latency (9.6) agree. To learn the
  lifetime of the requests in flight at the window's end, the users keep the load on (their
  extra requests uncounted) until every one of those has finished, up to ``drain_s``; one
  still unanswered then counts nothing.
- *open*: requests are due at a fixed ``rate`` whether or not earlier ones have returned.
  Latency counts from the *intended* send time, so when the server (or this generator)
  falls behind, the wait shows up in the latency instead of being silently omitted
  (coordinated omission). Latencies, errors and timeouts are those of the requests *due*
  in the window (their completions are waited for after it); throughput is the successful
  completions *inside* the window, i.e. what the server sustained, not what was offered.

Every run: warm-up (discarded), window (counted), drain (in-flight requests may finish,
up to a bound, then are cancelled). Errors (non-200 or connection failures) and timeouts
are counted apart and never enter the histogram.

Protocol (one JSON object a line, each prefixed with ``EVENT_PREFIX``): ready; then per job
``window_start``, ``window_end``, then ``result`` (or ``error``). The parent samples the
server's CPU on the window events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import TracebackType

from gilbench.jsonlines import DeadlineExceeded, LineReader

READY_PREFIX = "GILBENCH-LOADGEN-READY"
EVENT_PREFIX = "GILBENCH-LOADGEN "
# Latencies are recorded in microseconds, 1 us .. 1 h, 3 significant digits.
HIST_MAX_US = 3_600_000_000
HIST_DIGITS = 3
# A user that hits an error pauses this long, so a dead server is not hammered in a spin.
ERROR_PAUSE_S = 0.01


class LoadError(RuntimeError):
    """The load generator failed or did not answer in time."""


@dataclass(frozen=True)
class LoadSpec:
    """One measurement to run."""

    url: str
    """Full URL to GET, e.g. http://127.0.0.1:8000/sync-io."""
    concurrency: int
    """Closed loop: users. Open loop: the connection limit."""
    duration_s: float
    """Length of the counted window."""
    warmup_s: float = 1.0
    """Discarded time before the window (users ramp up in it)."""
    ramp_s: float = 0.5
    """Closed loop: users start evenly over this many seconds (<= warmup_s)."""
    mode: str = "closed"
    """``closed`` or ``open``."""
    rate: float | None = None
    """Open loop: requests per second due."""
    timeout_s: float = 10.0
    """Per-request total timeout; a request that takes longer counts as a timeout."""
    drain_s: float = 2.0
    """Closed loop: how long in-flight requests may finish after the window."""
    method: str = "GET"
    """HTTP method of every request."""
    body: str | None = None
    """Request body (UTF-8), or None for none."""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra request headers, as (name, value) pairs."""
    steady_wait_s: float = 10.0
    """Closed loop: after ``warmup_s``, how much longer the window may wait for every user to
    have had an answer, so that the requests in flight when it opens were sent to a warm,
    loaded server (else a slow server's first, young requests inflate the lifetime shares)."""

    def __post_init__(self) -> None:  # JSON gives lists: keep the pairs hashable
        object.__setattr__(self, "headers", tuple(tuple(pair) for pair in self.headers))


@dataclass
class LoadResult:
    """What one measurement saw; the fields are the web lab's JSON row fields."""

    mode: str
    concurrency: int
    window_s: float
    """Nominal window length the counts refer to."""
    requests: int
    """Successful (HTTP 200) requests completed inside the window."""
    rps: float
    """Closed loop: successful requests weighted by the share of their lifetime inside the
    window, / window_s. Open loop: requests / window_s."""
    errors: int
    """Non-200 answers and connection failures (closed: completed in the window; open: due in
    it)."""
    timeouts: int
    """Requests that exceeded timeout_s (closed: completed in the window; open: due in it)."""
    latency_ms: dict[str, float | None]
    """p50, p95, p99, max of successful requests (from intended send time in open loop)."""
    generator_cpu_s: float
    """This generator's CPU seconds over the window."""
    offered_rps: float | None = None
    """Open loop: the rate requests were due at."""
    send_lag_ms_max: float | None = None
    """Open loop: worst delay between a request's due time and its actual send."""
    error_kinds: dict[str, int] | None = None
    """What the errors were: ``{"HTTP 500": 12, "connection": 1}`` (counted like ``errors``)."""
    warmup_s: float | None = None
    """Seconds from the first request to the window's start (``warmup_s`` or more: closed
    loops wait for every user's first answer, up to ``steady_wait_s``)."""


def _histogram():
    from hdrh.histogram import HdrHistogram

    return HdrHistogram(1, HIST_MAX_US, HIST_DIGITS)


def _percentiles(hist) -> dict[str, float | None]:
    if hist.get_total_count() == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    values = hist.get_percentile_to_value_dict([50.0, 95.0, 99.0])
    return {
        "p50": round(values[50.0] / 1000, 2),
        "p95": round(values[95.0] / 1000, 2),
        "p99": round(values[99.0] / 1000, 2),
        "max": round(hist.get_max_value() / 1000, 2),
    }


def window_share(sent: float, done: float, start: float, end: float) -> float:
    """The share (0..1) of the request's lifetime [sent, done] that lies inside [start, end),
    all ``time.perf_counter`` seconds; a zero-length request counts 1 if it ends inside."""
    life = done - sent
    if life <= 0:
        return 1.0 if start <= done < end else 0.0
    return max(0.0, min(done, end) - max(sent, start)) / life


class _Tally:
    """Counts and latencies of the requests that belong to the window."""

    def __init__(self) -> None:
        self.hist = _histogram()
        self.served = 0
        self.work = 0.0
        """Closed loop: successful requests weighted by their share inside the window."""
        self.errors = 0
        self.timeouts = 0
        self.error_kinds: dict[str, int] = {}

    def add(self, outcome: str, latency_s: float) -> None:
        if outcome == "ok":
            self.hist.record_value(min(max(int(latency_s * 1e6), 1), HIST_MAX_US))
        elif outcome == "timeout":
            self.timeouts += 1
        else:
            self.errors += 1
            self.error_kinds[outcome] = self.error_kinds.get(outcome, 0) + 1


async def _get(session, spec: LoadSpec) -> str:
    """One request as ``spec`` says: ``ok`` (a 2xx answer), ``timeout``, or what the error was
    (``HTTP 500``, ``connection``); the body is read in full."""
    import aiohttp

    try:
        async with session.request(
            spec.method, spec.url, data=spec.body, headers=dict(spec.headers) or None
        ) as response:
            await response.read()
            return "ok" if 200 <= response.status < 300 else f"HTTP {response.status}"
    except TimeoutError:
        return "timeout"
    except (aiohttp.ClientError, OSError):
        return "connection"


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


class _Window:
    """The counted window's edges (``time.perf_counter`` s): unknown (infinite) until it opens."""

    def __init__(self) -> None:
        self.start = math.inf
        self.end = math.inf
        self.ended = asyncio.Event()


async def _window(
    win: _Window,
    earliest: float,
    spec: LoadSpec,
    answered: asyncio.Event | None,
    emit: Callable[[dict], None],
) -> float:
    """Open the window at ``earliest`` or, when ``answered`` is given (closed loop), once it is
    set too (every user has had an answer), waiting at most ``spec.steady_wait_s`` more for it;
    emit its edges and return this process's CPU seconds inside it."""
    await _sleep_until(earliest)
    if answered is not None and not answered.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(answered.wait(), timeout=spec.steady_wait_s)
    win.start = max(earliest, time.perf_counter())
    win.end = win.start + spec.duration_s
    emit({"event": "window_start"})
    cpu0 = time.process_time()
    await _sleep_until(win.end)
    cpu = time.process_time() - cpu0
    emit({"event": "window_end"})
    win.ended.set()
    return cpu


async def run_load(spec: LoadSpec, emit: Callable[[dict], None] = lambda event: None) -> LoadResult:
    """Run one measurement from this process's event loop; ``emit`` receives the
    ``window_start`` / ``window_end`` events. Takes about warmup_s + duration_s + the drain.
    Raises ValueError for an unknown mode or an open loop without a rate."""
    import aiohttp

    if spec.mode not in ("closed", "open"):
        raise ValueError(f"unknown mode {spec.mode!r}")
    if spec.mode == "open" and not spec.rate:
        raise ValueError("open loop needs a rate")
    connector = aiohttp.TCPConnector(limit=spec.concurrency, limit_per_host=spec.concurrency)
    timeout = aiohttp.ClientTimeout(total=spec.timeout_s)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False
    ) as session:
        t0 = time.perf_counter()
        tally = _Tally()
        win = _Window()
        if spec.mode == "closed":
            answered = asyncio.Event()
            window = asyncio.create_task(_window(win, t0 + spec.warmup_s, spec, answered, emit))
            send_lag = None
            await _closed(session, spec, t0, win, answered, tally)
        else:
            # An open loop's schedule is fixed in advance: its window is too.
            win.start, win.end = t0 + spec.warmup_s, t0 + spec.warmup_s + spec.duration_s
            window = asyncio.create_task(_window(win, win.start, spec, None, emit))
            send_lag = await _open(session, spec, t0, win.start, win.end, tally)
        cpu = await window
    return LoadResult(
        mode=spec.mode,
        concurrency=spec.concurrency,
        window_s=spec.duration_s,
        requests=tally.served,
        rps=round((tally.work if spec.mode == "closed" else tally.served) / spec.duration_s, 2),
        errors=tally.errors,
        timeouts=tally.timeouts,
        latency_ms=_percentiles(tally.hist),
        generator_cpu_s=round(cpu, 3),
        offered_rps=spec.rate if spec.mode == "open" else None,
        send_lag_ms_max=None if send_lag is None else round(send_lag * 1000, 2),
        error_kinds=dict(tally.error_kinds),
        warmup_s=round(win.start - t0, 3),
    )


async def _closed(
    session, spec: LoadSpec, t0: float, win: _Window, answered: asyncio.Event, tally: _Tally
) -> None:
    ramp = min(spec.ramp_s, spec.warmup_s)
    past_end = asyncio.Event()  # set once every user has had a request finish after ``end``
    waiting = spec.concurrency
    unanswered = spec.concurrency

    async def user(index: int) -> None:
        nonlocal waiting, unanswered
        await _sleep_until(t0 + ramp * index / spec.concurrency)
        crossed = False
        first = True
        while not past_end.is_set():
            sent = time.perf_counter()
            outcome = await _get(session, spec)
            done = time.perf_counter()
            if first:
                first = False
                unanswered -= 1
                if not unanswered:
                    answered.set()
            if win.start <= done < win.end:
                tally.add(outcome, done - sent)
                tally.served += outcome == "ok"
            if outcome == "ok" and sent < win.end:
                tally.work += window_share(sent, done, win.start, win.end)
            if done >= win.end and not crossed:
                crossed = True
                waiting -= 1
                if not waiting:
                    past_end.set()
            if outcome != "ok":
                await asyncio.sleep(ERROR_PAUSE_S)

    users = [asyncio.create_task(user(i)) for i in range(spec.concurrency)]
    await win.ended.wait()
    try:
        await asyncio.wait_for(past_end.wait(), timeout=spec.drain_s)
    except TimeoutError:
        pass
    for task in users:
        task.cancel()
    await asyncio.gather(*users, return_exceptions=True)


async def _open(
    session, spec: LoadSpec, t0: float, start: float, end: float, tally: _Tally
) -> float:
    """Send at the fixed rate; return the worst send lag in seconds."""
    assert spec.rate
    interval = 1.0 / spec.rate

    async def request(due: float) -> None:
        outcome = await _get(session, spec)
        done = time.perf_counter()
        if start <= due < end:
            tally.add(outcome, done - due)
        if start <= done < end:
            tally.served += outcome == "ok"

    tasks: set[asyncio.Task] = set()
    worst_lag = 0.0
    index = 0
    while (due := t0 + index * interval) < end:
        await _sleep_until(due)
        worst_lag = max(worst_lag, time.perf_counter() - due)
        task = asyncio.create_task(request(due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        index += 1
    if tasks:
        # Every request has its own timeout, so this bound is only a safety net.
        _, pending = await asyncio.wait(set(tasks), timeout=spec.timeout_s + 1.0)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return worst_lag


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _emit(event: dict) -> None:
    sys.stdout.write(EVENT_PREFIX + json.dumps(event) + "\n")
    sys.stdout.flush()


def main() -> None:
    """Serve jobs from stdin (one JSON LoadSpec a line) until EOF, after printing READY_PREFIX;
    each job's events and its result (or error) go to stdout as EVENT_PREFIX lines."""
    from gilbench.services.delay_server import raise_fd_limit

    raise_fd_limit()
    import aiohttp  # noqa: F401  (imported before "ready", so the first job is not slower)
    import hdrh.histogram  # noqa: F401

    print(READY_PREFIX, flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            spec = LoadSpec(**json.loads(line))
            with asyncio.Runner(loop_factory=_new_loop) as runner:
                result = runner.run(run_load(spec, _emit))
            _emit({"event": "result", "result": asdict(result)})
        except Exception as exc:  # reported to the parent, which raises LoadError
            _emit({"event": "error", "message": f"{type(exc).__name__}: {exc}"})


class LoadGenerator:
    """The generator process: ``with LoadGenerator() as gen: gen.run(spec)``."""

    def __init__(self, python: str = sys.executable, startup_timeout: float = 20.0):
        self.python = python
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self._reader: LineReader | None = None  # the events after the ready line

    def start(self) -> LoadGenerator:
        """Start the generator process and wait up to ``startup_timeout`` s for its ready line;
        returns self. Raises LoadError when it exits or stays silent (the process is stopped)."""
        from gilbench.services import _process

        self.proc = _process.spawn(
            [self.python, "-m", "gilbench.weblab.loadgen"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_process.child_env(),
        )
        try:
            # Safe to use read_ready_line here: nothing follows the ready line until a job.
            _process.read_ready_line(self.proc, READY_PREFIX, self.startup_timeout)
        except _process.ServiceError as exc:
            self.stop()
            raise LoadError(f"load generator {exc}") from None
        except BaseException:  # Ctrl-C while starting: ``__exit__`` will not run, so stop here
            self.stop()
            raise
        return self

    def run(
        self, spec: LoadSpec, on_event: Callable[[str], None] = lambda name: None
    ) -> LoadResult:
        """Run ``spec`` in the generator and return its LoadResult; ``on_event("window_start" |
        "window_end")`` fires at the window edges. Raises LoadError when not started, when the
        job fails, or when no answer comes within the spec's own durations + timeout_s + 15 s."""
        if self.proc is None or self.proc.stdin is None:
            raise LoadError("load generator not started")
        self.proc.stdin.write((json.dumps(asdict(spec)) + "\n").encode())  # tuples -> lists
        self.proc.stdin.flush()
        wait = (
            spec.warmup_s + spec.steady_wait_s + spec.duration_s + spec.drain_s
            + spec.timeout_s + 15.0
        )  # fmt: skip
        deadline = time.monotonic() + wait
        while True:
            event = self._read_event(deadline)
            name = event.get("event")
            if name == "result":
                return LoadResult(**event["result"])
            if name == "error":
                raise LoadError(f"load generator: {event.get('message')}")
            on_event(name)

    def _read_event(self, deadline: float) -> dict:
        assert self.proc is not None and self.proc.stdout is not None
        if self._reader is None:
            self._reader = LineReader(self.proc.stdout.fileno())
        try:
            event = self._reader.read_json(deadline, prefix=EVENT_PREFIX)
        except DeadlineExceeded:
            self.stop()
            raise LoadError("load generator did not answer in time") from None
        if event is None:
            code = self.proc.wait(timeout=5)
            self.proc, self._reader = None, None
            raise LoadError(f"load generator exited with code {code}")
        return event

    def stop(self) -> None:
        """Stop the generator's process group (SIGTERM, then SIGKILL); idempotent."""
        from gilbench.services import _process

        if self.proc is not None:
            _process.stop(self.proc)
            self.proc = None
        self._reader = None

    def __enter__(self) -> LoadGenerator:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def measure_ceiling(
    gen: LoadGenerator, url: str, concurrency: int, duration_s: float, runs: int = 2
) -> float:
    """Closed-loop maximum RPS against ``url`` (an endpoint that does nothing), best of ``runs``.

    The server shares the machine, so this is a lower bound of what the generator alone could
    do; flagging results above half of it therefore errs on the side of flagging. The best
    run, not the median, because a capacity is what the quietest moment shows.
    """
    spec = LoadSpec(
        url=url,
        concurrency=concurrency,
        duration_s=duration_s,
        warmup_s=0.5,
        ramp_s=0.0,
        timeout_s=10.0,
    )
    return max(gen.run(spec).rps for _ in range(runs))


if __name__ == "__main__":
    main()
