"""``gilbench bench MODULE:FUNC`` and ``gilbench.bench(func)``: the user's own function under
every strategy, measured like the built-in workloads, with a verdict.

The flow, shared by the command and the Python API:

1. check the target here, before anything runs: the module imports from the current directory,
   the name exists and is callable, the arguments are JSON (else :class:`BenchInputError`,
   which the command turns into one line and exit code 2). With ``--python`` the import is
   checked where the trials run instead, by the probe (step 2);
2. set up the interpreters as ``gilbench run`` does (``engine/targets.py``: a free-threaded build
   yields two entries, each non-gilbench interpreter gets its venv) and probe the function in a
   fresh process of the first one (``engine/usercall.py``): import it, run the setup, call the
   function, time one call, see whether its result pickles and repeats. When that first call
   raises, hangs past the timeout or ends its own process, nothing else is run: every row
   carries that failure and the command exits 1, with the results file still written;
3. size the run from that probe: enough tasks that one sequential pass takes about ``PASS_S``,
   the same tasks in every interpreter so their absolute times compare; and from what one call
   and its result cost there, skip (and say why) every trial whose least duration exceeds
   ``--timeout`` instead of waiting it out (``engine/projection.py``);
4. measure with the same Session as ``gilbench run``, on a Workload built from the function, and
   the same analysis (per interpreter, and across interpreters when there are several).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gilbench.engine import usercall
from gilbench.engine.projection import CallCost
from gilbench.errors import UsageError
from gilbench.strategies import crossing_processes, left_out, named
from gilbench.workloads import Call, Workload

if TYPE_CHECKING:
    from gilbench.engine.events import Event

# One sequential pass over all tasks should take about this long: long enough to sample GIL
# contention and CPU time, short enough that the whole bench fits in ~30 s.
PASS_S = 0.2
QUICK_PASS_S = 0.1
# Tiny functions would need huge task counts to reach PASS_S; dispatch dominates long before.
MAX_TASKS = 2000
# Without --samples, no trial of bench's starts that is projected to end past this (a row's
# first from the probe, later ones from the row's last trial), so with the probe the command
# takes about 30 s at most (--quick: about 15 s) whatever the function costs.
BUDGET_S = 26.0
QUICK_BUDGET_S = 12.0


class BenchInputError(UsageError):
    """The function or its arguments cannot be benchmarked as given (exit code 2)."""


@dataclass(frozen=True)
class Target:
    """What to call: ``path`` is "module:qualname"; ``args``/``kwargs`` are JSON values;
    ``setup`` ("module:func") builds more arguments in each trial process."""

    path: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    setup: str | None = None

    @property
    def call(self) -> Call:
        """The target as a workload ``Call`` (without the setup)."""
        return Call(self.path, self.args, self.kwargs)


@dataclass
class Probe:
    """The first calls of the function, in a fresh process (``engine/usercall.py``)."""

    status: str  # ok | error | timeout
    error: str | None = None  # one line, when status is not ok
    per_call_s: float | None = None  # seconds per call
    calls: int = 0  # calls made
    result_unpicklable: str | None = None  # why the return value cannot be pickled
    deterministic: bool = True  # two calls returned equal results
    coroutine: bool = False  # the function is ``async def`` (asyncio runs it natively)
    # what one call and its result cost (the fastest seen), from which each trial's least
    # duration is projected (engine/projection.py); None when the probe failed
    cost: CallCost | None = None


@dataclass
class Prepared:
    """A bench ready to measure: the checked target, its probe and the session Plan; or the
    ``problem`` that stops it."""

    target: Target
    probe: Probe
    plan: Any  # engine.session.Plan
    problem: str | None = None  # one line: why nothing was measured
    # the plan's interpreters as engine.targets expands and provisions them (a run's
    # ``interpreters`` entries): the Session is given these, the probe ran in the first
    interpreters: list[dict] = field(default_factory=list)


# -- 1. checking the input ---------------------------------------------------------------------
def parse_arguments(args_json: str | None, kwargs_json: str | None) -> tuple[tuple, dict]:
    """``--args`` (a JSON array) and ``--kwargs`` (a JSON object) as (tuple, dict); None means
    empty. Raises BenchInputError for invalid JSON or the wrong JSON type."""
    args: Any = _json("--args", args_json, "[]")
    kwargs: Any = _json("--kwargs", kwargs_json, "{}")
    if not isinstance(args, list):
        raise BenchInputError(
            f"--args must be a JSON array, e.g. '[1, \"a\"]'; got {type(args).__name__}"
        )
    if not isinstance(kwargs, dict):
        raise BenchInputError(
            f"--kwargs must be a JSON object, e.g. '{{\"n\": 3}}'; got {type(kwargs).__name__}"
        )
    return tuple(args), kwargs


def _json(flag: str, text: str | None, default: str) -> Any:
    try:
        return json.loads(text if text is not None else default)
    except ValueError as exc:
        raise BenchInputError(f"{flag} is not valid JSON ({exc})") from None


def check_target(
    path: str,
    args: Sequence = (),
    kwargs: dict | None = None,
    setup: str | None = None,
    *,
    import_here: bool = True,
) -> Target:
    """Import the function (and setup) from the current directory and check the arguments are
    JSON; the checked :class:`Target`. ``import_here=False`` (the trials run in another
    interpreter, ``--python``) checks only the paths' form here: the probe imports them there
    (:func:`prepare`). Raises BenchInputError if anything is unusable."""
    check = load if import_here else split_path
    check(path, "function")
    if setup:
        check(setup, "--setup function")
    kwargs = dict(kwargs or {})
    try:
        json.dumps([list(args), kwargs])
    except (TypeError, ValueError) as exc:
        raise BenchInputError(
            f"arguments must be JSON values to reach fresh processes ({exc}); "
            "build other values in a setup function"
        ) from None
    return Target(path, tuple(args), kwargs, setup)


def split_path(path: str, what: str = "function") -> tuple[str, str]:
    """ "module:qualname" -> (module, qualname). Raises BenchInputError when a part is missing."""
    try:
        return usercall.split_path(path, what)
    except usercall.LoadError as exc:
        raise BenchInputError(str(exc)) from None


def load(path: str, what: str = "function") -> Callable:
    """The callable at "module:qualname", imported here the way trial processes will import it
    (the current directory first on sys.path; ``usercall.load``). Raises BenchInputError naming
    ``what`` when the path is malformed, the import fails or raises, the name is missing or not
    callable."""
    try:
        return usercall.load(path, what, os.getcwd())
    except usercall.LoadError as exc:
        raise BenchInputError(str(exc)) from None


def path_of(func: Callable | str) -> str:
    """ "module:qualname" for a function (a string is returned as is), so that fresh processes
    can import it. Raises BenchInputError for a lambda, a nested or interactive function, or a
    script's function when run from another directory."""
    if isinstance(func, str):
        return func
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise BenchInputError(
            f"{func!r} cannot be imported by name in another process: define it at module level"
        )
    if module == "__main__":
        main_file = getattr(sys.modules["__main__"], "__file__", None)
        if not main_file:
            raise BenchInputError(
                f"{qualname} was defined interactively: "
                "put it in a module so fresh processes can import it"
            )
        if os.path.dirname(os.path.abspath(main_file)) != os.getcwd():
            raise BenchInputError(
                f"{qualname} is in the script {main_file}: "
                "run it from that directory so fresh processes can import it"
            )
        # the script must guard its own run
        module = os.path.splitext(os.path.basename(main_file))[0]
    return f"{module}:{qualname}"


# -- 2. probing --------------------------------------------------------------------------------
def probe(target: Target, python: str, timeout: float, env: dict[str, str] | None = None) -> Probe:
    """Call the target in a fresh ``python`` process (a probe trial, at most ``timeout`` s,
    ``env`` added to its environment): its time per call (seconds) and what it returns, or how
    it failed. Never raises for what the function does; raises BenchInputError when the
    function or setup cannot be imported there (``usercall.load``'s one line)."""
    from gilbench.engine.protocol import TrialSpec
    from gilbench.engine.runner import run_trial

    spec = TrialSpec.probe(target.call.to_dict(), setup=target.setup, cwd=os.getcwd())
    out = run_trial(python, spec, timeout, env=env)
    if out.status == "error" and out.where == "load":
        raise BenchInputError(f"{out.error} (in {python})")
    if out.status != "ok" or out.probe is None:
        return Probe(
            status="timeout" if out.status == "timeout" else "error", error=out.error or out.reason
        )
    found = out.probe
    measured = (found.fastest_call_s, found.fastest_call_cpu_s, found.checksum_s)
    return Probe(
        "ok",
        per_call_s=found.per_call_s,
        calls=found.calls,
        result_unpicklable=found.result_unpicklable,
        deterministic=found.deterministic,
        coroutine=found.coroutine,
        cost=CallCost(*measured, found.pickle_s, found.result_bytes)
        if None not in measured
        else None,
    )


def problem_line(target: Target, result: Probe, timeout: float) -> str:
    """One line saying why nothing could be measured (a timeout of ``timeout`` s, a process
    that died, a failed setup, or the exception the function raised)."""
    if result.status == "timeout":
        return (
            f"{target.path} did not return within the {timeout:g} s timeout (--timeout); "
            "nothing was measured"
        )
    error = result.error or "failed"
    if error.startswith("worker died"):
        how = re.search(r"\(([^)]*)\)", error)
        cause = how.group(1) if how else error
        return f"{target.path} ended the process it ran in ({cause}); nothing was measured"
    if error.startswith("setup "):
        return f"{error}; nothing was measured"
    return f"{target.path} raised {error}; nothing was measured"


# -- 3. sizing and planning --------------------------------------------------------------------
def default_workers(cores: int) -> list[int]:
    """Bench's worker counts for ``cores`` usable cores: 2, 4 and twice the cores, sorted.

    No 1: sequential is the one-worker point every speedup is measured against, and a pool of
    one only adds its dispatch cost to it, which no verdict picks; its rows took a third of a
    round (3 of 10 rows) that the budget is better spent sampling the rows a verdict rests on.
    ``--workers 1,2,4`` measures them."""
    return sorted({2, 4, 2 * cores})


def choose_tasks(per_call_s: float, workers: Sequence[int], quick: bool = False) -> int:
    """Tasks per pass: about PASS_S of sequential work, at least the largest worker count, and a
    multiple of every worker count so no worker sits out the last round."""
    unit = math.lcm(*workers)
    if unit > 4 * max(workers):
        unit = max(workers)
    wanted = math.ceil((QUICK_PASS_S if quick else PASS_S) / max(per_call_s, 1e-7))
    n = min(max(wanted, max(workers)), MAX_TASKS)
    return max(unit, math.ceil(n / unit) * unit)


def prepare(
    target: Target,
    strategies: Sequence[str],
    *,
    requested: Sequence[str] = (),
    workers: Sequence[int] | None = None,
    tasks: int | None = None,
    quick: bool = False,
    samples: int | None = None,
    timeout: float = 300.0,
    start_method: str | None = None,
    command: str = "",
    pythons: Sequence[str] | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> Prepared:
    """Set up the interpreters, probe the function and build the plan.

    ``pythons`` (default: this interpreter) are expanded and given their venvs as ``gilbench
    run`` does (``engine.targets``; a free-threaded build yields two entries); ``on_event``
    receives the venv steps (``events.VenvStep``). The probe, and so the sizing, runs in the
    first interpreter only: every interpreter then runs the same tasks, so their absolute
    times compare. ``requested``: strategies the user named; ``timeout``: seconds per trial.
    A failed probe is returned as ``problem``, not raised. Raises BenchInputError for an
    interpreter that cannot run gilbench's worker, or a function that does not import in the
    first one."""
    from gilbench.engine import environment, targets
    from gilbench.engine.events import VenvStep
    from gilbench.engine.results import Warning_
    from gilbench.engine.session import Plan

    pythons = list(pythons or [sys.executable])
    try:
        interpreters = targets.expand(pythons)
    except environment.InterpreterError as exc:
        raise BenchInputError(str(exc)) from None
    emit = on_event or (lambda e: None)
    targets.provision(interpreters, [], lambda e: emit(VenvStep.from_dict(e)))
    first = interpreters[0]
    if first.get("venv_error"):
        raise BenchInputError(f"no venv for {first['label']}: {first['venv_error']}")
    result = probe(target, first["worker_python"], timeout, first["env"])
    workers = list(workers or default_workers(environment.usable_cores()))
    n_tasks = tasks or choose_tasks(result.per_call_s or PASS_S, workers, quick)
    call = target.call
    if result.coroutine:  # asyncio runs it natively; the others through asyncio.run per call
        call = dataclasses.replace(call, async_func=call.func)
    workload = Workload(
        name=target.path,
        family="user",
        summary=f"the user's function {target.path}",
        make_call=lambda params, services: call,
        default_tasks=n_tasks,
        default_workers=max(workers),
    )
    skip = left_out("not in bench's default set", strategies, requested)
    if result.result_unpicklable:
        why = (
            "its return value cannot be pickled, so it cannot come back from another process: "
            f"{result.result_unpicklable}"
        )
        skip.update({s: why for s in crossing_processes(strategies)})
    warnings = []
    if not result.deterministic:
        warnings.append(
            Warning_(
                "results-vary",
                f"{target.path} returned different results on two calls, so results are not "
                "compared across strategies (a race would go unnoticed)",
                target.path,
            )
        )
    plan = Plan(
        workloads=[workload],
        strategies=list(strategies),
        pythons=pythons,
        workers=workers,
        tasks=n_tasks,
        quick=quick,
        samples=samples,
        timeout=timeout,
        start_method=start_method,
        native_async_only=not named("asyncio", requested),
        kind="bench",
        command=command,
        setup=target.setup,
        compare_results=result.deterministic,
        skip=skip,
        warnings=warnings,
        budget_s=None if samples else (QUICK_BUDGET_S if quick else BUDGET_S),
        call_cost={first["label"]: result.cost} if result.cost else {},
    )
    problem = None if result.status == "ok" else problem_line(target, result, timeout)
    return Prepared(target, result, plan, problem, interpreters)


def failed_document(prepared: Prepared):
    """The results ``Document`` when the probe failed: every row carries the failure (or its
    skip reason), none ran; the rows are the first interpreter's, where the probe ran."""
    from gilbench.engine import environment
    from gilbench.engine.results import Document, Row

    plan = prepared.plan
    doc = Document(
        kind="bench",
        command=plan.command or shlex.join(["gilbench", *sys.argv[1:]]),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        environment=environment.capture(),
        warnings=list(plan.warnings),
    )
    doc.interpreters = prepared.interpreters
    w = plan.workloads[0]
    for strategy, n in plan.trials(w):
        row = Row(w.name, strategy, n, plan.tasks_for(w), doc.interpreters[0]["label"])
        if strategy in plan.skip:
            row.status, row.reason = "skipped", plan.skip[strategy]
        else:
            row.status, row.error = prepared.probe.status, prepared.problem
        doc.results.append(row)
    doc.scaling = []
    return doc


# -- 4. the Python API -------------------------------------------------------------------------
@dataclass
class BenchResult:
    """What :func:`bench` returns: the results document (schema gilbench/1) and its verdict."""

    document: dict
    failed: bool = False  # a measurement failed (the command would exit 1)
    problem: str | None = None  # why nothing was measured, when the first call failed

    @property
    def recommendation(self) -> dict | None:
        """The verdict (a ``recommendations`` item of the document), or None when there is none."""
        recs = self.document.get("recommendations") or []
        return recs[0] if recs else None

    @property
    def rows(self) -> list[dict]:
        """The document's ``results``: one dict per measurement (wall times in seconds)."""
        return self.document["results"]

    @property
    def scaling(self) -> list[dict]:
        """The document's ``scaling`` entries (Amdahl's law fits), [] when absent."""
        return self.document.get("scaling", [])

    def table(self):
        """The measurements, the verdict across interpreters (with several), the verdict and
        scaling as one rich renderable (print it with rich)."""
        from rich.console import Group

        from gilbench.report import terminal
        from gilbench.report.interpreters import cross_interpreter_table

        parts = [terminal.results_table(self.document)]
        if across := cross_interpreter_table(self.document):
            parts.append(across)
        if self.document.get("recommendations"):
            parts.append(terminal.recommendations_table(self.document))
        if self.scaling:
            parts.append(terminal.scaling_table(self.document))
        return Group(*parts)

    def __rich__(self):
        return self.table()

    def to_json(self, indent: int | None = 2) -> str:
        """The results document as JSON text, indented by ``indent`` (None: one line)."""
        return json.dumps(self.document, indent=indent)


def bench(
    func: Callable | str,
    args: Sequence = (),
    kwargs: dict | None = None,
    *,
    setup: Callable | str | None = None,
    tasks: int | None = None,
    workers: Sequence[int] | None = None,
    strategies: Sequence[str] | None = None,
    quick: bool = False,
    samples: int | None = None,
    timeout: float = 300.0,
    json_path: str | None = None,
    on_event: Callable[[Event], None] | None = None,
    pythons: Sequence[str] | None = None,
) -> BenchResult:
    """Measure ``func(*args, **kwargs)`` under every strategy and recommend one.

    ``func`` (and ``setup``) must be importable by name from the current directory: a
    module-level function, or "module:func". ``args``/``kwargs`` must be JSON values; build
    anything else in ``setup``, which runs in each trial process and returns a dict (keyword
    arguments), an ``(args, kwargs)`` pair, a tuple (positional arguments) or one positional
    argument.
    ``on_event`` receives the session's progress, typed values from ``gilbench.engine.events``.
    ``timeout`` is seconds per trial process; ``json_path`` is rewritten as results arrive.
    ``pythons``: interpreters to run the trials in (paths; default this one), as ``gilbench
    bench --python``: the function must import in each, sized in the first (:func:`prepare`).
    Raises BenchInputError (a ValueError) on bad input.
    """
    from gilbench import strategies as registry
    from gilbench.analysis import analyse
    from gilbench.engine.results import write_json_atomic
    from gilbench.engine.session import Session

    target = check_target(
        path_of(func),
        tuple(args),
        kwargs,
        path_of(setup) if setup else None,
        import_here=not pythons,
    )
    try:
        chosen = registry.select(strategies)
    except ValueError as exc:
        raise BenchInputError(str(exc)) from None
    for n in [*(workers or ()), *([tasks] if tasks is not None else [])]:
        if not isinstance(n, int) or n < 1:
            raise BenchInputError(f"workers and tasks must be whole numbers >= 1, got {n!r}")
    command = f"gilbench.bench({target.path}, args={list(target.args)!r}, kwargs={target.kwargs!r})"
    prepared = prepare(
        target,
        chosen,
        requested=list(strategies or ()),
        workers=sorted(set(workers)) if workers else None,
        tasks=tasks,
        quick=quick,
        samples=samples,
        timeout=timeout,
        command=command,
        pythons=pythons,
        on_event=on_event,
    )
    if prepared.problem:
        doc = failed_document(prepared).to_dict()
        if json_path:
            write_json_atomic(json_path, doc)
        return BenchResult(doc, failed=True, problem=prepared.problem)
    session = Session(
        prepared.plan,
        on_event=on_event,
        json_path=json_path,
        analyse=analyse,
        interpreters=prepared.interpreters,
    )
    return BenchResult(session.run().to_dict(), failed=session.failed)
