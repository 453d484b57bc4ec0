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

from collections.abc import Sequence

from gilbench.analysis.recommend import MIN_GAIN, settled_from
from gilbench.engine import stats
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
MIN_RUNS = 2
"""Runs (fresh servers) every CPU-bound cell gets when the lab samples until decided: the
fewest that can settle a comparison (``analysis.recommend.settled_from``: never from one)."""
MAX_RUNS = 6
"""The most runs a CPU-bound cell gets when the lab samples until decided."""


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
        "send_lag_ms_max": None, "window_s": None, "attempts": 0, "rps_runs": [],
        "gain": None, "gain_ci95": None, "decided": None, "error": None,
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


def scaling(runs: Sequence[float | None], base_runs: Sequence[float | None]) -> dict | None:
    """A CPU cell's gain over its 1-worker cell, its 95% interval, and whether that settles
    the 10% margin.

    ``runs`` (N workers) and ``base_runs`` (1 worker) are the cells' ``rps_runs`` (RPS per
    fresh server; None, a failed run, is left out). Returns ``{"gain", "gain_ci95", "decided",
    "n"}``: ``gain`` median(runs) / median(base_runs), unitless (``stats.ratio_of_medians``;
    the median of an even count is the mean of the middle two, so it can differ a little from
    the ratio of the rows' RPS, which are actual runs); ``gain_ci95`` its 95% percentile-
    bootstrap interval ``[low, high]`` (Efron; ``stats.ratio_ci95``, 2000 resamples, fixed
    seed), both rounded to 3 decimals; ``decided`` the rule ``gilbench run`` stops sampling by
    (``analysis.recommend.settled_from``: the interval wholly at or above 1.10 or wholly below
    it, with at least 3 runs on the smaller side; with 2, clear of the margin by the
    interval's own width again; with 1, never); ``n`` the runs on the smaller side. None when a
    side has no run with RPS, or a 1-worker run has 0 RPS (no ratio).
    """
    ok = [float(x) for x in runs if x is not None]
    base = [float(x) for x in base_runs if x is not None]
    if not ok or not base or min(base) <= 0:
        return None
    low, high = stats.ratio_ci95(ok, base)
    n = min(len(ok), len(base))
    return {
        "gain": round(stats.ratio_of_medians(ok, base), 3),
        "gain_ci95": [round(low, 3), round(high, 3)],
        "decided": settled_from(n, low, high),
        "n": n,
    }


def lesson_pairs(doc: dict, variant: str) -> list[tuple[list, list]]:
    """The comparisons a CPU variant's lesson rests on, as ``(rps_runs at N workers, rps_runs
    at 1 worker)`` pairs: closed loop, the variant's highest concurrency, one pair per measured
    worker count above 1 (the line ``format_lessons`` prints compares the most workers with 1;
    the table's rows state each). Empty without a 1-worker row or a row above it.
    """
    rows = [r for r in doc["web_results"] if r["variant"] == variant and r["mode"] == "closed"]
    if not rows:
        return []
    top = max(r["concurrency"] for r in rows)
    base = _find(doc, variant, top, 1, "closed")
    if base is None:
        return []
    return [
        (list(r["rps_runs"]), list(base["rps_runs"]))
        for r in sorted(rows, key=lambda r: r["server_workers"])
        if r["concurrency"] == top and r["server_workers"] > 1
    ]


def needs_another_run(
    pairs: Sequence[tuple[Sequence[float | None], Sequence[float | None]]],
    runs: int,
    repeat: int | None,
    min_runs: int = MIN_RUNS,
    max_runs: int = MAX_RUNS,
) -> bool:
    """Does a CPU-bound variant get another round (a fresh server per worker count)?

    ``pairs`` are its :func:`lesson_pairs`, ``runs`` the rounds it has had. A fixed ``repeat``
    (``--repeat N``) means exactly N rounds: True while ``runs < repeat``. Otherwise (sample
    until decided, like ``gilbench run``): True below ``min_runs``; False at ``max_runs`` (the
    cap: the lesson then says it is undecided); in between, True while some pair's
    :func:`scaling` is not ``decided``. A pair without a ratio (a side with no successful run)
    asks for nothing: another run would measure the same failure.
    """
    if repeat is not None:
        return runs < repeat
    if runs < min_runs:
        return True
    if runs >= max_runs:
        return False
    return any((found := scaling(a, b)) is not None and not found["decided"] for a, b in pairs)


def explain(row: dict, doc: dict, cpu_s: float, cores: int) -> None:
    """Set a row's ``expected_rps`` (RPS, 1 decimal), ``above_half_ceiling``, ``lesson`` and,
    for a CPU variant's closed-loop row above 1 worker, ``gain``, ``gain_ci95`` and ``decided``
    (:func:`scaling` against the 1-worker row at the same users; else None).

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
    row["gain"] = row["gain_ci95"] = row["decided"] = None
    base = _find(doc, row["variant"], users, 1, "closed")
    if row["variant"] in CPU_VARIANTS and row["mode"] == "closed" and workers > 1 and base:
        found = scaling(_runs_of(row), _runs_of(base))
        if found is not None:
            row.update(gain=found["gain"], gain_ci95=found["gain_ci95"], decided=found["decided"])
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
        text += "; " + _gain_text(row, base)
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


def _gain_text(row: dict, base: dict) -> str:
    """The scaling clause of a CPU lesson: the gain over 1 worker, its interval and runs, and
    the claim only when :func:`scaling` settled it (else: undecided, and what would decide)."""
    if row.get("gain") is None:  # no interval (a 1-worker run at 0 RPS): the rows' ratio alone
        return f"{row['rps'] / base['rps']:.2f}x the 1-worker {base['rps']:.0f} RPS"
    n = min(len(_runs_of(row)), len(_runs_of(base)))
    low, high = row["gain_ci95"]
    text = f"{row['gain']:.2f}x the 1-worker {base['rps']:.0f} RPS"
    if n > 1:
        text += f" (95% CI {low:.2f}-{high:.2f}, {n} runs each)"
    if row["decided"]:
        if low >= MIN_GAIN:
            return text + ": only processes add cores"
        return text + f": more workers added less than {MIN_GAIN - 1:.0%} here"
    why = (
        "one run each never settles it, and fresh processes differ in speed"
        if n == 1
        else f"the interval holds the {MIN_GAIN - 1:.0%} margin"
        if low < MIN_GAIN <= high
        else f"{n} runs each are too few to settle it"
    )
    return (
        f"{text}: undecided, inconclusive whether more workers add {MIN_GAIN - 1:.0%} ({why}); "
        f"a quieter machine or more runs (--repeat {max(2 * n, MAX_RUNS)}) would decide it"
    )


def _runs_of(row: dict) -> list[float]:
    """A cell's RPS per successful run: its ``rps_runs`` without failures, else its ``rps``."""
    return [x for x in (row.get("rps_runs") or [row["rps"]]) if x is not None]


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
