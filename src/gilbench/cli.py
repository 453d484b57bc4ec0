"""The ``gilbench`` command: parse, call, print. Measuring lives in ``engine``, formatting in
``report``.

Exit codes (contract): 0 ok; 1 a measurement failed (results still written); 2 bad input.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from gilbench import strategies as strategy_registry
from gilbench.errors import UsageError
from gilbench.workloads import all_workloads

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + message
        raise UsageError(message)


# -- argument types ----------------------------------------------------------------------------
def int_list(text: str) -> list[int]:
    """argparse type: "1,2,4" -> sorted unique whole numbers >= 1; ArgumentTypeError otherwise."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers, got {text!r}"
        ) from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected numbers >= 1, got {text!r}")
    return sorted(set(values))


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1; ArgumentTypeError otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number > 0 (e.g. seconds); ArgumentTypeError otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _add_measure_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-s",
        "--strategy",
        action="append",
        metavar="STRATEGY",
        help=f"repeatable; one of {', '.join(strategy_registry.NAMES)}, or all (default: all "
        "but the slow-to-start dask and the opt-in pool)",
    )
    p.add_argument(
        "--workers",
        type=int_list,
        metavar="1,2,4",
        help="worker counts to sweep (default: the workload's own)",
    )
    p.add_argument(
        "--tasks",
        type=positive_int,
        metavar="N",
        help="tasks per pass (default: the workload's own, at least the largest worker count)",
    )
    p.add_argument(
        "--samples",
        type=positive_int,
        metavar="N",
        help="timed values per measurement, fixed (default: 2, then more only where the "
        "verdict is undecided, up to 10; --quick up to 5)",
    )
    p.add_argument(
        "--timeout",
        type=positive_float,
        default=300.0,
        metavar="SECONDS",
        help="per measurement (default 300)",
    )
    p.add_argument(
        "--start-method",
        choices=["fork", "spawn", "forkserver"],
        help="multiprocessing start method for 'processes'",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="fewer samples and smaller tasks: a first look in seconds",
    )
    p.add_argument(
        "--json", metavar="PATH", help="write results here, updated after every measurement"
    )
    _add_output_options(p)


def _add_python_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--python",
        action="append",
        metavar="PATH",
        help="interpreter to run the trials in; repeatable (default: this one); a free-threaded "
        "build runs twice, GIL off and PYTHON_GIL=1 (docs/interpreters.md)",
    )


def _add_output_options(p: argparse.ArgumentParser, html: bool = True) -> None:
    if html:
        p.add_argument(
            "--html", metavar="PATH", help="also write a self-contained HTML report with charts"
        )
    p.add_argument(
        "--format",
        choices=["json", "csv", "md"],
        help="print the results in this format instead of tables (for pasting)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``gilbench`` parser with its subcommands (run, bench, report, compare, web, list,
    doctor); its ``error`` raises UsageError instead of exiting."""
    parser = _Parser(
        prog="gilbench",
        description="How does the GIL affect this workload, "
        "and which concurrency model should it use?",
    )
    parser.add_argument(
        "--version", action="version", version=f"gilbench {__import__('gilbench').__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="reproduce the post's experiments and more, on this machine")
    run.add_argument(
        "-w",
        "--workload",
        action="append",
        metavar="WORKLOAD",
        help="repeatable (default: all); see 'gilbench list'",
    )
    _add_python_option(run)
    run.add_argument(
        "--count",
        type=positive_int,
        metavar="N",
        help="cpu.count loop size (default: calibrated to ~0.25 s per task; the post uses "
        "50000000)",
    )
    run.add_argument(
        "--delay",
        type=positive_float,
        metavar="SECONDS",
        help="io.http slow-API delay (default 2, as in the post)",
    )
    run.add_argument(
        "--sleep",
        type=positive_float,
        metavar="SECONDS",
        help="io.sleep seconds per task (default 0.5)",
    )
    run.add_argument(
        "-p",
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="any workload's size knob, e.g. -p hash_mib=64 (names: 'gilbench list')",
    )
    run.add_argument(
        "--postgres-dsn",
        metavar="DSN",
        help="PostgreSQL server for io.postgres "
        "(default: a throwaway cluster gilbench starts and stops)",
    )
    _add_measure_options(run)

    bench = sub.add_parser(
        "bench",
        help="measure your own function under every strategy (benchmark before optimizing)",
        description="Measure MODULE:FUNC under every strategy and recommend one. "
        "Defaults: --workers 1,2,4 and twice the usable cores; "
        "--tasks so that one sequential pass takes about 0.2 s (sized in the first --python; "
        "every interpreter runs the same tasks).",
    )
    bench.add_argument(
        "target", metavar="MODULE:FUNC", help="a function importable from the current directory"
    )
    bench.add_argument(
        "--args", metavar="JSON", help="positional arguments, a JSON array (default [])"
    )
    bench.add_argument(
        "--kwargs", metavar="JSON", help="keyword arguments, a JSON object (default {})"
    )
    bench.add_argument(
        "--setup",
        metavar="MODULE:FUNC",
        help="called once in each trial process, untimed; returns the arguments: "
        "a dict (keyword arguments), an (args, kwargs) pair, a tuple (positional) "
        "or one argument",
    )
    _add_python_option(bench)
    _add_measure_options(bench)

    report = sub.add_parser(
        "report", help="an HTML report (charts inline, no network needed) from results files"
    )
    report.add_argument("results", nargs="+", metavar="RESULTS.json")
    report.add_argument("-o", "--output", required=True, metavar="REPORT.html")

    compare = sub.add_parser(
        "compare", help="compare two results files row by row, with significance"
    )
    compare.add_argument("a", metavar="A.json")
    compare.add_argument("b", metavar="B.json")
    _add_output_options(compare, html=False)

    from gilbench.weblab import command as weblab_command

    web = sub.add_parser(
        "web", help="the post's FastAPI endpoint under concurrent users, served by real uvicorn"
    )
    weblab_command.add_arguments(web)
    _add_output_options(web)

    lst = sub.add_parser("list", help="workloads, strategies and interpreters found here")
    lst.add_argument(
        "--pythons",
        action="store_true",
        help="only the interpreters: what each supports, and the venvs gilbench made for them",
    )
    sub.add_parser("doctor", help="is this machine fit to measure on? why not?")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gilbench`` with ``argv`` (None: sys.argv); the exit code: 0 ok, 1 a measurement
    failed, 2 bad input (one line on stderr), 130 interrupted (Ctrl-C or SIGTERM)."""
    # Tables need room; rich falls back to 80 columns when stdout is not a terminal.
    console = Console(width=None if sys.stdout.isatty() else 160)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return EXIT_USAGE
        return COMMANDS[args.command](args, console)
    except UsageError as exc:
        print(f"gilbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            "gilbench: interrupted; every process it started is stopped, results so far are kept",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


def _terminate(signum, frame):  # SIGTERM unwinds like Ctrl-C, so clean-up runs
    raise KeyboardInterrupt


# -- run ---------------------------------------------------------------------------------------
def _select_workloads(names: list[str] | None):
    known = all_workloads()
    for name in names or []:
        if name not in known:
            raise UsageError(f"unknown workload {name!r}; known: {', '.join(known)}")
    return [known[n] for n in (names or known)]


def _select_strategies(names: list[str] | None) -> list[str]:
    try:
        return strategy_registry.select(names)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check_json_path(path: str | None) -> None:
    _check_output_path("--json", path)


def _knob_params(items: list[str] | None) -> dict[str, float]:
    """``-p NAME=VALUE`` pairs, checked against the workloads' knob names."""
    knobs = {w.knob.name for w in all_workloads().values() if w.knob}
    params: dict[str, float] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep or name not in knobs:
            raise UsageError(
                f"--param expects NAME=VALUE with NAME one of {', '.join(sorted(knobs))}; "
                f"got {item!r}"
            )
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"--param {name}: expected a number, got {text!r}") from None
        if value <= 0:
            raise UsageError(f"--param {name}: expected a number > 0, got {text!r}")
        params[name] = int(value) if value.is_integer() else value
    return params


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    """``gilbench run``: build the Plan from the flags and :func:`execute` it; the exit code.
    Raises UsageError for an unknown workload, strategy or --param."""
    from gilbench.engine.session import Plan

    params = {
        **_knob_params(args.param),
        **{
            k: v
            for k, v in (("count", args.count), ("delay", args.delay), ("seconds", args.sleep))
            if v is not None
        },
    }
    plan = Plan(
        workloads=_select_workloads(args.workload),
        strategies=_select_strategies(args.strategy),
        pythons=args.python or [sys.executable],
        workers=args.workers,
        tasks=args.tasks,
        params=params,
        quick=args.quick,
        samples=args.samples,
        timeout=args.timeout,
        start_method=args.start_method,
        html_path=args.html,
        output_format=args.format,
        services={"postgres": args.postgres_dsn} if args.postgres_dsn else {},
        skip=strategy_registry.left_out(
            "left out by --quick" if args.quick else "left out of the default run",
            strategy_registry.DEFAULT,
            args.strategy or (),
        ),
        native_async_only=not strategy_registry.named("asyncio", args.strategy or ()),
    )
    return execute(plan, args.json, console)


def execute(
    plan, json_path: str | None, console: Console, interpreters: list[dict] | None = None
) -> int:
    """Run a plan with a progress bar, then print the tables. Shared by run and bench
    (``interpreters``: already expanded and provisioned, as bench's ``prepare`` gives them;
    None: the session does it for ``plan.pythons``).

    Returns EXIT_FAILED when a measurement failed, else EXIT_OK. Raises UsageError for an
    unwritable --json/--html path or an interpreter that cannot run the worker; re-raises
    KeyboardInterrupt after saying where the partial results are."""
    from gilbench.analysis import analyse
    from gilbench.engine import events
    from gilbench.engine.environment import InterpreterError
    from gilbench.engine.session import Session

    _check_json_path(json_path)
    _check_output_path("--html", getattr(plan, "html_path", None))
    # With --format the results go to stdout for piping: the progress bar moves to stderr.
    fmt = getattr(plan, "output_format", None)
    shown = Console(stderr=True, width=console.width) if fmt else console
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=shown,
        transient=True,
    )
    state: dict = {"task": None, "samples": 1, "said": set()}

    def on_event(e: events.Event) -> None:
        if isinstance(e, events.Planned):
            state["samples"] = e.samples
            state["total"] = e.trials * e.samples
            state["task"] = progress.add_task("starting", total=state["total"])
        elif isinstance(e, events.TrialStarted):
            where = f"{e.workload} · {e.strategy} x{e.workers} · {e.python}"
            progress.update(state["task"], description=f"{where} · round {e.round + 1}")
            if e.round >= state["samples"]:  # an undecided comparison gets another sample
                state["total"] += 1
                progress.update(state["task"], total=state["total"])
        elif isinstance(e, events.SampleTaken):
            progress.advance(state["task"])
        elif isinstance(e, events.RowDone):
            row = e.row
            # Rows that stopped early (skipped, failed) will never send their remaining samples.
            taken = row.wall_s["n"] if row.wall_s else 0
            progress.advance(state["task"], max(0, state["samples"] - taken))
            said = (row.workload, row.strategy, row.python, row.status, row.error or row.reason)
            # once, not once per worker count
            if row.status != "ok" and said not in state["said"]:
                state["said"].add(said)
                progress.console.print(
                    f"  {row.workload} / {row.strategy} x{row.workers}: "
                    f"{row.status}: {row.error or row.reason}",
                    markup=False,
                    highlight=False,
                )
        elif isinstance(e, events.ServiceStarting):
            progress.update(state["task"], description=f"starting {e.name}")
        elif isinstance(e, events.Calibrating):
            text = f"calibrating {e.workload} to {e.target_s:.2f} s per task"
            progress.update(state["task"], description=text)
        elif isinstance(e, events.VenvStep):
            _show_venv_step(
                e, lambda text: progress.update(state["task"], description=text), progress.console
            )

    session = Session(
        plan, on_event=on_event, json_path=json_path, analyse=analyse, interpreters=interpreters
    )
    try:
        with progress:
            doc = session.run().to_dict()
    except InterpreterError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        if json_path:
            shown.print(f"partial results: {json_path}", markup=False)
        raise
    emit(doc, console, fmt, getattr(plan, "html_path", None))
    if json_path:
        shown.print(f"results: {json_path}", markup=False, highlight=False)
    return EXIT_FAILED if session.failed else EXIT_OK


def _show_venv_step(e, status: Callable[[str], None], console: Console) -> None:
    """A venv step (``events.VenvStep``) on the progress line; its start, end and clean-up
    also as lines of their own."""
    from gilbench.report.interpreters import venv_event_text

    text = venv_event_text(e.to_dict())
    status(text)
    if e.step in ("create", "ready", "removed-stale"):
        console.print(f"  {text}", markup=False, highlight=False)


def emit(doc: dict, console: Console, fmt: str | None, html_path: str | None) -> None:
    """Show a finished document: tables (or --format text on stdout), and the HTML report."""
    if fmt:
        from gilbench.report.export import export

        sys.stdout.write(export(doc, fmt))
        sys.stdout.flush()
    elif doc.get("kind") in ("web", "web-app"):
        from gilbench.weblab.command import print_results

        print_results(doc, console)
    else:
        print_document(doc, console)
    if html_path:
        from gilbench.report.html import render_html

        _write_text(html_path, render_html([doc]))
        (Console(stderr=True) if fmt else console).print(
            f"report: {html_path}", markup=False, highlight=False
        )


def _check_output_path(flag: str, path: str | None) -> None:
    from gilbench.engine.results import check_writable

    if path and (why := check_writable(path)):
        raise UsageError(f"cannot write {flag} {path}: {why}")


def _write_text(path: str, text: str) -> None:
    from gilbench.fsio import write_text_atomic

    write_text_atomic(path, text)


def print_document(doc: dict, console: Console) -> None:
    """Print a run or bench document as rich tables: results, interpreters side by side and the
    verdict across them, recommendations (and the task-type table for a run), scaling, then the
    warnings."""
    from gilbench.report import terminal
    from gilbench.report.interpreters import cross_interpreter_table, side_by_side_table

    console.print(terminal.results_table(doc))
    if side := side_by_side_table(doc):
        console.print(side)
    if across := cross_interpreter_table(doc):
        console.print(across)
    if doc["recommendations"]:
        console.print(terminal.recommendations_table(doc))
        if doc.get("kind") != "bench":  # one function: the verdict above says it all
            console.print(terminal.task_type_table(doc))
    if doc.get("scaling"):
        console.print(terminal.scaling_table(doc))
    for line in terminal.warning_lines(doc):
        console.print(line, style="yellow", markup=False, highlight=False)


# -- bench -------------------------------------------------------------------------------------
def cmd_bench(args: argparse.Namespace, console: Console) -> int:
    """``gilbench bench MODULE:FUNC``: check, probe, then :func:`execute`; the exit code (1 when
    the first call failed, the results still written). Raises UsageError on bad input."""
    from gilbench import userbench
    from gilbench.engine.results import write_json_atomic

    call_args, call_kwargs = userbench.parse_arguments(args.args, args.kwargs)
    # With --python the function is imported where it will run (by the probe), not here.
    target = userbench.check_target(
        args.target, call_args, call_kwargs, args.setup, import_here=not args.python
    )
    strategies = _select_strategies(args.strategy)
    _check_json_path(args.json)
    _check_output_path("--html", args.html)
    said = f"calling {target.path} to size the run"
    stderr = Console(stderr=True)
    with stderr.status(said) as status:

        def on_event(e) -> None:  # only venv steps come before the session
            _show_venv_step(e, lambda text: status.update(f"{text}; then {said}"), stderr)

        prepared = userbench.prepare(
            target,
            strategies,
            requested=args.strategy or (),
            workers=args.workers,
            tasks=args.tasks,
            quick=args.quick,
            samples=args.samples,
            timeout=args.timeout,
            start_method=args.start_method,
            pythons=args.python,
            on_event=on_event,
        )
    prepared.plan.html_path, prepared.plan.output_format = args.html, args.format
    if prepared.problem:  # its first call failed: nothing measured, every row says why
        doc = userbench.failed_document(prepared).to_dict()
        if args.json:
            write_json_atomic(args.json, doc)
        emit(doc, console, args.format, args.html)
        print(f"gilbench: {prepared.problem}", file=sys.stderr)
        return EXIT_FAILED
    return execute(prepared.plan, args.json, console, prepared.interpreters)


# -- web ---------------------------------------------------------------------------------------
def cmd_web(args: argparse.Namespace, console: Console) -> int:
    """``gilbench web``: the web lab (``weblab.command.measure``), then its tables; the exit
    code (1 when a cell failed)."""
    from gilbench.weblab import command as weblab_command

    _check_output_path("--html", args.html)
    shown = Console(stderr=True, width=console.width) if args.format else console
    doc = weblab_command.measure(args, shown)
    emit(doc, console, args.format, args.html)
    if args.json:
        shown.print(f"results: {args.json}", markup=False, highlight=False)
    if doc.get("failure"):  # web --app: what stopped the sweep or a path, on one line
        print(f"gilbench: {doc['failure']}", file=sys.stderr)
    return EXIT_FAILED if weblab_command.failed(doc) else EXIT_OK


# -- report and compare ------------------------------------------------------------------------
def _load_results(path: str) -> dict:
    """The gilbench document at ``path`` (``gilbench.documents.load``); bad input: UsageError."""
    from gilbench.documents import load

    try:
        return load(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    """``gilbench report``: one HTML file from results files; EXIT_OK. Raises UsageError for an
    unreadable or invalid document or an unwritable -o path."""
    from gilbench.report.html import render_html

    docs = [_load_results(p) for p in args.results]
    _check_output_path("-o", args.output)
    try:
        html = render_html(docs)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _write_text(args.output, html)
    console.print(f"report: {args.output}", markup=False, highlight=False)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace, console: Console) -> int:
    """``gilbench compare A B``: row-by-row comparison as a table or --format text; EXIT_OK.
    Raises UsageError for a bad or incomparable document."""
    import os

    from gilbench.report.compare import compare, compare_table

    a, b = _load_results(args.a), _load_results(args.b)
    try:
        result = compare(a, b, label_a=os.path.basename(args.a), label_b=os.path.basename(args.b))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.format:
        from gilbench.report.export import export

        sys.stdout.write(export(result, args.format))
    else:
        console.print(compare_table(result))
    return EXIT_OK


# -- list and doctor ---------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace, console: Console) -> int:
    """``gilbench list``: workloads, strategies available here, interpreters found (with
    --pythons: interpreters and their cached venvs only); EXIT_OK."""
    from rich.table import Table

    from gilbench.engine import venvs
    from gilbench.report.interpreters import found_table, venvs_table

    if args.pythons:
        console.print(found_table(_found_interpreters()))
        console.print(venvs_table([v.to_dict() for v in venvs.provisioned()]))
        console.print(
            f"venv cache: {venvs.venvs_dir()} "
            "(GILBENCH_CACHE_DIR moves it; delete a venv to remake it)",
            markup=False,
            highlight=False,
        )
        return EXIT_OK
    made = venvs.provisioned()
    wl = Table(title="Workloads", title_justify="left", header_style="bold")
    for col in ("name", "family", "tasks x workers", "size knob", "needs", "what"):
        wl.add_column(col, overflow="fold")
    for w in all_workloads().values():
        knob = (
            f"-p {w.knob.name}= ({'calibrated' if w.knob.default is None else w.knob.default})"
            if w.knob
            else "-"
        )
        needs = ", ".join(n.name for n in w.needs) or "-"
        missing = w.missing()
        # other interpreters: what pip could not install in their venvs (gilbench list --pythons)
        lacking = [
            v.label
            for v in made
            if any(
                venvs.failed_requirement(n.name, v.failed) for n in w.needs if n.kind == "package"
            )
        ]
        wl.add_row(
            w.name,
            w.family,
            f"{w.default_tasks} x {w.default_workers}",
            knob,
            needs
            + (f" [red](missing: {missing})[/]" if missing else "")
            + (
                f" [yellow](skipped on {', '.join(lacking)}: not installable)[/]" if lacking else ""
            ),
            w.summary,
        )
    console.print(wl)
    st = Table(title="Strategies", title_justify="left", header_style="bold")
    st.add_column("name")
    st.add_column("here")
    for name in strategy_registry.NAMES:
        try:
            strategy_registry.create(name)
            opt_in = not strategy_registry.traits(name).in_default_set
            st.add_row(
                name, f"[green]available[/]{f' (only when named: -s {name})' if opt_in else ''}"
            )
        except strategy_registry.Unavailable as exc:
            st.add_row(name, f"[yellow]skipped: {exc}[/]")
    console.print(st)
    console.print(found_table(_found_interpreters()))
    return EXIT_OK


def _found_interpreters() -> list[tuple[str, dict | None, str, str]]:
    """(path, probe, what it supports, its provisioned venv) for every interpreter found here,
    each once under its canonical path (``environment.canonical_python``), as venv manifests
    record their ``base``."""
    from gilbench.engine import environment, targets, venvs

    made = {v.base: v.path for v in reversed(venvs.provisioned())}  # the newest venv wins
    rows = []
    for path in environment.discover_interpreters():
        try:
            info = environment.probe_interpreter(path)
        except environment.InterpreterError as exc:
            rows.append((path, None, str(exc), ""))
            continue
        venv = "not needed (runs gilbench)" if not venvs.needs_venv(path) else made.get(path, "")
        rows.append((path, info, targets.support_summary(info, strategy_registry.NAMES), venv))
    # This one first, then oldest to newest.
    return sorted(
        rows,
        key=lambda r: (
            r[0] != environment.canonical_python(sys.executable),
            r[1]["version_info"] if r[1] else [0],
        ),
    )


def cmd_doctor(args: argparse.Namespace, console: Console) -> int:
    """``gilbench doctor``: print each ``engine.doctor`` check and a verdict; EXIT_FAILED when
    a check failed, EXIT_OK otherwise (warnings included)."""
    from gilbench.engine.doctor import run_checks

    checks = run_checks()
    style = {"ok": "green", "warn": "yellow", "fail": "red"}
    for c in checks:
        console.print(f"[{style[c.status]}]{c.status:>4}[/] {c.name}: {c.detail}", highlight=False)
    bad = [c for c in checks if c.status != "ok"]
    verdict = (
        "fit to measure on"
        if not bad
        else (
            "usable, with the caveats above"
            if all(c.status == "warn" for c in bad)
            else "not fit to measure on"
        )
    )
    console.print(f"\nThis machine is {verdict}.", style="bold")
    return EXIT_FAILED if any(c.status == "fail" for c in checks) else EXIT_OK


COMMANDS = {
    "run": cmd_run,
    "web": cmd_web,
    "bench": cmd_bench,
    "report": cmd_report,
    "compare": cmd_compare,
    "list": cmd_list,
    "doctor": cmd_doctor,
}


if __name__ == "__main__":
    sys.exit(main())
