"""``gilbench web --app``: serve the user's own app under real servers and say how to run it.

State machine of :func:`run_app`:

    inspect the app in a child process (``appinfo``: ASGI or WSGI, each path's handler)
      -> delay server (its URL in ``GILBENCH_SLOW_URL`` for the app) + load generator, once
      -> for each server configuration (``configs``: uvicorn workers x AnyIO threads for ASGI;
         gunicorn ``sync`` workers and ``gthread`` workers x threads for WSGI), cheapest first:
           a fresh server (``appserver.AppServer``), ready when every worker booted and
           the first path answers
           -> on the first server only: one request per path (a 4xx is bad input, exit 2:
              404/405 a path the app does not serve, another 4xx a request it rejects; a 5xx
              or no answer drops that path with its status, exit 1 at the end)
           -> for each path, for each concurrency (one user only on the cheapest server):
              closed-loop warm-up, window (server CPU sampled at its edges), drain, then one
              request that must come back before the next window (a backlog is not carried on)
      -> per path: diagnosis + recommended configuration (``weblab.diagnose``)
      -> per path, its recommended configuration again on a fresh server, in an open loop at
         :data:`OPEN_LOOP_SHARE` of its closed-loop RPS: the latency a user sees at a load the
         server sustains, without coordinated omission
      -> one configuration for the whole app

An ``async def`` handler is measured only on the configurations with the most threads:
threads do not serve it (its event loop does), so the other thread counts would repeat one
measurement. Each cell is one window: differences under ``diagnose.TIE`` are called ties.

Results JSON: ``kind: web-app`` (``schemas/web-app.json``): ``config``, ``app`` (what
``appinfo`` found), ``app_results`` (one row per measured cell, see :func:`new_row`),
``diagnoses`` (one per path), ``recommendation`` (the whole app) and ``warnings``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from gilbench.documents import SCHEMA
from gilbench.engine.environment import capture, usable_cores
from gilbench.services.delay_server import raise_fd_limit
from gilbench.weblab import UsageError, diagnose
from gilbench.weblab.appinfo import AppInfo, inspect_app
from gilbench.weblab.appserver import (
    AppServer,
    PortInUse,
    ServerConfig,
    check_port,
    request,
)
from gilbench.weblab.lab import measure_window, services
from gilbench.weblab.loadgen import LoadSpec
from gilbench.weblab.theory import NOISY_CORES

OPEN_LOOP_SHARE = 0.8
"""The open loop offers this share of the recommended configuration's closed-loop RPS."""
SETTLE_TIMEOUT_S = 60.0
"""How long one request after a window may take to come back (a backlog being served)."""
STEADY_WAIT_S = 15.0
"""How much longer than the warm-up a window may wait for every user's first answer."""

Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, label: str) -> None:
    pass


def configs(interface: str, workers: Sequence[int], threads: Sequence[int]) -> list[ServerConfig]:
    """The server configurations to sweep, cheapest first (workers, then threads).

    ASGI: uvicorn, every ``workers`` x ``threads`` (AnyIO's thread limiter). WSGI: gunicorn
    ``sync`` for a thread count of 1, ``gthread`` for the others (gunicorn's own rule: ``sync``
    with threads becomes ``gthread``; its settings docs)."""
    out = []
    for w in sorted(set(workers)):
        for t in sorted(set(threads)):
            if interface == "asgi":
                out.append(ServerConfig("uvicorn", "uvicorn", w, t))
            else:
                out.append(ServerConfig("gunicorn", "sync" if t == 1 else "gthread", w, t))
    return out


def label(row_or_config) -> str:
    """A configuration's name, e.g. "gunicorn gthread 2 workers x 4 threads"."""
    if isinstance(row_or_config, ServerConfig):
        return row_or_config.label()
    r = row_or_config
    return ServerConfig(r["server"], r["worker_class"], r["workers"], r["threads"]).label()


def new_row(path: str, method: str, config: ServerConfig, users: int, mode: str) -> dict:
    """An unmeasured ``app_results`` row: every field present, measurements None or 0.

    Units: ``rps`` requests/s; ``latency_ms`` p50/p95/p99/max in ms; ``server_cpu_s`` CPU
    seconds of every server process in the window; ``cpu_ms_per_request`` that / requests, in
    ms; ``server_cpu_util`` that / window (cores busy); ``generator_cpu_util`` the generator's
    CPU / window (of its one core); ``other_cpu_s`` the rest of the machine in the window."""
    return {
        "path": path, "method": method, "config": config.label(), "server": config.server,
        "worker_class": config.worker_class, "workers": config.workers,
        "threads": config.threads, "concurrency": users, "mode": mode,
        "rps": None, "requests": 0, "errors": 0, "timeouts": 0, "error_kinds": {},
        "latency_ms": {"p50": None, "p95": None, "p99": None, "max": None},
        "server_cpu_s": None, "cpu_ms_per_request": None, "server_cpu_util": None,
        "generator_cpu_util": None, "generator_bound": False, "other_cpu_s": None,
        "expected_rps": None, "offered_rps": None, "window_s": None, "warmup_s": None,
        "noisy": False,
        "error": None,
    }  # fmt: skip


def validate(workers: Sequence[int], threads: Sequence[int], concurrency: Sequence[int],
             duration: float, paths: Sequence[str], method: str) -> None:  # fmt: skip
    """Raise UsageError (naming the option) for values the sweep cannot measure."""
    if not paths:
        raise UsageError("--app needs at least one --path")
    for p in paths:
        if not p.startswith("/"):
            raise UsageError(f"--path must start with '/', got {p!r}")
    if not workers or any(not 1 <= w <= 64 for w in workers):
        raise UsageError("--server-workers values must be between 1 and 64")
    if not threads or any(not 1 <= t <= 1000 for t in threads):
        raise UsageError("--threads values must be between 1 and 1000")
    if not concurrency or any(not 1 <= c <= 10_000 for c in concurrency):
        raise UsageError("--concurrency values must be between 1 and 10000")
    if not 0 < duration <= 3600:
        raise UsageError("--duration must be > 0 and <= 3600 seconds")
    if not method.isalpha():
        raise UsageError(f"--method must be an HTTP method name, got {method!r}")


def parse_headers(values: Sequence[str]) -> list[tuple[str, str]]:
    """``--header "Name: value"`` values as (name, value) pairs; UsageError when malformed."""
    pairs = []
    for text in values:
        name, sep, value = text.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header expects 'Name: value', got {text!r}")
        pairs.append((name.strip(), value.strip()))
    return pairs


def run_app(
    target: str,
    paths: Sequence[str],
    *,
    method: str = "GET",
    body: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    server_workers: Sequence[int],
    threads: Sequence[int],
    concurrency: Sequence[int],
    duration: float,
    quick: bool = False,
    cwd: str | None = None,
    port: int | None = None,
    startup_timeout: float = 30.0,
    open_loop_rate: float | None = None,
    progress: Progress = _no_progress,
    checkpoint: Callable[[dict], None] | None = None,
) -> dict:
    """Sweep ``target`` (``module:app`` imported from ``cwd``) and return its ``web-app``
    document (see the module doc).

    Raises UsageError (exit 2) for bad values, an app that cannot be imported within
    ``startup_timeout`` seconds or is not ASGI or WSGI, a path no route matches or whose first
    request gets a 4xx answer (404/405, or a request the app rejects: 401, 403, 415, 422...),
    and a taken ``port``. A server
    that does not start or a failing path is recorded in the rows (``error``) and the
    document's ``failure``; the caller exits 1. ``checkpoint(doc)`` runs after every cell.
    """
    method = method.upper()
    validate(server_workers, threads, concurrency, duration, paths, method)
    cwd = os.path.abspath(cwd or os.getcwd())
    if port is not None:
        try:
            check_port(port)
        except PortInUse as exc:
            raise UsageError(f"--port: {exc}") from None
    info = inspect_app(
        target, list(paths), method=method, cwd=cwd, timeout=startup_timeout,
        timeout_option="--startup-timeout",
    )  # fmt: skip
    for p in info.paths:
        if p.found is False:
            raise UsageError(f"--path {p.path}: no route of {target} matches {method} {p.path}")
    handler_kind = {p.path: _kind(p.handler_kind, info.interface) for p in info.paths}
    raise_fd_limit()
    cores = usable_cores()
    users = sorted(set(concurrency))
    sweep_users = [u for u in users if u > 1] or users
    all_configs = configs(info.interface, server_workers, threads)
    most_threads = max(threads)
    warmup = 0.5 if quick else 1.0
    timeout = 30.0
    drain = 5.0
    doc: dict = {
        "schema": SCHEMA,
        "kind": "web-app",
        "environment": capture(),
        "config": {
            "target": target,
            "paths": list(paths),
            "method": method,
            "body": body is not None,
            "headers": [name for name, _ in headers],
            "server_workers": sorted(set(server_workers)),
            "threads": sorted(set(threads)),
            "concurrency": users,
            "duration_s": duration,
            "warmup_s": warmup,
            "timeout_s": timeout,
            "quick": quick,
            "port": port,
            "startup_timeout_s": startup_timeout,
            "open_loop_share": OPEN_LOOP_SHARE,
            "open_loop_rate": open_loop_rate,
        },  # fmt: skip
        "app": info.to_dict(),
        "app_results": [],
        "diagnoses": [],
        "recommendation": None,
        "failure": None,
        "warnings": [],
    }
    rows: list[dict] = doc["app_results"]

    def cells_of(config: ServerConfig, first: bool) -> list[tuple[str, int]]:
        """The (path, users) cells measured on ``config``: one user (the baseline) for every
        path on the first server; the other levels where threads matter to the path."""
        out = []
        for path in live:
            if first and 1 in users:
                out.append((path, 1))
            if handler_kind[path] == "async def" and config.threads != most_threads:
                continue
            out.extend((path, u) for u in sweep_users if u > 1 or not first)
        return out

    live = list(paths)
    total = sum(len(cells_of(c, i == 0)) for i, c in enumerate(all_configs)) + len(paths)
    done = 0

    def save() -> None:
        if checkpoint:
            checkpoint(doc)

    with services() as (slow, gen):
        env = {"GILBENCH_SLOW_URL": slow.url}

        def make_spec(url: str, users: int, rate: float | None = None) -> LoadSpec:
            """A closed loop of ``users`` on ``url``, or an open loop at ``rate``."""
            return LoadSpec(
                url=url, concurrency=users, duration_s=duration, warmup_s=warmup,
                ramp_s=min(0.5, warmup / 2), mode="closed" if rate is None else "open",
                rate=rate, timeout_s=timeout, drain_s=drain, method=method, body=body,
                headers=tuple(headers), steady_wait_s=STEADY_WAIT_S,
            )  # fmt: skip

        def server(config: ServerConfig) -> AppServer:
            return AppServer(
                target, config, cwd=cwd, ready_path=paths[0], ready_method=method, env=env,
                port=port, startup_timeout=startup_timeout,
            )  # fmt: skip

        for index, config in enumerate(all_configs):
            first = index == 0
            progress(done, total, f"starting {config.label()}")
            srv = server(config)
            try:
                try:
                    srv.start()
                except PortInUse as exc:  # taken since the check above
                    raise UsageError(f"--port: {exc}") from None
                except Exception as exc:
                    message = str(exc)  # it names the configuration
                    if first:  # nothing measured yet: the others would fail the same way
                        _fail(doc, message)
                        return doc
                    doc["warnings"].append({"code": "server-failed", "message": message})
                    for path, u in cells_of(config, first):
                        row = new_row(path, method, config, u, "closed")
                        row["error"] = message
                        rows.append(row)
                        done += 1
                    save()
                    continue
                if first:
                    if _check_paths(srv, live, method, body, headers, doc, startup_timeout):
                        srv.stop()  # a request still holds a worker: start clean
                        srv.start()
                    if not live:
                        return doc
                for path, u in cells_of(config, first):
                    progress(done, total, f"{path}, {config.label()}, {u} users")
                    spec = make_spec(srv.url + path, u)
                    row = new_row(path, method, config, u, "closed")
                    _measure(gen, srv, spec, row)
                    rows.append(row)
                    _settle(srv, path, method, body, headers)
                    done += 1
                    save()
            finally:
                srv.stop()

        by_path = {p: [r for r in rows if r["path"] == p] for p in live}
        for path in live:
            diagnosis = _diagnose(path, by_path[path], handler_kind[path], info, cores)
            doc["diagnoses"].append(diagnosis)
            if diagnosis["kind"] == "failing" and not doc["failure"]:
                _fail(doc, f"{method} {path}: {diagnosis['sentence']}")
            save()
        for diagnosis in doc["diagnoses"]:
            chosen = diagnosis["recommended"]
            progress(done, total, f"{diagnosis['path']}: open loop on the recommended server")
            if chosen is not None:
                _open_loop(doc, diagnosis, chosen, server, gen, make_spec, open_loop_rate)
            done += 1
            save()
    doc["recommendation"] = diagnose.recommend_app(
        {p: [r for r in rows if r["path"] == p] for p in live}, label
    )
    doc["warnings"].extend(_warnings(doc))
    progress(total, total, "done")
    return doc


def _kind(handler_kind: str | None, interface: str) -> str | None:
    """A WSGI view is a ``def`` to the server whatever the framework says (gunicorn calls it
    in a worker thread or process); under ASGI an unknown handler stays unknown (None)."""
    return "def" if interface == "wsgi" else handler_kind


def _fail(doc: dict, message: str) -> None:
    doc["failure"] = message


def _check_paths(
    srv: AppServer, live: list[str], method: str, body, headers, doc: dict, timeout: float
) -> bool:
    """One request per path on the first server: a 4xx answer is bad input (UsageError, exit
    2; :func:`rejected` words it); another non-2xx answer or none drops the path with a
    ``failing`` diagnosis. Returns whether a request went unanswered (it may still hold a
    worker: the server needs a restart)."""
    stuck = False
    for path in list(live):
        try:
            status, text = request(srv.url + path, method, body, headers, timeout)
        except OSError as exc:
            status, text, stuck = None, str(exc), True
        if status is not None and 400 <= status < 500:
            raise UsageError(rejected(method, path, status, text, body, headers))
        if status is not None and 200 <= status < 300:
            continue
        said = f"answered HTTP {status}" if status is not None else "got no answer"
        shown = text and not text.startswith("<")  # an HTML error page's first line says nothing
        sentence = f"{method} {path} {said}" + (f" ({text})" if shown else "")
        live.remove(path)
        doc["diagnoses"].append({
            "path": path, "handler_kind": None, "kind": "failing",
            "sentence": f"{sentence}: fix the endpoint before tuning the server",
            "evidence": {"status": status}, "recommended": None,
        })  # fmt: skip
        _fail(doc, f"{sentence} on its first request under {srv.config.label()}")
    return stuck


# Client errors that say what the request lacks: credentials, or the body's media type.
_NEEDS_CREDENTIALS = (401, 403, 407)
_NEEDS_CONTENT_TYPE = (415,)
SHOWN_CHARS = 120  # of the rejecting answer's body, in the line


def rejected(
    method: str,
    path: str,
    status: int,
    text: str = "",
    body: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> str:
    """The one line for a 4xx answer to a path's first request (``status`` 400-499; ``text``
    the first line of the answer's body, shown unless it is HTML; ``body`` and ``headers`` what
    the request carried). 404 and 405: the app does not serve ``method path``; any other 4xx:
    the app rejected the request gilbench sent, so the line points at ``--body`` and
    ``--header`` (a body without a Content-Type: at that header; a 429: at the app's rate
    limit), not at the endpoint."""
    if status in (404, 405):
        return f"--path {path}: the app answered {method} {path} with HTTP {status}"
    typed = any(name.lower() == "content-type" for name, _ in headers)
    if status in _NEEDS_CREDENTIALS:
        fix = "give its credentials with --header, e.g. --header 'Authorization: Bearer ...'"
    elif status == 429:
        fix = "the app limits its rate: lift it to measure, or exempt these requests with --header"
    elif status in _NEEDS_CONTENT_TYPE or (body is not None and not typed):
        fix = "give the body's type with --header, e.g. --header 'Content-Type: application/json'"
    else:
        fix = "give the body with --body or headers with --header"
    if len(text) > SHOWN_CHARS:
        text = text[: SHOWN_CHARS - 3] + "..."
    shown = f", saying {text}" if text and not text.startswith("<") else ""
    return (
        f"--path {path}: {method} {path} answered HTTP {status}{shown} (the request, not the "
        f"server: {fix})"
    )


def _measure(gen, srv: AppServer, spec: LoadSpec, row: dict) -> None:
    try:
        result, server_cpu_s, other_cpu_s = measure_window(gen, spec, srv.cpu_seconds)
    except Exception as exc:  # recorded: the sweep goes on with the next cell
        row["error"] = f"load generator: {exc}"
        return
    window = result.window_s
    row.update(
        rps=result.rps, requests=result.requests, errors=result.errors,
        timeouts=result.timeouts, error_kinds=result.error_kinds or {},
        latency_ms=result.latency_ms, window_s=window, offered_rps=result.offered_rps,
        warmup_s=result.warmup_s,
        generator_cpu_util=round(result.generator_cpu_s / window, 3),
        generator_bound=result.generator_cpu_s / window >= diagnose.GENERATOR_BOUND_UTIL,
        other_cpu_s=other_cpu_s, server_cpu_s=server_cpu_s,
    )  # fmt: skip
    served = (result.rps or 0) * window  # the requests RPS counts (lifetime shares)
    if server_cpu_s is not None:
        row["server_cpu_util"] = round(server_cpu_s / window, 3)
        if served > 0:
            row["cpu_ms_per_request"] = round(server_cpu_s / served * 1000, 3)
    if not (result.requests or result.errors or result.timeouts or served):
        row["error"] = "no request was answered in the window (the server is stuck)"
    if other_cpu_s is not None and other_cpu_s / window > NOISY_CORES:
        row["noisy"] = True


def _settle(srv: AppServer, path: str, method: str, body, headers) -> None:
    """Wait for one answer to ``path``: requests queued behind a blocked worker are served
    first, so the next window does not start on the last one's backlog."""
    try:
        request(srv.url + path, method, body, headers, SETTLE_TIMEOUT_S)
    except OSError:
        pass


def _diagnose(path: str, rows: list[dict], kind: str | None, info: AppInfo, cores: int) -> dict:
    diagnosis = diagnose.classify(rows, kind, info.interface, cores)
    if diagnosis["kind"] == "pool-capped":
        base = diagnose.baseline(rows)
        latency = base["latency_ms"]["p50"] / 1000 if base else None
        for row in rows:
            if latency and row["mode"] == "closed":
                row["expected_rps"] = diagnose.expected_rps(row, latency)
    return {
        "path": path,
        "handler_kind": kind,
        **diagnosis,
        "recommended": diagnose.recommend(rows, label),
    }


def _open_loop(doc, diagnosis, chosen, server, gen, make_spec, fixed_rate) -> None:
    """Run ``chosen`` (a path's recommended configuration) on a fresh server in an open loop at
    ``fixed_rate`` or :data:`OPEN_LOOP_SHARE` of its closed-loop RPS; add the row, and its p99
    to the recommendation."""
    rows = doc["app_results"]
    path = diagnosis["path"]
    config = ServerConfig(*_config_of(rows, path, chosen))
    rate = fixed_rate or round(OPEN_LOOP_SHARE * chosen["rps"], 1)
    row = new_row(path, doc["config"]["method"], config, chosen["concurrency"], "open")
    srv = server(config)
    try:
        srv.start()
        _measure(gen, srv, make_spec(srv.url + path, max(chosen["concurrency"], 1), rate), row)
    except Exception as exc:
        row["error"] = str(exc)
    finally:
        srv.stop()
    rows.append(row)
    p99 = row["latency_ms"]["p99"]
    if p99 is not None and not row["error"]:
        diagnosis["recommended"]["open_loop"] = {"offered_rps": rate, "rps": row["rps"],
                                                 "p99_ms": p99}  # fmt: skip
        share = "" if fixed_rate else f" ({OPEN_LOOP_SHARE:.0%} of that)"
        said = f"; offered {diagnose.num(rate)} RPS{share} in an open loop, "
        if row["rps"] < (1 - diagnose.TIE) * rate:
            said += f"it sustained only {diagnose.num(row['rps'])} (p99 {diagnose.num(p99)} ms)" + (
                ": other programs were busy meanwhile" if row["noisy"] else ""
            )
        else:
            said += f"p99 {diagnose.num(p99)} ms"
        diagnosis["recommended"]["sentence"] += said


def _config_of(rows: list[dict], path: str, chosen: dict) -> tuple[str, str, int, int]:
    for r in rows:
        if r["path"] == path and (r["workers"], r["threads"]) == (
            chosen["workers"],
            chosen["threads"],
        ):
            return r["server"], r["worker_class"], r["workers"], r["threads"]
    raise LookupError(chosen["config"])


def _warnings(doc: dict) -> list[dict]:
    out = []
    bound = [r for r in doc["app_results"] if r["generator_bound"]]
    if bound:
        worst = max(bound, key=lambda r: r["generator_cpu_util"])
        out.append({
            "code": "generator-bound",
            "message": f"the load generator used {worst['generator_cpu_util']:.0%} of its core "
                       f"in {len(bound)} window(s) (e.g. {worst['path']}, {worst['config']}, "
                       f"{worst['concurrency']} users): there it may be the bottleneck, and the "
                       "server could do more",
        })  # fmt: skip
    noisy = [r for r in doc["app_results"] if r.get("noisy")]
    if noisy:
        worst = max(noisy, key=lambda r: r["other_cpu_s"] / r["window_s"])
        out.append({
            "code": "loaded-machine",
            "message": f"other programs kept more than {NOISY_CORES:g} cores busy in "
                       f"{len(noisy)} window(s) (worst: {worst['path']}, {worst['config']}, "
                       f"{worst['other_cpu_s'] / worst['window_s']:.2f} cores): those figures "
                       "are low; run again on a quiet machine",
        })  # fmt: skip
    failed = [r for r in doc["app_results"] if r["mode"] == "closed" and not r["error"]
              and diagnose.error_rate(r) > diagnose.MAX_ERROR_RATE]  # fmt: skip
    if failed:
        worst = max(failed, key=diagnose.error_rate)
        kinds = ", ".join(f"{k} x{n}" for k, n in (worst["error_kinds"] or {}).items())
        out.append({
            "code": "failed-requests",
            "message": f"{len(failed)} window(s) had more than "
                       f"{diagnose.MAX_ERROR_RATE:.0%} failed requests and were not recommended "
                       f"(worst: {worst['path']}, {worst['config']}, {worst['concurrency']} "
                       f"users, {diagnose.error_rate(worst):.0%}: {kinds or 'timeouts'})",
        })  # fmt: skip
    return out


def failed(doc: dict) -> bool:
    """Whether the sweep failed somewhere (the command then exits 1)."""
    return bool(doc.get("failure")) or any(r["error"] for r in doc["app_results"])
