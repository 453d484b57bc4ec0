"""A whole run: plan -> interpreters -> services -> calibration -> rounds of trials -> rows,
written as they come.

Where each job lives: what to run is :class:`Plan` (here); the interpreters and their venvs,
``targets``; services and calibration, ``prepare``; scheduling rounds and building each trial's
spec, :class:`Session` (here); running a trial, the injected runner (``runner.run_trial``);
folding outcomes into rows, speedups, checksum checks and warnings, ``rows`` (pure); the
analysis, the injected ``analyse`` step; saving, ``results``.

The session owns every process it starts (services and trial workers) and stops them all on
any exit, Ctrl-C included. It reports progress through typed events (``events``) and never
prints.

The results file exists from the start: written as soon as the interpreters are known (before
any venv, service or trial) with every planned row ``pending``, then rewritten atomically after
every trial, so even a SIGKILL loses at most the trial under way.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gilbench import strategies as strategy_registry
from gilbench.engine import environment, prepare, projection, runner, targets
from gilbench.engine import rows as rowfold
from gilbench.engine.events import (
    Event,
    OnEvent,
    Planned,
    RowDone,
    SampleTaken,
    TrialStarted,
    VenvStep,
)
from gilbench.engine.prepare import QUICK_TARGET_FACTOR, CalibrationError
from gilbench.engine.protocol import Message, Sample, TrialSpec
from gilbench.engine.results import Document, Row, Warning_, write_json_atomic
from gilbench.engine.runner import TrialRunner
from gilbench.workloads import Workload

# Rounds of trials (one sample per row each): at least MIN_SAMPLES for every row; then, unless
# --samples fixes the count, only rows whose comparisons the verdict still depends on (the
# analysis' ``undecided``) get more, up to DEFAULT_SAMPLES (QUICK_SAMPLES with --quick) or the
# budget. A fixed count (--samples N) measures every row N times. Two is enough to start from:
# two samples a side settle a comparison only when its interval is clear of the margin by its own
# width again (``analysis.recommend.settles``); anything closer gets a third and more.
MIN_SAMPLES = 2
# Without a budget (run), the rounds after the minimum may take this many times as long as the
# minimum rounds did: a workload takes at most 3x its first two rounds, the most it could take
# when the minimum was three rounds and the extra ones as long again.
UNDECIDED_BUDGET = 2
DEFAULT_SAMPLES = 10
QUICK_SAMPLES = 5
DEFAULT_TIMEOUT_S = 300.0
# A row's status until its first trial: only a document written mid-run shows it.
PENDING = "pending"


@dataclass
class Plan:
    """What one run measures and how: workloads x strategies x worker counts x interpreters,
    with the trial settings. Pure data; :class:`Session` carries it out."""

    workloads: list[Workload]
    strategies: list[str]  # registered strategy names
    pythons: list[str] = field(default_factory=lambda: [sys.executable])
    workers: list[int] | None = None  # None: each workload's own default (the post's setting)
    tasks: int | None = None  # tasks per timed pass; None: see tasks_for
    params: dict[str, Any] = field(default_factory=dict)  # knob values given by the user
    quick: bool = False
    samples: int | None = None  # fixed timed values per measurement; None: until decided
    timeout: float = DEFAULT_TIMEOUT_S  # seconds one trial process may take
    start_method: str | None = None  # multiprocessing start method for process strategies
    kind: str = "run"  # run | bench: the document's kind
    command: str = ""  # the command line recorded in the document ("" : sys.argv)
    html_path: str | None = None  # output choices, carried for the CLI
    output_format: str | None = None
    # gilbench bench: "module:func" run once in each trial process to build the call's arguments
    setup: str | None = None
    # False when a task's result legitimately varies from call to call
    compare_results: bool = True
    # strategies known not to apply here, with why
    skip: dict[str, str] = field(default_factory=dict)
    warnings: list = field(default_factory=list)  # Warning_ values known before measuring
    # Seconds one workload's rounds may take on one interpreter: a round projected (from each
    # row's last trial) to end past it is not started, not even to reach MIN_SAMPLES.
    budget_s: float | None = None
    # given by the user (e.g. --postgres-dsn): used, not started
    services: dict[str, str] = field(default_factory=dict)
    # asyncio only for calls with a native coroutine (elsewhere it is threads via to_thread):
    # what run and bench do unless -s named asyncio
    native_async_only: bool = False
    # interpreter label -> what one call costs there (bench's probe): a trial whose least
    # duration exceeds ``timeout`` is skipped, not started (engine/projection.py)
    call_cost: dict[str, projection.CallCost] = field(default_factory=dict)

    def workers_for(self, w: Workload) -> list[int]:
        """The worker counts to measure ``w`` with: the plan's, else ``w.default_workers``."""
        return self.workers or [w.default_workers]

    def tasks_for(self, w: Workload) -> int:
        """Tasks per timed pass: the plan's, else ``w.default_tasks`` raised to the largest
        worker count so every worker has a task."""
        return self.tasks or max([w.default_tasks, *self.workers_for(w)])

    @property
    def n_samples(self) -> int:
        """The most rounds (timed values) a row gets: ``samples``, else QUICK_SAMPLES with
        --quick, else DEFAULT_SAMPLES."""
        return self.samples or (QUICK_SAMPLES if self.quick else DEFAULT_SAMPLES)

    @property
    def min_samples(self) -> int:
        """The rounds every measured row gets (budget permitting): ``samples`` when fixed,
        else MIN_SAMPLES; more only where the verdict is undecided."""
        return self.samples or min(MIN_SAMPLES, self.n_samples)

    def trials(self, w: Workload) -> list[tuple[str, int]]:
        """(strategy, workers) pairs for one workload: sequential once, first."""
        baseline = strategy_registry.BASELINE
        out = [(baseline, 1)] if baseline in self.strategies else []
        for n in self.workers_for(w):
            out += [(s, n) for s in self.strategies if s != baseline]
        return out


__all__ = [
    "Plan",
    "Session",
    "Event",
    "CalibrationError",
    "DEFAULT_SAMPLES",
    "QUICK_SAMPLES",
    "QUICK_TARGET_FACTOR",
    "DEFAULT_TIMEOUT_S",
]

# The analysis step a session runs after every round: fills the document's recommendations
# and scaling from its rows (the engine does not import the analysis; its callers pass it).
Analyse = Callable[[Document], None]


class Session:
    """Runs a :class:`Plan` and builds its results :class:`Document`.

    ``on_event`` receives progress (``engine/events.py``); ``json_path``, if given, is written
    as soon as the interpreters are known (every row ``pending``) and rewritten atomically after
    every trial and round (see :meth:`run`). ``run_trial`` runs one trial (the real
    ``runner.run_trial`` by default; any :class:`runner.TrialRunner`). ``analyse`` derives the
    document's recommendations and scaling after every round (e.g. ``gilbench.analysis
    .analyse``); None leaves them empty (and every row gets ``plan.min_samples``: nothing says
    which comparisons are undecided). ``interpreters``: entries as ``targets.expand`` makes
    them, used as given (no probe, no venv); None probes and provisions ``plan.pythons``.
    ``clock``: monotonic seconds for the budget (a test's fake clock makes it exact).
    After :meth:`run`, ``failed`` says whether a measurement failed (the CLI's exit code 1): an
    error, a timeout, or a trial not started because it cannot fit in ``plan.timeout``.
    """

    def __init__(
        self,
        plan: Plan,
        on_event: OnEvent | None = None,
        json_path: str | None = None,
        *,
        run_trial: TrialRunner = runner.run_trial,
        analyse: Analyse | None = None,
        interpreters: list[dict] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.plan = plan
        self.clock = clock
        self.on_event: OnEvent = on_event or (lambda e: None)
        self.json_path = json_path
        self.run_trial = run_trial
        self.analyse = analyse
        self._given_interpreters = interpreters
        self.doc = Document(
            kind=plan.kind,
            command=plan.command or shlex.join(["gilbench", *sys.argv[1:]]),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            environment=environment.capture(),
        )
        self.doc.warnings.extend(plan.warnings)
        self.failed = False

    # -- driving -----------------------------------------------------------------------------
    def run(self) -> Document:
        """Measure the whole plan; the document, also saved to ``json_path`` as it grows.

        The file is first written once the interpreters are known, before venvs, services and
        trials: environment, interpreters and every planned row with status ``pending``. Rows
        that cannot run (a venv or package missing, a strategy that does not apply, a trial
        that cannot fit in the timeout) become ``skipped`` as soon as that is known, and the
        file is rewritten after every trial. A run that ends normally leaves no row pending; one
        stopped by an exception (Ctrl-C or SIGTERM: KeyboardInterrupt) marks the rows it did
        not reach ``skipped`` with reason "not run: interrupted", saves, and re-raises.
        Raises environment.InterpreterError for an interpreter that cannot run the worker."""
        plan = self.plan
        if self._given_interpreters is not None:
            self.doc.interpreters = self._given_interpreters
        else:
            # A free-threaded build counts twice.
            self.doc.interpreters = targets.expand(plan.pythons)
        if warning := rowfold.machine_warning(self.doc.environment):
            self.doc.warnings.append(warning)
        planned = [
            (interp, w, self._pending_rows(w, interp["label"]))
            for interp in self.doc.interpreters
            for w in plan.workloads
        ]
        self.doc.results = [row for _, _, rows in planned for row in rows]
        self.on_event(Planned(trials=len(self.doc.results), samples=plan.min_samples))
        with ExitStack() as stack:
            try:
                self._save()
                if self._given_interpreters is None:  # venvs: slow only the first time
                    targets.provision(
                        self.doc.interpreters,
                        plan.workloads,
                        lambda e: self.on_event(VenvStep.from_dict(e)),
                    )
                for interp, w, rows in planned:
                    if why := self._unavailable(w, interp, plan.services):
                        _skip(rows, why)
                self._save()
                services: dict[str, str] = dict(plan.services)
                # Trials' temporary files go here, removed at the end even if a trial was killed.
                self._scratch = stack.enter_context(
                    tempfile.TemporaryDirectory(prefix="gilbench-scratch-")
                )
                for interp, w, rows in planned:
                    self._run_workload(w, interp, rows, services, stack)
            except BaseException as exc:
                stopped = f"gilbench stopped on {type(exc).__name__}"
                why = "interrupted" if isinstance(exc, KeyboardInterrupt) else stopped
                _skip([r for r in self.doc.results if r.status == PENDING], f"not run: {why}")
                raise
            finally:
                self.doc.environment["load_avg_1m_end"] = environment.load_avg_1m()
                self._save()
        return self.doc

    def _pending_rows(self, w: Workload, label: str) -> list[Row]:
        """One ``pending`` row per (strategy, workers) of ``w`` on the interpreter ``label``."""
        tasks = self.plan.tasks_for(w)
        return [Row(w.name, s, n, tasks, label, status=PENDING) for s, n in self.plan.trials(w)]

    def _unavailable(self, w: Workload, interp: dict, services: dict[str, str]) -> str | None:
        """Why ``w`` cannot run in ``interp`` at all (no venv, a package, program or service
        missing), known without starting anything; else None."""
        return targets.missing_reason(w, interp) or w.missing(services, targets.importable(interp))

    def _run_workload(
        self,
        w: Workload,
        interp: dict,
        rows: list[Row],
        services: dict[str, str],
        stack: ExitStack,
    ) -> None:
        """Measure ``rows``, every (strategy, workers) of one workload, interleaved in rounds.

        Each round runs every trial once, one sample each, in a fresh process; rounds alternate
        direction. A shared machine's load drifts over seconds, and interleaving spreads that
        drift over all strategies instead of charging it to whichever ran during the burst.
        """
        plan, label = self.plan, interp["label"]
        why_not = self._unavailable(w, interp, services) or prepare.start_services(
            w, services, stack, self.on_event
        )
        params: dict[str, Any] = {}
        if not why_not:
            try:
                params = self._params(w)
            except CalibrationError as exc:
                why_not, self.failed = str(exc), True
        if why_not:
            _skip(rows, why_not)
            self._update(rows, w.family, final=True)
            for row in rows:
                self.on_event(RowDone(row))
            return
        call = w.make_call(params, services)
        for row in rows:
            if why := self._known_skip(row.strategy, call, interp):
                _skip([row], why)
            elif why := self._over_timeout(row, interp):
                _skip([row], why)
                self.failed = True  # not measured for want of time: a timeout, found early
        self._save()
        samples: dict[int, list[Sample]] = {id(r): [] for r in rows}
        cost: dict[int, float] = {}  # row -> seconds its last trial took
        started = self.clock()
        minimum_s = None  # seconds the first plan.min_samples rounds took
        cut: list[Row] = []  # rows whose first trial the budget left out (round 0 only)
        round_no = 0
        while round_no < plan.n_samples:
            measured = [r for r in rows if r.status in (PENDING, "ok")]
            due = measured if round_no < plan.min_samples else self._undecided(measured, w, label)
            if not due:
                break
            spent = self.clock() - started
            if round_no == plan.min_samples:
                minimum_s = spent
            if (why := self._over_budget(due, cost, spent, w.name, minimum_s)) is not None:
                if why:
                    self.doc.warnings.append(Warning_("fewer-samples", why, w.name, python=label))
                break
            for row in due if round_no % 2 == 0 else reversed(due):
                if row.status not in (PENDING, "ok"):
                    continue
                if round_no == 0 and (why := self._too_slow(row, interp, cost, rows)):
                    _skip([row], why)
                    self.failed = True  # not measured for want of time: a timeout, found early
                    continue
                if round_no == 0 and (why := self._past_budget(row, interp, cost, rows, started)):
                    _skip([row], why)  # the budget is the user's choice: not a failure
                    cut.append(row)
                    continue
                self.on_event(TrialStarted(w.name, row.strategy, row.workers, label, round_no))
                t0 = self.clock()
                self._measure_once(row, call, interp, samples[id(row)])
                cost[id(row)] = self.clock() - t0
                if w.note and row.status != "skipped":
                    row.note = f"{row.note}; {w.note}" if row.note else w.note
                self._save()
            if cut:
                self.doc.warnings.append(
                    Warning_(
                        "fewer-samples",
                        f"{w.name}: {len(cut)} measurement(s) not run, to stay within the "
                        f"{plan.budget_s:.0f} s budget (see each row); --samples 1 measures "
                        "every row once",
                        w.name,
                        python=label,
                    )
                )
                cut = []
            round_no += 1
            self._update(rows, w.family, final=False)
        self._update(rows, w.family, final=True)
        for row in rows:
            self.on_event(RowDone(row))

    def _too_slow(
        self, row: Row, interp: dict, cost: dict[int, float], rows: list[Row]
    ) -> str | None:
        """Why ``row``'s first trial will not fit in the timeout, judged from the trials that
        ran before it and took at least half of it: each took some multiple of its least
        projected time (bench's probe, ``projection.least_trial``); at the smallest such
        multiple, this one would pass ``plan.timeout``. None when it may fit, or nothing is
        known to project from."""
        least = self._least(row, interp)
        if least is None:
            return None
        # Only trials that took half the timeout or more: in a shorter one, start-up and
        # imports (not in the projection) can be most of the time.
        rates = self._rates(rows, interp, cost, at_least_s=0.5 * self.plan.timeout)
        if not rates:
            return None
        rate = rates[0]
        projected = least * rate
        if projected <= self.plan.timeout:
            return None
        return (
            f"not run: the trials before it took at least {rate:.1f}x their least projected "
            f"time; at that rate this one needs about {projected:.0f} s, over --timeout "
            f"{self.plan.timeout:g} s; raise --timeout or lower --tasks"
        )

    def _past_budget(
        self, row: Row, interp: dict, cost: dict[int, float], rows: list[Row], started: float
    ) -> str | None:
        """Why ``row``'s first trial must not start: projected from bench's probe
        (``projection.least_trial``) at the median rate the trials before it ran at (their
        seconds / their least), it would end past ``plan.budget_s``. None when it fits, there
        is no budget, or nothing is known to project from (the first trial always runs)."""
        budget = self.plan.budget_s
        least = self._least(row, interp)
        if budget is None or least is None:
            return None
        rates = self._rates(rows, interp, cost)
        if not rates:
            return None
        projected = least * rates[len(rates) // 2]
        spent = self.clock() - started
        if spent + projected <= budget:
            return None
        return (
            f"not run: past the budget: its first trial would take about {projected:.0f} s "
            f"(the probe's least, at the rate the trials before it ran), past the {budget:.0f} s "
            f"budget with {spent:.0f} s spent; --samples 1 or fewer --tasks measures it"
        )

    def _rates(
        self, rows: list[Row], interp: dict, cost: dict[int, float], at_least_s: float = 0.0
    ) -> list[float]:
        """How many times its least projected duration (:meth:`_least`) each trial of
        ``rows`` took so far (``cost``: the row's last trial, seconds), lowest first; only
        trials that lasted ``at_least_s`` or more, none of a row that ended skipped."""
        return sorted(
            cost[id(r)] / least
            for r in rows
            if cost.get(id(r), -1.0) >= at_least_s
            and r.status != "skipped"
            and (least := self._least(r, interp))
        )

    def _least(self, row: Row, interp: dict) -> float | None:
        """The least seconds a trial of ``row`` can take in ``interp``, from bench's probe
        (``projection.least_trial``); None when no probe ran there."""
        cost = self.plan.call_cost.get(interp["label"])
        if cost is None:
            return None
        return projection.least_trial(cost, **self._trial_shape(row)).seconds

    def _trial_shape(self, row: Row) -> dict[str, Any]:
        """What the projection needs to know of a trial of ``row`` besides the call's cost."""
        return {
            "workers": row.workers,
            "tasks": row.tasks,
            "cores": self.doc.environment["usable_cores"],
            "crosses_processes": bool(strategy_registry.crossing_processes([row.strategy])),
            "compare_results": self.plan.compare_results,
        }

    def _undecided(self, rows: list[Row], w: Workload, label: str) -> list[Row]:
        """The rows among ``rows`` that the verdict on (``w``, ``label``) still depends on:
        those named in its recommendation's ``undecided`` comparisons (the analysis step's),
        both sides of each. None without an analysis step or once it is decided."""
        rec = next(
            (r for r in self.doc.recommendations if r.workload == w.name and r.python == label),
            None,
        )
        if rec is None:
            return []
        wanted = {
            pair
            for c in rec.undecided
            for pair in (
                (c["strategy"], c["workers"]),
                (c["against_strategy"], c["against_workers"]),
            )
        }
        return [r for r in rows if (r.strategy, r.workers) in wanted]

    def _over_budget(
        self,
        due: list[Row],
        cost: dict[int, float],
        spent: float,
        name: str,
        minimum_s: float | None,
    ) -> str | None:
        """Why the next round of ``due`` rows must not start: projected from each row's last
        trial (``cost``; the first round is not projected), it would end past the budget with
        ``spent`` seconds gone; "" when that happens after the minimum rounds (no warning
        needed), None when it fits. The budget is ``plan.budget_s``; without one, the rounds
        after the minimum (undecided rows only) may take UNDECIDED_BUDGET times as long as the
        minimum rounds took (``minimum_s``)."""
        plan = self.plan
        budget = plan.budget_s
        if budget is None and minimum_s is not None:
            budget = (1 + UNDECIDED_BUDGET) * minimum_s
        if budget is None or not cost:
            return None
        projected = sum(cost.get(id(r), 0.0) for r in due)
        if spent + projected <= budget:
            return None
        done = min((len(r.samples_s) for r in due), default=0)
        if done >= plan.min_samples:
            return ""
        return (
            f"{name}: {done} sample(s) per measurement instead of {plan.min_samples}: the next "
            f"round would take about {projected:.0f} s, past the {budget:.0f} s budget "
            f"({spent:.0f} s spent); --samples {plan.min_samples} measures them all"
        )

    def _over_timeout(self, row: Row, interp: dict) -> str | None:
        """Why a trial of ``row`` cannot fit in the timeout, from what one call costs in
        ``interp`` (``plan.call_cost``; ``projection.over_timeout``); None when it may fit or
        the cost is not known there."""
        cost = self.plan.call_cost.get(interp["label"])
        if cost is None:
            return None
        return projection.over_timeout(cost, self.plan.timeout, **self._trial_shape(row))

    def _known_skip(self, strategy: str, call, interp: dict) -> str | None:
        """Why ``strategy`` will not run this call, when that is known without a trial process:
        the plan leaves it out, the interpreter's version lacks it, or the call does not fit
        it."""
        plan = self.plan
        if strategy in plan.skip:
            return plan.skip[strategy]
        if why := targets.unsupported(interp, [strategy]).get(strategy):
            return why
        return strategy_registry.skip_reason(strategy, call, by_default=plan.native_async_only)

    def _measure_once(self, row: Row, call, interp: dict, samples: list[Sample]) -> None:
        """One trial of ``row`` (one sample), folded into it."""
        plan = self.plan
        spec = TrialSpec.measure(
            call.to_dict(),
            row.strategy,
            row.workers,
            row.tasks,
            samples=1,
            options=strategy_registry.options_for(row.strategy, start_method=plan.start_method),
            cwd=os.getcwd(),
            setup=plan.setup,
            compare_results=plan.compare_results,
            # the row's first trial calibrates the loops; later ones time the same work
            loops=row.loops if samples else None,
        )

        def relay(message: Message) -> None:
            if isinstance(message, Sample):
                self.on_event(SampleTaken(row.workload, row.strategy))

        out = self.run_trial(
            interp["worker_python"],
            spec,
            plan.timeout,
            on_message=relay,
            env=self._trial_env(interp),
        )
        if rowfold.fold(row, out, samples):
            self.failed = True

    def _trial_env(self, interp: dict) -> dict[str, str]:
        return {**interp["env"], "TMPDIR": self._scratch}

    # -- rows --------------------------------------------------------------------------------
    def _update(self, rows: list[Row], family: str, final: bool) -> None:
        """Derive speedups and checks from the samples so far; add warnings once, at the end."""
        differ = rowfold.compare_with_baseline(rows)
        if differ:
            self.failed = True
            self.doc.warnings.extend(differ)
        if final:
            cores = self.doc.environment["usable_cores"]
            base = next(
                (r for r in rows if r.strategy == strategy_registry.BASELINE and r.status == "ok"),
                None,
            )
            for row in rows:
                self.doc.warnings.extend(rowfold.row_warnings(row, family, cores, base))
        if self.analyse is not None:
            self.analyse(self.doc)
        self._save()

    def _save(self) -> None:
        if self.json_path:
            write_json_atomic(self.json_path, self.doc.to_dict())

    # -- set-up ------------------------------------------------------------------------------
    def _params(self, w: Workload) -> dict[str, Any]:
        """The knob's value (see ``prepare.knob_params``); calibrated on the first interpreter
        only, so every interpreter runs the same task."""
        first = self.doc.interpreters[0]
        calibrated = self.doc.extra.setdefault("calibration", {}) if w.knob else {}
        return prepare.knob_params(
            w,
            self.plan.params,
            self.plan.quick,
            calibrated,
            first,
            self.run_trial,
            self.plan.timeout,
            self._trial_env(first),
            self.on_event,
        )


def _skip(rows: list[Row], reason: str) -> None:
    """Mark ``rows`` skipped with ``reason`` (in place)."""
    for row in rows:
        row.status, row.reason = "skipped", reason
