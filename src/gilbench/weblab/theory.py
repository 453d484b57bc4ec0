"""The web lab's pure side: queueing-theory expectations, lessons and warnings of a web document.

Nothing here starts a server or sends a request: every function reads numbers (or a ``kind:
web`` document, see ``gilbench.documents``) and returns numbers, text or rows, so the tests
call them directly and the report can rely on them.

Queueing theory used for ``expected_rps`` (closed loop, zero think time, service time = the
slow service's delay): by Little's law (L = λW, so throughput = requests in service / time in
service), ``m`` requests in service at once give ``min(users, m) / delay``, with
``m`` = threadpool x workers for ``def`` + requests, users for ``async def`` + an async client,
and workers for ``async def`` + requests (the event loop is the only "thread"). CPU variants
are bounded by cores: ``min(users, workers, cores) / cpu time per request``.
"""

from __future__ import annotations

from gilbench.report.format import plural
from gilbench.report.web import verdict

CPU_VARIANTS = ("sync-cpu", "async-cpu")
"""Variants that burn CPU in the endpoint (their throughput is the workers' speed)."""
IO_VARIANTS = ("sync-io", "async-io", "async-blocking")
"""Variants that wait on the slow service (their throughput is set by queueing)."""
OFF_THEORY = 0.15
"""An I/O row further than this from its expected RPS gets a warning."""
NOISY_CORES = 0.25
"""Other processes using more than this many cores during a window get a warning."""
BUSIER = 0.05
"""async-cpu keeping its cores this much busier than sync-cpu is worth a sentence."""


def expected_rps(
    variant: str,
    users: int,
    workers: int,
    threadpool: int,
    delay_s: float,
    cpu_s: float | None,
    cores: int,
) -> float | None:
    """Queueing-theory throughput (requests/s) of a closed loop with zero think time.

    Little's law: requests in service at once / seconds each takes (see the module doc for
    each variant's bound). ``delay_s`` is the slow service's delay, ``cpu_s`` the CPU seconds
    of one CPU-bound request (None: unknown). Returns None for a variant theory says nothing
    about (noop) or a CPU variant without ``cpu_s``. An I/O variant with ``delay_s`` 0 raises
    ZeroDivisionError.
    """
    if variant == "sync-io":
        return min(users, threadpool * workers) / delay_s
    if variant == "async-io":
        return users / delay_s
    if variant == "async-blocking":
        return min(users, workers) / delay_s
    if variant in CPU_VARIANTS and cpu_s:
        return min(users, workers, cores) / cpu_s
    return None


def new_row(
    variant: str, users: int, workers: int, threadpool: int, mode: str, rate: float | None
) -> dict:
    """An unmeasured ``web_results`` row (every field present, measurements None or 0).

    ``rate`` (RPS) becomes ``offered_rps`` for an open-loop row (``mode == "open"``) only.
    """
    return {
        "variant": variant, "concurrency": users, "server_workers": workers,
        "threadpool": threadpool, "mode": mode, "rps": None,
        "requests": 0, "errors": 0, "timeouts": 0,
        "latency_ms": {"p50": None, "p95": None, "p99": None, "max": None},
        "server_cpu_s": None, "generator_cpu_s": None, "other_cpu_s": None,
        "above_half_ceiling": False, "expected_rps": None, "lesson": "",
        "offered_rps": rate if mode == "open" else None,
        "send_lag_ms_max": None, "window_s": None, "attempts": 0, "rps_runs": [], "error": None,
    }  # fmt: skip


def noise_cores(row: dict) -> float:
    """Cores other programs used during the row's window: ``other_cpu_s / window_s``.

    0.0 when either was not measured. Raises KeyError on a row without those fields.
    """
    if not row["window_s"] or row["other_cpu_s"] is None:
        return 0.0
    return row["other_cpu_s"] / row["window_s"]


def keep_median(rows: list[dict], runs: list[dict]) -> None:
    """Put the cell's median-RPS run in ``rows`` (in place of its earlier pick), with all runs' RPS.

    The median of an even count is the lower middle run; runs that failed are kept out
    unless every run failed (then the first one, with its error). ``runs`` must not be empty.
    """
    ok = sorted(
        (r for r in runs if r["error"] is None and r["rps"] is not None), key=lambda r: r["rps"]
    )
    pick = ok[(len(ok) - 1) // 2] if ok else runs[0]
    pick.update(attempts=len(runs), rps_runs=[r["rps"] for r in runs])
    for index, row in enumerate(rows):
        if any(row is run for run in runs):
            rows[index] = pick
            return
    rows.append(pick)


def explain(row: dict, doc: dict, cpu_s: float, cores: int) -> None:
    """Set a row's ``expected_rps`` (RPS, 1 decimal), ``above_half_ceiling`` and ``lesson``.

    Changes ``row`` in place and returns None; an open-loop row's expectation is capped at its
    offered rate.

    ``doc`` is the web document so far (its config, ceiling and other rows, which a CPU
    lesson compares with); ``cpu_s`` the CPU seconds of one CPU-bound request.
    """
    delay = doc["config"]["delay_s"]
    users, workers, tp = row["concurrency"], row["server_workers"], row["threadpool"]
    expected = expected_rps(row["variant"], users, workers, tp, delay, cpu_s, cores)
    if expected is not None and row["mode"] == "open":
        expected = min(expected, row["offered_rps"])
    row["expected_rps"] = None if expected is None else round(expected, 1)
    ceiling = doc["generator_ceiling_rps"]
    row["above_half_ceiling"] = bool(
        ceiling and row["rps"] is not None and row["rps"] > ceiling / 2
    )
    if row["error"]:
        row["lesson"] = f"not measured: {row['error']}"
        return
    row["lesson"] = _lesson(row, doc, delay, cpu_s, cores)


def _lesson(row: dict, doc: dict, delay: float, cpu_s: float, cores: int) -> str:
    variant, users, workers, tp = (
        row["variant"],
        row["concurrency"],
        row["server_workers"],
        row["threadpool"],
    )
    rps, exp = row["rps"], row["expected_rps"]
    at = f"{rps:.3g} RPS at {users} users" if rps < 10 else f"{rps:.0f} RPS at {users} users"
    if workers > 1:
        at += f" on {workers} workers"
    if row["mode"] == "open":
        p99 = row["latency_ms"]["p99"]
        p99_text = (
            "no request succeeded"
            if p99 is None
            else f"p99 {p99:.0f} ms from the intended send time"
        )
        return f"{variant}, open loop at {row['offered_rps']:g} RPS offered: {at}; {p99_text}"
    if variant == "sync-io":
        pool = f"{tp}-thread pool" if workers == 1 else f"{tp}-thread pools"
        slots = tp * workers
        how = f"def + requests runs in AnyIO's {pool}: {at}"
        if users > slots:
            return f"{how}, capped at {slots}/{delay:g} s = {exp:.0f}"
        return f"{how}, all in flight ({users}/{delay:g} s = {exp:.0f})"
    if variant == "async-blocking":
        return (
            f"async def + requests serialises every request: {at} "
            f"({min(users, workers)}/{delay:g} s = {exp:.3g}, one request per event loop)"
        )
    if variant == "async-io":
        return (
            f"async def + one shared aiohttp session: {at}, every user in flight "
            f"({users}/{delay:g} s = {exp:.0f})"
        )
    if variant in CPU_VARIANTS:
        return _cpu_lesson(row, doc, at, cpu_s, cores)
    ceiling = doc["generator_ceiling_rps"]
    limit = "" if ceiling is None else f" (generator ceiling {ceiling:.0f} RPS)"
    return f"no work at all: {at}, the harness's own limit{limit}"


def _cpu_lesson(row: dict, doc: dict, at: str, cpu_s: float, cores: int) -> str:
    variant, users, workers, tp = (
        row["variant"],
        row["concurrency"],
        row["server_workers"],
        row["threadpool"],
    )
    kind = "def" if variant == "sync-cpu" else "async def"
    holds = "holds the GIL" if variant == "sync-cpu" else "blocks the event loop"
    text = (
        f"{kind} + the pure-Python loop ({cpu_s * 1000:.0f} ms) {holds}: {at} "
        f"(estimate {plural(min(users, workers, cores), 'core')} / {cpu_s * 1000:.0f} ms "
        f"= {row['expected_rps']:.0f})"
    )
    runs = [r for r in row["rps_runs"] if r is not None]
    if len(runs) > 1:
        text += f", median of {len(runs)} fresh servers ({min(runs):.0f}-{max(runs):.0f})"
    busy = _busy(row, cores)
    if busy is not None:
        text += f", its {plural(min(workers, cores), 'core')} {busy:.0%} busy"
    base = _find(doc, variant, users, 1, "closed")
    if workers > 1 and base and base["rps"]:
        gain = row["rps"] / base["rps"]
        text += f"; {gain:.2f}x the 1-worker {base['rps']:.0f} RPS: only processes add cores"
        if len(runs) <= 1:
            text += (
                " (one server each, and fresh processes differ in speed: --repeat 3 takes a median)"
            )
    single = _find(doc, "async-cpu", users, workers, "closed") if variant == "sync-cpu" else None
    single_busy = _busy(single, cores) if single and not single["error"] else None
    if busy is not None and single_busy is not None and single_busy - busy > BUSIER:
        text += (
            f"; async-cpu (one thread a worker) kept them {single_busy:.0%} busy: the rest went on "
            f"handing one GIL between up to {min(tp, users)} threads"
        )
    others = max(noise_cores(r) for r in (row, base) if r)
    if others > NOISY_CORES:
        text += (
            f" (other programs took {others:.1f} cores meanwhile: measure again on a quiet machine)"
        )
    return text


def _busy(row: dict, cores: int) -> float | None:
    """Share of the cores the server's workers could use that they did use, in the window."""
    if row["server_cpu_s"] is None or not row["window_s"]:
        return None
    return row["server_cpu_s"] / row["window_s"] / min(row["server_workers"], cores)


def _find(doc: dict, variant: str, users: int, workers: int, mode: str) -> dict | None:
    for row in doc["web_results"]:
        if (row["variant"], row["concurrency"], row["server_workers"], row["mode"]) == (
            variant,
            users,
            workers,
            mode,
        ):
            return row
    return None


def lab_warnings(doc: dict, cores: int) -> list[dict]:
    """The web document's warnings as ``{"code", "message"}`` values, one per condition.

    Codes: ``loaded-machine`` (the same code a run uses), ``workers-exceed-cores``,
    ``measurement-failed``, ``generator-bound``, ``noisy-neighbours``, ``request-errors``,
    ``off-theory``. ``cores`` is the number of usable cores.
    """
    out: list[dict] = []
    env, cfg, rows = doc["environment"], doc["config"], doc["web_results"]

    def label(row: dict) -> str:
        return f"{row['variant']}@{row['concurrency']}u/{row['server_workers']}w/{row['mode']}"

    def warn(code: str, message: str) -> None:
        out.append({"code": code, "message": message})

    load = env.get("load_avg_1m")
    if load is not None and load > cores / 2:
        warn(
            "loaded-machine",
            f"1-minute load average {load:.2f} on {cores} core(s) before the "
            "lab: CPU-bound figures may be low",
        )
    most = max(cfg["server_workers"])
    if most > cores:
        warn(
            "workers-exceed-cores",
            f"{most} server workers on {cores} usable core(s); the load "
            "generator and delay server share them too",
        )
    failed = [row for row in rows if row["error"]]
    if failed:
        warn("measurement-failed", "; ".join(f"{label(r)}: {r['error']}" for r in failed))
    flagged = [row for row in rows if row["above_half_ceiling"] and row["variant"] != "noop"]
    if flagged:
        ceiling = doc["generator_ceiling_rps"]
        warn(
            "generator-bound",
            f"above half the generator ceiling ({ceiling:.0f} RPS), so partly "
            f"a measure of the generator: {', '.join(map(label, flagged))}",
        )
    noisy = [row for row in rows if noise_cores(row) > NOISY_CORES]
    if noisy:
        cores_used = ", ".join(f"{label(r)} {noise_cores(r):.2f}" for r in noisy)
        warn(
            "noisy-neighbours", f"other processes used CPU during the window (cores): {cores_used}"
        )
    erred = [row for row in rows if row["errors"] or row["timeouts"]]
    if erred:
        warn(
            "request-errors",
            ", ".join(f"{label(r)}: {r['errors']} errors, {r['timeouts']} timeouts" for r in erred),
        )
    off = [
        row for row in rows
        if row["variant"] in IO_VARIANTS and row["rps"] is not None
        and row["expected_rps"] and abs(row["rps"] / row["expected_rps"] - 1) > OFF_THEORY
    ]  # fmt: skip
    if off:
        pairs = ", ".join(f"{label(r)} {r['rps']:.1f} vs {r['expected_rps']:.1f} RPS" for r in off)
        out.append(
            {
                "code": "off-theory",
                "message": f"more than {OFF_THEORY:.0%} from queueing theory: {pairs}",
            }
        )
    return out


def format_lessons(doc: dict) -> list[str]:
    """One line per variant (at its highest concurrency), then the verdict on the post's claim.

    Closed-loop rows without an error only; the verdict comes from
    ``gilbench.report.web.verdict`` and is left out when it has nothing to say.
    """
    rows = [r for r in doc["web_results"] if r["mode"] == "closed" and not r["error"]]
    lines: list[str] = []
    for variant in doc["config"]["variants"]:
        mine = [r for r in rows if r["variant"] == variant]
        if not mine:
            continue
        top = max(r["concurrency"] for r in mine)
        at_top = sorted(
            (r for r in mine if r["concurrency"] == top), key=lambda r: r["server_workers"]
        )
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
