"""Pure: what a sweep of the user's app says about each endpoint, and how to serve the app.

``gilbench web --app`` (``weblab.appsweep``) measures every endpoint on fresh servers, one
server configuration (workers x threads) at a time; this module reads those rows and says, in
one sentence each, *why* an endpoint scales the way it does and *which* configuration to run.
No I/O: the rows are dicts as written in the ``web-app`` document (``app_results``).

The diagnosis follows the queueing view the web lab checks (``weblab.theory``; Little's law,
throughput = concurrency / latency):

- ``cpu``: the server's CPU per request at one user is close to the latency (at least
  :data:`CPU_SHARE`), and more threads per worker do not raise throughput: the handler computes
  while holding the GIL. Worker processes are what scale it, up to the cores.
- ``cpu-releases-gil``: CPU-heavy, yet threads raise throughput by :data:`THREADS_HELP` or more:
  the work runs in code that releases the GIL (a C extension, SQLite).
- ``pool-capped``: a ``def`` handler (or any WSGI view) that mostly waits: each request holds one
  thread for its latency, so a worker serves at most threads / latency requests a second
  (``expected_rps = min(users, workers x threads) / latency``).
- ``async-blocking``: an ``async def`` handler that mostly waits, yet one worker serves no more
  than about one request per latency (:data:`BLOCKING_FACTOR`): something blocks the event loop,
  the post's own lesson.
- ``async-ok``: an ``async def`` handler whose waits overlap on the event loop.
- ``failing``: more than :data:`MAX_ERROR_RATE` of the requests failed (mostly 4xx answers:
  the server rejected them under load, e.g. a rate limit; else the endpoint fails);
  ``undetermined``: the rows cannot say (no one-user baseline, or it failed).

Differences under :data:`TIE` (10%, DESIGN.md's "at least 10%") are ties: among configurations
within 10% of the fastest, the one with the fewest processes, then threads, then the lowest
p99 is recommended.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

CPU_SHARE = 0.5
"""CPU seconds per request / latency at one user at or above which the handler computes."""
THREADS_HELP = 1.3
"""Throughput gain from more threads (one worker) above which the work releases the GIL."""
BLOCKING_FACTOR = 2.0
"""An async handler whose RPS per worker stays under this many times 1/latency, at
:data:`MIN_BLOCKING_USERS` users or more, blocks its event loop."""
MIN_BLOCKING_USERS = 4
LOOP_BUSY = 0.8
"""An event loop busier than this share of its core at the top concurrency ran out of CPU."""
CHEAP_S = 0.002
"""A request under this much CPU (s) costs mostly the server's and framework's own work."""
TIE = 0.10
"""Relative RPS difference under which two configurations are called the same."""
MAX_ERROR_RATE = 0.01
"""A configuration with more failed requests than this share is not recommended."""
GENERATOR_BOUND_UTIL = 0.8
"""The load generator is one process: at this share of one core it may be the bottleneck."""

Row = Mapping[str, Any]


def error_rate(row: Row) -> float:
    """Failed requests (errors + timeouts) / all requests the row counted (0 when none)."""
    failed = (row.get("errors") or 0) + (row.get("timeouts") or 0)
    total = failed + (row.get("requests") or 0)
    return failed / total if total else 0.0


def usable(row: Row) -> bool:
    """A closed-loop row that measured something and failed at most :data:`MAX_ERROR_RATE`."""
    return (
        row.get("mode") == "closed"
        and not row.get("error")
        and (row.get("rps") or 0) > 0
        and error_rate(row) <= MAX_ERROR_RATE
    )


def cost(row: Row) -> tuple[int, int]:
    """What a configuration costs to run: (worker processes, threads per worker)."""
    return (int(row["workers"]), int(row["threads"]))


def baseline(rows: Iterable[Row]) -> Row | None:
    """The one-user closed-loop row of the cheapest configuration that served it, or None."""
    ones = [r for r in rows if r.get("concurrency") == 1 and usable(r)]
    return min(ones, key=cost) if ones else None


def top_rows(rows: Iterable[Row]) -> list[Row]:
    """The usable closed-loop rows at the highest concurrency measured (above one user)."""
    closed = [r for r in rows if r.get("mode") == "closed" and (r.get("concurrency") or 0) > 1]
    if not closed:
        return []
    top = max(r["concurrency"] for r in closed)
    return [r for r in closed if r["concurrency"] == top and usable(r)]


def _rps_at(rows: Sequence[Row], workers: int, threads: int) -> float | None:
    found = [r["rps"] for r in rows if cost(r) == (workers, threads)]
    return found[0] if found else None


def num(x: float) -> str:
    """A rate or a count for a sentence: whole with separators from 100 up (2,281), else three
    significant digits (9.62, 0.304)."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _ms(seconds: float) -> str:
    return f"{num(seconds * 1000)} ms"


def _x(value: float) -> str:
    return f"{value:.2f}x"


def choose(rows: Sequence[Row]) -> dict | None:
    """The configuration to recommend from the usable rows at one concurrency, or None.

    Returns ``{"row": chosen, "fastest": the highest-RPS row, "next": the best other row or
    None, "gap": (chosen - next) / chosen RPS or None}``. Chosen: the cheapest (:func:`cost`,
    then lowest p99) among the rows within :data:`TIE` of the fastest."""
    rows = [r for r in rows if usable(r)]
    if not rows:
        return None
    fastest = max(rows, key=lambda r: r["rps"])
    close = [r for r in rows if r["rps"] >= (1 - TIE) * fastest["rps"]]
    chosen = min(close, key=lambda r: (cost(r), (r.get("latency_ms") or {}).get("p99") or 0))
    others = [r for r in rows if r is not chosen]
    nxt = max(others, key=lambda r: r["rps"]) if others else None
    gap = None if nxt is None else round((chosen["rps"] - nxt["rps"]) / chosen["rps"], 3)
    return {"row": chosen, "fastest": fastest, "next": nxt, "gap": gap}


def _client_errors(kinds: Mapping[str, int]) -> int:
    """How many of the failures in ``kinds`` (``{"HTTP 429": 12, ...}``) are HTTP 4xx answers."""
    return sum(n for k, n in kinds.items() if re.fullmatch(r"HTTP 4\d\d", k))


def _failing(rows: Sequence[Row]) -> dict | None:
    """``failing`` when more than :data:`MAX_ERROR_RATE` of all the closed-loop requests of the
    endpoint failed (every one, or some in every window: either way it must be fixed first).

    When most failures are 4xx answers (the first request was answered 2xx, or the sweep would
    have stopped there), the server rejected requests under load (e.g. a rate limit's 429): the
    sentence says so rather than blaming the endpoint's code."""
    measured = [r for r in rows if r.get("mode") == "closed" and not r.get("error")]
    failed = sum((r.get("errors") or 0) + (r.get("timeouts") or 0) for r in measured)
    total = failed + sum(r.get("requests") or 0 for r in measured)
    if not measured or failed <= MAX_ERROR_RATE * total:
        return None
    kinds: dict[str, int] = {}
    for r in measured:
        for kind, n in (r.get("error_kinds") or {}).items():
            kinds[kind] = kinds.get(kind, 0) + n
        if r.get("timeouts"):
            kinds["timeout"] = kinds.get("timeout", 0) + r["timeouts"]
    said = ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    share = "every request" if failed == total else f"{failed / total:.0%} of the requests"
    if 2 * _client_errors(kinds) > failed:
        return {
            "kind": "failing",
            "sentence": f"{share} failed: the server rejected the requests ({said}) after "
            "answering the first one: the load, not the code, is the likely cause (a rate "
            "limit, or a cap on clients); lift it for the measurement or lower --concurrency",
        }
    return {
        "kind": "failing",
        "sentence": f"{share} failed ({said or 'no answer'}): "
        "fix the endpoint before tuning the server",
    }


def _best(rows: Sequence[Row], key: str, value: int) -> float | None:
    found = [r["rps"] for r in rows if int(r[key]) == value]
    return max(found) if found else None


def classify(
    path_rows: Sequence[Row], handler_kind: str | None, interface: str, cores: int | None = None
) -> dict:
    """Diagnose one endpoint from its rows: ``{"kind", "sentence", "evidence"}``.

    ``handler_kind`` is ``"def"``, ``"async def"`` or None (unknown framework: ``def`` when the
    app is WSGI, served like ``async def`` when it is ASGI: a raw ASGI callable runs on the event
    loop); ``interface`` is ``"asgi"`` or ``"wsgi"``; ``cores`` bounds the worker counts the
    workers' gain compares. ``evidence`` holds the figures the sentence uses: latency and server
    CPU per request at one user (ms), their ratio, the top concurrency, and the throughput gains
    from workers (best row at 1 vs at the most workers up to the cores) and from threads (best
    row at the fewest vs the most threads).
    """
    failing = _failing(path_rows)
    if failing:
        return {**failing, "evidence": {}}
    base = baseline(path_rows)
    top = top_rows(path_rows)
    if base is None or not top or base.get("cpu_ms_per_request") is None:
        return {
            "kind": "undetermined",
            "sentence": "the measurements cannot say: no usable one-user baseline "
            "or no usable row above one user",
            "evidence": {},
        }
    latency = base["latency_ms"]["p50"] / 1000
    cpu = base["cpu_ms_per_request"] / 1000
    share = cpu / latency if latency > 0 else 0.0
    users = top[0]["concurrency"]
    workers = sorted({int(r["workers"]) for r in top})
    threads = sorted({int(r["threads"]) for r in top})
    w1, t1, tn = workers[0], threads[0], threads[-1]
    # Workers compared up to the cores (more cannot add CPU), threads at their extremes; each
    # side at its best over the other dimension, so one noisy cell does not make the sentence.
    wn = max([w for w in workers if cores is None or w <= cores] or workers)
    one = _rps_at(top, w1, t1)
    gain_workers = gain_threads = one_process_threads = None
    if wn > w1:
        gain_workers = _gain(_best(top, "workers", w1), _best(top, "workers", wn))
    if tn > t1:
        gain_threads = _gain(_best(top, "threads", t1), _best(top, "threads", tn))
        # In one process, threads gain only by running while another waits or releases the GIL.
        one_process_threads = _gain(one, _rps_at(top, w1, tn))
    evidence = {
        "latency_ms": round(latency * 1000, 2),
        "cpu_ms_per_request": round(cpu * 1000, 2),
        "cpu_share": round(share, 2),
        "concurrency": users,
        "workers_gain": gain_workers,
        "workers_compared": [w1, wn] if gain_workers is not None else None,
        "threads_gain": gain_threads,
        "threads_compared": [t1, tn] if gain_threads is not None else None,
        "threads_gain_one_worker": one_process_threads,
    }
    is_async = handler_kind == "async def" or (handler_kind is None and interface == "asgi")
    sentence: str
    if share >= CPU_SHARE:
        releases = one_process_threads is not None and one_process_threads >= THREADS_HELP
        if not is_async and releases:
            kind = "cpu-releases-gil"
            sentence = (
                f"computes in code that releases the GIL: CPU {_ms(cpu)} a request at one "
                f"user (latency {_ms(latency)}), yet in one worker {tn} threads give "
                f"{_x(one_process_threads)} over {t1}: threads and worker processes both help"
            )
        else:
            kind = "cpu"
            did = []
            if gain_workers is not None:
                did.append(f"{wn} workers give {_x(gain_workers)} over {w1}")
            if gain_threads is not None and not is_async:
                did.append(f"{tn} threads {_x(gain_threads)} over {t1}")
            if cpu < CHEAP_S:
                where = "little: the server and framework's own work is what it costs"
            elif is_async:
                where = "inside async def (it blocks the event loop while it computes)"
            else:
                where = "in Python"
            sentence = (
                f"computes {where}: CPU {_ms(cpu)} a request ~ latency {_ms(latency)} at one "
                f"user" + (f"; {', '.join(did)}" if did else "") + ": add worker processes "
                "(up to the cores); threads do not help"
            )
    elif is_async:
        per_worker = (one or 0) / w1
        if users >= MIN_BLOCKING_USERS and per_worker <= BLOCKING_FACTOR / latency:
            kind = "async-blocking"
            util = (top[0].get("server_cpu_util") or 0) / max(1, int(top[0]["workers"]))
            sentence = (
                f"a blocking call inside async def: {num(per_worker)} RPS a worker at {users} "
                f"users, about 1/latency ({num(1 / latency)}), while the server's CPU is "
                f"{util:.0%} busy: make it def or use an async client"
            )
        else:
            kind = "async-ok"
            sentence = (
                f"the event loop overlaps the waits: {num(per_worker)} RPS a worker at {users} "
                f"users, {num(per_worker * latency)} requests in flight at once "
                f"(1/latency is {num(1 / latency)})"
            )
            row = next(r for r in top if cost(r) == (w1, t1))
            busy = (row.get("server_cpu_util") or 0) / w1
            if busy >= LOOP_BUSY and row.get("cpu_ms_per_request") is not None:
                sentence += (
                    f"; but at {users} users one worker's event loop ran out of CPU "
                    f"({busy:.0%} busy, {num(row['cpu_ms_per_request'])} ms of CPU a request, "
                    f"{_ms(cpu)} at one user): add worker processes"
                )
                evidence["loop_busy"] = round(busy, 2)
            else:
                sentence += "; add workers only for CPU"
    else:
        kind = "pool-capped"
        theory = min(users, w1 * t1) / latency
        sentence = (
            f"waits on I/O in a def handler ({share:.0%} of its {_ms(latency)} on the CPU): "
            f"the thread pool caps it at workers x threads / latency "
            f"({w1} x {t1} / {_ms(latency)} = {num(theory)} RPS, measured {num(one or 0)})"
            + (f"; {tn} threads give {_x(gain_threads)}" if gain_threads is not None else "")
            + ": raise the pool or go async"
        )
    bound = [r for r in top if r.get("generator_bound")]
    if bound:
        worst = max(r.get("generator_cpu_util") or 0 for r in bound)
        sentence += (
            f" (but the load generator was the bottleneck in {len(bound)} of the {len(top)} "
            f"windows at {users} users, at {worst:.0%} of its core: the fastest servers may "
            "be faster than measured)"
        )
        evidence["generator_bound_windows"] = len(bound)
    return {"kind": kind, "sentence": sentence, "evidence": evidence}


def _gain(before: float | None, after: float | None) -> float | None:
    if not before or after is None:
        return None
    return round(after / before, 2)


def expected_rps(row: Row, latency_s: float) -> float:
    """Little's law for a thread pool: min(users, workers x threads) / latency (RPS)."""
    return round(min(row["concurrency"], row["workers"] * row["threads"]) / latency_s, 2)


def recommend(path_rows: Sequence[Row], label_of) -> dict | None:
    """The configuration to serve one endpoint with, and the sentence saying so (or None).

    ``label_of(row)`` names a row's configuration (e.g. "gunicorn gthread 2 workers x 4
    threads"). Returns ``{"config", "workers", "threads", "concurrency", "rps", "p99_ms",
    "next_config", "next_rps", "gap", "sentence"}``."""
    picked = choose(top_rows(path_rows))
    if picked is None:
        return None
    row, fastest, nxt, gap = picked["row"], picked["fastest"], picked["next"], picked["gap"]
    p99 = (row.get("latency_ms") or {}).get("p99")
    sentence = (
        f"serve it with {label_of(row)}: {num(row['rps'])} RPS, p99 {num(p99)} ms at "
        f"{row['concurrency']} users"
    )
    if fastest is not row:
        sentence += (
            f" (within {TIE:.0%} of the fastest, {label_of(fastest)} at "
            f"{num(fastest['rps'])} RPS, for less)"
        )
    elif nxt is not None:
        sentence += f"; next best {label_of(nxt)}: {num(nxt['rps'])} RPS ({-gap:+.0%})"
    return {
        "config": label_of(row),
        "workers": row["workers"],
        "threads": row["threads"],
        "concurrency": row["concurrency"],
        "rps": row["rps"],
        "p99_ms": p99,
        "next_config": None if nxt is None else label_of(nxt),
        "next_rps": None if nxt is None else nxt["rps"],
        "gap": gap,
        "sentence": sentence,
    }


def recommend_app(rows_by_path: Mapping[str, Sequence[Row]], label_of) -> dict | None:
    """One configuration for every endpoint: the one whose worst endpoint comes closest to
    that endpoint's own best RPS (ties within :data:`TIE`: the cheapest, as for one endpoint).
    Endpoints measured on fewer configurations (``async def`` ones, where threads do not
    matter) count a configuration's RPS from the row with the same workers and the most
    threads.
    Returns ``{"config", "workers", "threads", "score", "sentence"}`` or None."""
    tops = {path: top_rows(rows) for path, rows in rows_by_path.items()}
    tops = {path: rows for path, rows in tops.items() if rows}
    if not tops:
        return None
    configs = {cost(r): r for rows in tops.values() for r in rows}
    scores = {}
    for key in configs:
        worst = 1.0
        for rows in tops.values():
            best = max(r["rps"] for r in rows)
            same = [r for r in rows if cost(r) == key] or [
                r for r in rows if r["workers"] == key[0] and r["threads"] >= key[1]
            ]
            if not same:
                same = [r for r in rows if r["workers"] == key[0]]
            worst = min(worst, (max(r["rps"] for r in same) / best) if same else 0.0)
        scores[key] = worst
    top_score = max(scores.values())
    chosen = min((k for k, s in scores.items() if s >= (1 - TIE) * top_score), key=lambda k: k)
    label = label_of(configs[chosen])
    return {
        "config": label,
        "workers": chosen[0],
        "threads": chosen[1],
        "score": round(scores[chosen], 3),
        "sentence": f"one configuration for every endpoint: {label} "
        f"(each endpoint at {scores[chosen]:.0%} or more of its own best)",
    }
