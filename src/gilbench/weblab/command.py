"""``gilbench web``: arguments, validation, progress, table, lessons.

The CLI calls ``add_arguments(parser)``, ``measure(args, console)`` and ``print_results``;
a ``UsageError`` becomes exit code 2 with its message on one line.
"""

from __future__ import annotations

import argparse
import os

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gilbench.engine.results import write_json_atomic
from gilbench.weblab import VARIANTS, UsageError
from gilbench.weblab.theory import MAX_RUNS, MIN_RUNS

DEFAULT_DELAY = 0.5  # seconds the slow service takes per call
DEFAULT_CONCURRENCY = [1, 10, 50]  # concurrent users (closed-loop clients)
DEFAULT_WORKERS = [1, 2]  # Uvicorn worker processes
DEFAULT_DURATION = 5.0  # seconds of measured window per point
DEFAULT_THREADPOOL = 40  # AnyIO's default thread limiter for def endpoints
# Runs of each CPU-bound cell: None samples until its lesson is decided (MIN_RUNS to MAX_RUNS).
DEFAULT_REPEAT: int | None = None
# --quick: the acceptance figures (50 users, 1 and 2 workers) in well under 90 s.
QUICK_CONCURRENCY = [50]
QUICK_DURATION = 2.0
QUICK_REPEAT = 1
# --app (the user's own app): a sweep of server configurations.
APP_THREADS = [1, 4, 40]  # threads a worker: none, a few, Starlette's and a big gthread pool
APP_CONCURRENCY = [1, 10, 50]  # one user (latency and CPU a request), a few, a crowd
QUICK_APP_CONCURRENCY = [1, 50]
APP_DURATION = 3.0
QUICK_APP_DURATION = 1.5
APP_STARTUP_TIMEOUT = 30.0  # s: the app's first import (inspection), then each server's start


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``gilbench web``'s options to ``parser``; every value stays a string (or None).

    Values are parsed and checked in :func:`lab_arguments` (UsageError), not here.
    """
    parser.add_argument(
        "--delay",
        metavar="SECONDS",
        default=None,
        help=f"how long the slow service takes (default {DEFAULT_DELAY:g})",
    )
    parser.add_argument(
        "--concurrency",
        metavar="1,10,100",
        default=None,
        help="concurrent users, comma-separated (default 1,10,50; --quick: the lab 50, --app 1,50)",
    )
    parser.add_argument(
        "--server-workers",
        metavar="1,2",
        default=None,
        help="Uvicorn worker processes, comma-separated (default 1,2; --app: 1, the cores and "
        "twice that; --quick: 1 and the cores)",
    )
    parser.add_argument(
        "--duration",
        metavar="SECONDS",
        default=None,
        help=f"measured window per point (default {DEFAULT_DURATION:g}; --quick: "
        f"{QUICK_DURATION:g}; --app: {APP_DURATION:g}, --quick {QUICK_APP_DURATION:g})",
    )
    parser.add_argument(
        "--threadpool",
        metavar="N",
        default=None,
        help=f"AnyIO thread limit for def endpoints (default {DEFAULT_THREADPOOL})",
    )
    parser.add_argument(
        "--variant",
        metavar="NAME",
        action="append",
        default=None,
        help=f"endpoint variant, repeatable (default all: {', '.join(VARIANTS)})",
    )
    parser.add_argument(
        "--repeat",
        metavar="N",
        default=None,
        help=f"a fixed number of runs of each CPU-bound cell, each on a fresh server; the median "
        f"is kept (default: until its lesson is decided, {MIN_RUNS} to {MAX_RUNS} runs; "
        f"--quick: {QUICK_REPEAT}, and the scaling lesson says it is undecided)",
    )
    parser.add_argument(
        "--open-loop-rate",
        metavar="RPS",
        default=None,
        help="also measure an open loop at this fixed rate (latency from intended send time); "
        "with --app, the rate of each path's open loop (default 80%% of its best closed loop)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the lab: 50 users only, 2 s windows, CPU cells once, so their scaling is left "
        "undecided (under 90 s); --app: workers "
        "1 and the cores, threads 1,40, users 1,50, 1.5 s windows",
    )
    parser.add_argument(
        "--json", metavar="PATH", default=None, help="write the results document here"
    )
    app = parser.add_argument_group(
        "your own app",
        "serve MODULE:APP (imported from the current directory) under uvicorn (ASGI) or "
        "gunicorn (WSGI), sweep workers x threads, and say how to run it",
    )
    app.add_argument("--app", metavar="MODULE:APP", default=None, help="the ASGI or WSGI app")
    app.add_argument(
        "--path", metavar="/ENDPOINT", action="append", default=None,
        help="an endpoint to measure, repeatable",
    )  # fmt: skip
    app.add_argument("--method", metavar="M", default="GET", help="HTTP method (default GET)")
    app.add_argument("--body", metavar="B", default=None, help="request body (UTF-8)")
    app.add_argument(
        "--header", metavar="'NAME: VALUE'", action="append", default=None,
        help="a request header, repeatable (names are recorded, values are not)",
    )  # fmt: skip
    app.add_argument(
        "--threads", metavar="1,4,40", default=None,
        help="threads a worker: AnyIO's limiter under uvicorn, gunicorn's gthread "
        "(1: its sync worker) (default 1,4,40; --quick: 1,40)",
    )  # fmt: skip
    app.add_argument(
        "--port", metavar="N", default=None,
        help="serve on this loopback port (default: a free one)",
    )  # fmt: skip
    app.add_argument(
        "--startup-timeout", metavar="SECONDS", default=None,
        help="how long the app's first import, then each server's booting every worker and "
        f"answering, may take (default {APP_STARTUP_TIMEOUT:g})",
    )  # fmt: skip


def _number(text: str | None, default: float, option: str, kind: type = float) -> float:
    if text is None:
        return default
    try:
        return kind(str(text).strip())
    except ValueError:
        raise UsageError(
            f"{option} expects a {'whole ' if kind is int else ''}number, got {text!r}"
        ) from None


def _int_list(text: str | None, default: list[int], option: str) -> list[int]:
    if text is None:
        return list(default)
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise UsageError(f"{option} expects comma-separated whole numbers, got {text!r}") from None
    if not values:
        raise UsageError(f"{option} is empty")
    return values


def lab_arguments(args: argparse.Namespace) -> dict:
    """Turn parsed options into ``run_lab`` keyword arguments (a dict; seconds, counts, RPS).

    Applies the defaults (``--quick``'s when set) and ``lab.validate``. Raises UsageError on a
    value that is not a number, an empty list, a value ``validate`` rejects, or a ``--json``
    path whose directory does not exist.
    """
    from gilbench.weblab.lab import validate

    quick = bool(getattr(args, "quick", False))
    variants = list(dict.fromkeys(args.variant)) if args.variant else list(VARIANTS)
    rate = (
        None
        if args.open_loop_rate is None
        else _number(args.open_loop_rate, 0.0, "--open-loop-rate")
    )
    users = QUICK_CONCURRENCY if quick else DEFAULT_CONCURRENCY
    kwargs = {
        "variants": variants,
        "concurrency": _int_list(args.concurrency, users, "--concurrency"),
        "server_workers": _int_list(args.server_workers, DEFAULT_WORKERS, "--server-workers"),
        "delay": _number(args.delay, DEFAULT_DELAY, "--delay"),
        "duration": _number(
            args.duration, QUICK_DURATION if quick else DEFAULT_DURATION, "--duration"
        ),
        "threadpool": int(_number(args.threadpool, DEFAULT_THREADPOOL, "--threadpool", int)),
        "quick": quick,
        "open_loop_rate": rate,
        "repeat": (
            (QUICK_REPEAT if quick else DEFAULT_REPEAT)
            if args.repeat is None
            else int(_number(args.repeat, 0, "--repeat", int))
        ),
    }
    validate(kwargs["variants"], kwargs["concurrency"], kwargs["server_workers"], kwargs["delay"],
             kwargs["duration"], kwargs["threadpool"], rate, kwargs["repeat"])  # fmt: skip
    if args.json:
        folder = os.path.dirname(os.path.abspath(args.json))
        if not os.path.isdir(folder):
            raise UsageError(f"--json: no such directory {folder}")
    return kwargs


APP_ONLY = ("path", "body", "header", "threads", "port", "startup_timeout")
LAB_ONLY = ("delay", "threadpool", "variant", "repeat")


def app_arguments(args: argparse.Namespace) -> dict:
    """Turn parsed options into ``appsweep.run_app`` keyword arguments (``--app`` given).

    Defaults: workers 1, the usable cores and twice that; threads 1,4,40; users 1,10,50; 3 s
    windows (``--quick``: workers 1 and the cores, threads 1,40, users 1,50, 1.5 s windows);
    ``--startup-timeout`` :data:`APP_STARTUP_TIMEOUT` s, bounding the app's first import (its
    inspection) and each server's start. Raises UsageError for a lab-only option, a value that
    is not a number, or a bad ``--json``."""
    from gilbench.engine.environment import usable_cores
    from gilbench.weblab.appsweep import parse_headers

    for name in LAB_ONLY:
        if getattr(args, name, None) is not None:
            raise UsageError(f"--{name.replace('_', '-')} is for the web lab, not --app")
    quick = bool(args.quick)
    cores = usable_cores()
    workers = [1, cores] if quick else [1, cores, 2 * cores]
    port = None if args.port is None else int(_number(args.port, 0, "--port", int))
    if port is not None and not 1 <= port <= 65535:
        raise UsageError("--port must be between 1 and 65535")
    startup = _number(args.startup_timeout, APP_STARTUP_TIMEOUT, "--startup-timeout")
    rate = (
        None if args.open_loop_rate is None else _number(args.open_loop_rate, 0, "--open-loop-rate")
    )
    if rate is not None and not 0 < rate <= 100_000:
        raise UsageError("--open-loop-rate must be > 0 and <= 100000 requests per second")
    if not 0 < startup <= 600:
        raise UsageError("--startup-timeout must be > 0 and <= 600 seconds")
    if args.json:
        folder = os.path.dirname(os.path.abspath(args.json))
        if not os.path.isdir(folder):
            raise UsageError(f"--json: no such directory {folder}")
    return {
        "target": args.app,
        "paths": list(dict.fromkeys(args.path or [])),
        "method": args.method,
        "body": args.body,
        "headers": parse_headers(args.header or []),
        "server_workers": _int_list(args.server_workers, workers, "--server-workers"),
        "threads": _int_list(args.threads, [1, 40] if quick else APP_THREADS, "--threads"),
        "concurrency": _int_list(
            args.concurrency, QUICK_APP_CONCURRENCY if quick else APP_CONCURRENCY, "--concurrency"
        ),
        "duration": _number(
            args.duration, QUICK_APP_DURATION if quick else APP_DURATION, "--duration"
        ),
        "quick": quick,
        "port": port,
        "startup_timeout": startup,
        "open_loop_rate": rate,
    }


def measure(args: argparse.Namespace, console: Console) -> dict:
    """Run the web lab (or, with ``--app``, the sweep of the user's app) with a progress bar
    and return its ``kind: web`` (``web-app``) document.

    With ``--json``, the file is rewritten atomically after every row and at the end.
    Raises UsageError like :func:`lab_arguments` / :func:`app_arguments`.
    """
    if args.app is None:
        for name in APP_ONLY:
            if getattr(args, name, None) is not None:
                raise UsageError(f"--{name.replace('_', '-')} needs --app MODULE:APP")
        from gilbench.weblab.lab import run_lab

        kwargs, run, title = lab_arguments(args), run_lab, "web lab"
    else:
        from gilbench.weblab.appsweep import run_app

        kwargs, run, title = app_arguments(args), run_app, f"web --app {args.app}"
    checkpoint = (lambda doc: write_json_atomic(args.json, doc)) if args.json else None
    with Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(title, total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        doc = run(**kwargs, progress=progress, checkpoint=checkpoint)
    if args.json:
        write_json_atomic(args.json, doc)
    return doc


def print_results(doc: dict, console: Console) -> None:
    """Print a web document: its table, one lesson per variant, the claim check, the warnings
    (a ``web-app`` document: ``report.webapp.print_app``)."""
    from gilbench.report.web import web_table
    from gilbench.weblab.theory import format_lessons

    if doc.get("kind") == "web-app":
        from gilbench.report.webapp import print_app

        print_app(doc, console)
        return
    console.print(web_table(doc))
    for line in format_lessons(doc):
        console.print(f"- {line}", highlight=False)
    for warning in doc["warnings"]:
        console.print(
            f"[yellow]warning[/yellow] {warning['code']}: {warning['message']}", highlight=False
        )


def failed(doc: dict) -> bool:
    """Whether a measurement of the web document failed (the command then exits 1)."""
    if doc.get("kind") == "web-app":
        from gilbench.weblab.appsweep import failed as app_failed

        return app_failed(doc)
    return any(row["error"] for row in doc["web_results"])
