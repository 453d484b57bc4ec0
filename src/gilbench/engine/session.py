"""A whole run: plan -> services -> calibration -> trials -> rows, written as they come.

The session owns every process it starts (services and trial workers) and stops them all on
any exit, Ctrl-C included. It reports progress through a callback and never prints.
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
from datetime import datetime, timezone
from typing import Any

from gilbench.engine import environment, stats, targets
from gilbench.engine.results import Document, Row, Warning_, write_json_atomic
from gilbench.engine.runner import run_trial
from gilbench import strategies as strategy_registry
from gilbench.workloads import Workload

DEFAULT_SAMPLES = 5
QUICK_SAMPLES = 3
# --quick sizes calibrated tasks to this fraction of their target (0.5 s -> 0.1 s a task).
QUICK_TARGET_FACTOR = 0.2
DEFAULT_TIMEOUT_S = 300.0


@dataclass
class Plan:
    workloads: list[Workload]
    strategies: list[str]
    pythons: list[str] = field(default_factory=lambda: [sys.executable])
    workers: list[int] | None = None  # None: each workload's own default (the post's setting)
    tasks: int | None = None
    params: dict[str, Any] = field(default_factory=dict)  # knob values given by the user
    quick: bool = False
    samples: int | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    start_method: str | None = None
    kind: str = "run"
    command: str = ""
    html_path: str | None = None  # output choices, carried for the CLI
    output_format: str | None = None
    # gilbench bench: "module:func" run once in each trial process to build the call's arguments
    setup: str | None = None
    compare_results: bool = True  # False when a task's result legitimately varies from call to call
    skip: dict[str, str] = field(default_factory=dict)  # strategies known not to apply here, with why
    warnings: list = field(default_factory=list)  # Warning_ values known before measuring
    # Seconds one workload's rounds may take: past it, no more rounds (never fewer than QUICK_SAMPLES).
    budget_s: float | None = None
    services: dict[str, str] = field(default_factory=dict)  # given by the user (e.g. --postgres-dsn): used, not started
    # run --quick: asyncio only for workloads with a native coroutine (elsewhere it is threads via to_thread)
    native_async_only: bool = False

    def workers_for(self, w: Workload) -> list[int]:
        return self.workers or [w.default_workers]

    def tasks_for(self, w: Workload) -> int:
        return self.tasks or max([w.default_tasks, *self.workers_for(w)])

    @property
    def n_samples(self) -> int:
        return self.samples or (QUICK_SAMPLES if self.quick else DEFAULT_SAMPLES)

    def trials(self, w: Workload) -> list[tuple[str, int]]:
        """(strategy, workers) pairs for one workload: sequential once, first."""
        baseline = strategy_registry.BASELINE
        out = [(baseline, 1)] if baseline in self.strategies else []
        for n in self.workers_for(w):
            out += [(s, n) for s in self.strategies if s != baseline]
        return out


Event = dict[str, Any]


class CalibrationError(RuntimeError):
    pass


class Session:
    def __init__(self, plan: Plan, on_event: Callable[[Event], None] | None = None, json_path: str | None = None):
        self.plan = plan
        self.on_event = on_event or (lambda e: None)
        self.json_path = json_path
        self.doc = Document(
            kind=plan.kind,
            command=plan.command or shlex.join(["gilbench", *sys.argv[1:]]),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            environment=environment.capture(),
        )
        self.doc.warnings.extend(plan.warnings)
        self.failed = False

    # -- driving -----------------------------------------------------------------------------
    def run(self) -> Document:
        plan = self.plan
        self.doc.interpreters = targets.expand(plan.pythons)  # a free-threaded build counts twice
        self._warn_about_machine()
        units = sum(len(plan.trials(w)) for w in plan.workloads) * len(self.doc.interpreters)
        self.on_event({"type": "plan", "trials": units, "samples": plan.n_samples})
        targets.provision(self.doc.interpreters, plan.workloads, self.on_event)  # venvs: slow only the first time
        with ExitStack() as stack:
            services: dict[str, str] = dict(plan.services)
            # Trials' temporary files go here, removed at the end even if a trial was killed.
            self._scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="gilbench-scratch-"))
            try:
                for interp in self.doc.interpreters:
                    for w in plan.workloads:
                        self._run_workload(w, interp, services, stack)
            finally:
                self.doc.environment["load_avg_1m_end"] = environment.load_avg_1m()
                self._save()
        return self.doc

    def _run_workload(self, w: Workload, interp: dict, services: dict[str, str], stack: ExitStack) -> None:
        """Measure every (strategy, workers) of one workload, interleaved in rounds.

        Each round runs every trial once, one sample each, in a fresh process; rounds alternate
        direction. A shared machine's load drifts over seconds, and interleaving spreads that
        drift over all strategies instead of charging it to whichever ran during the burst.
        """
        plan, label = self.plan, interp["label"]
        tasks = plan.tasks_for(w)
        rows = [Row(w.name, strategy, workers, tasks, label) for strategy, workers in plan.trials(w)]
        self.doc.results.extend(rows)
        why_not = targets.missing_reason(w, interp) or w.missing(services, targets.importable(interp)) or self._start_services(w, services, stack)
        params: dict[str, Any] = {}
        if not why_not:
            try:
                params = self._params(w)
            except CalibrationError as exc:
                why_not, self.failed = str(exc), True
        if why_not:
            for row in rows:
                row.status, row.reason = "skipped", why_not
            self._update(rows, w.family, final=True)
            for row in rows:
                self.on_event({"type": "row", "row": row})
            return
        call = w.make_call(params, services)
        for row in rows:
            if why := self._known_skip(row.strategy, call, interp):
                row.status, row.reason = "skipped", why
        samples: dict[int, list[dict]] = {id(r): [] for r in rows}
        started = time.monotonic()
        for round_no in range(plan.n_samples):
            for row in rows if round_no % 2 == 0 else reversed(rows):
                if row.status != "ok":
                    continue
                self.on_event({"type": "trial", "workload": w.name, "strategy": row.strategy, "workers": row.workers, "python": label, "round": round_no})
                self._measure_once(row, call, interp, samples[id(row)])
                if w.note and row.status != "skipped":
                    row.note = f"{row.note}; {w.note}" if row.note else w.note
            done = round_no + 1
            spent = time.monotonic() - started
            out_of_time = plan.budget_s is not None and done >= QUICK_SAMPLES and spent / done * (done + 1) > plan.budget_s
            last = done == plan.n_samples or out_of_time
            if out_of_time and done < plan.n_samples:
                self.doc.warnings.append(Warning_(
                    "fewer-samples", f"{w.name}: {done} samples per measurement instead of {plan.n_samples}, to stay within "
                    f"{plan.budget_s:.0f} s (a round takes {spent / done:.1f} s); --samples {plan.n_samples} narrows the intervals", w.name,
                ))
            self._update(rows, w.family, final=last)
            if last:
                break
        for row in rows:
            self.on_event({"type": "row", "row": row})

    def _known_skip(self, strategy: str, call, interp: dict) -> str | None:
        """Why ``strategy`` will not run this call, when that is known without a trial process:
        the plan leaves it out, the interpreter's version lacks it, or the call does not fit it."""
        plan = self.plan
        if strategy in plan.skip:
            return plan.skip[strategy]
        if why := targets.unsupported(interp, [strategy]).get(strategy):
            return why
        return strategy_registry.skip_reason(strategy, call, quick=plan.native_async_only)

    def _measure_once(self, row: Row, call, interp: dict, samples: list[dict]) -> None:
        plan = self.plan
        options = strategy_registry.options_for(row.strategy, start_method=plan.start_method)
        spec = {
            "call": call.to_dict(),
            "strategy": row.strategy,
            "options": options,
            "workers": row.workers,
            "tasks": row.tasks,
            "samples": 1,
            "cwd": os.getcwd(),
            "setup": plan.setup,
            "compare_results": plan.compare_results,
        }
        out = run_trial(interp["worker_python"], spec, plan.timeout, on_message=lambda m: self._relay(row, m), env={**interp["env"], "TMPDIR": self._scratch})
        row.status, row.error, row.reason, row.note = out.status, out.error, out.reason, out.note
        if out.status in ("error", "timeout"):
            self.failed = True
        if out.startup_s is not None:
            row.startup_s = out.startup_s if row.startup_s is None else min(row.startup_s, out.startup_s)
        if out.checksum is not None:
            if row.checksum is not None and row.checksum != out.checksum:
                row.status, self.failed = "error", True
                row.error = f"task results changed between runs (checksum {row.checksum} then {out.checksum})"
            row.checksum = row.checksum or out.checksum
        samples.extend(out.samples)
        if samples:
            walls = [s["wall_s"] for s in samples]
            row.samples_s = walls
            row.wall_s = stats.summarize(walls)
            row.cpu_s = stats.summarize([s["cpu_s"] for s in samples])["median"]
            row.cpu_util = row.cpu_s / row.wall_s["median"] if row.wall_s["median"] > 0 else None
            row.max_rss_mb = round(max(s["rss_mb"] for s in samples), 1)
            row.gil_contention, row.gil_hold_ms = _median_of(samples, "gil_contention"), _median_of(samples, "gil_hold_ms")
            row.run_queue_s = _median_of(samples, "run_queue_s")
        if row.status == "ok" and row.gil_contention is None and out.gil_contention_reason:
            row.reason = f"GIL contention n/a: {out.gil_contention_reason}"

    def _relay(self, row: Row, message: dict) -> None:
        if message["type"] == "sample":
            self.on_event({"type": "sample", "workload": row.workload, "strategy": row.strategy})

    # -- rows --------------------------------------------------------------------------------
    def _update(self, rows: list[Row], family: str, final: bool) -> None:
        """Derive speedups and checks from the samples so far; add warnings once, at the end."""
        base = next((r for r in rows if r.strategy == strategy_registry.BASELINE), None)
        for row in rows:
            if base is not None and row is not base and row.status == "ok" and base.checksum and row.checksum:
                if base.checksum != row.checksum:
                    row.status, self.failed = "error", True
                    row.error = f"task results differ from sequential's (checksum {row.checksum} != {base.checksum})"
                    self.doc.warnings.append(Warning_("results-differ", row.error, row.workload, row.strategy, row.workers, row.python))
            if base is not None and base.samples_s and row.samples_s and row.status in ("ok", "timeout", "error"):
                row.speedup = stats.ratio_of_medians(base.samples_s, row.samples_s)
                row.speedup_ci95 = list(stats.ratio_ci95(base.samples_s, row.samples_s))
                row.efficiency = row.speedup / row.workers
            if final:
                self._warn_about_row(row, family)
        self._analyse()
        self._save()

    def _warn_about_row(self, row: Row, family: str) -> None:
        where = (row.workload, row.strategy, row.workers, row.python)
        if row.wall_s and (wide := stats.is_wide(row.wall_s)):
            self.doc.warnings.append(Warning_("wide-spread", f"{row.workload} / {row.strategy} x{row.workers}: {wide}; the machine may be busy", *where))
        if row.strategy == strategy_registry.BASELINE and row.run_queue_s and row.wall_s and row.run_queue_s >= 0.1 * row.wall_s["median"]:
            # One thread waiting for a core: only other work on the machine can cause that.
            self.doc.warnings.append(Warning_("cpu-stolen", f"{row.workload} / sequential waited for a core {row.run_queue_s / row.wall_s['median']:.0%} of its time: other processes compete for the CPU", *where))
        cores = self.doc.environment["usable_cores"]
        if row.strategy in strategy_registry.core_bound() and row.workers > cores and row.status != "skipped" and family in ("cpu", "native", "mixed"):
            self.doc.warnings.append(
                Warning_("workers-exceed-cores", f"{row.strategy} with {row.workers} workers on {cores} usable cores: CPU-bound work cannot run faster than {cores}x", *where)
            )

    def _analyse(self) -> None:
        from gilbench.analysis.recommend import recommend_all
        from gilbench.analysis.scaling import scaling_all

        cores = self.doc.environment["usable_cores"]
        self.doc.recommendations = recommend_all(self.doc.results, cores=cores)
        self.doc.extra["scaling"] = scaling_all(self.doc.results, cores=cores)

    def _save(self) -> None:
        if self.json_path:
            write_json_atomic(self.json_path, self.doc.to_dict())

    # -- set-up ------------------------------------------------------------------------------
    def _start_services(self, w: Workload, services: dict[str, str], stack: ExitStack) -> str | None:
        from gilbench.services import registry

        for name in w.services:
            if name in services:
                continue
            self.on_event({"type": "service", "name": name})
            try:
                services[name] = registry.start(name, stack)
            except Exception as exc:
                return f"could not start {name}: {exc}"
        return None

    def _params(self, w: Workload) -> dict[str, Any]:
        """The knob's value: given by the user, the workload's default, or calibrated once."""
        if w.knob is None:
            return {}
        calibrated = self.doc.extra.setdefault("calibration", {})
        name = w.knob.name
        value = self.plan.params.get(name, calibrated.get(w.name, w.knob.value(self.plan.quick)))
        if value is None:
            target = w.knob.target_s * (QUICK_TARGET_FACTOR if self.plan.quick else 1.0)
            self.on_event({"type": "calibrate", "workload": w.name, "target_s": target})
            spec = {"mode": "calibrate", "call": w.make_call({name: 1}, {}).to_dict(), "knob": name, "target_s": target, "start": w.knob.calibrate_from}
            # Calibrate on the first interpreter only, so every interpreter runs the same task.
            first = self.doc.interpreters[0]
            out = run_trial(first["worker_python"], spec, self.plan.timeout, env={**first["env"], "TMPDIR": self._scratch})
            if out.value is None:
                raise CalibrationError(f"could not size {w.name}: calibration {out.status}: {out.error or out.reason}")
            value = calibrated[w.name] = out.value
        return {name: value}

    def _warn_about_machine(self) -> None:
        env = self.doc.environment
        load, cores = env["load_avg_1m"], env["usable_cores"]
        if load is not None and load > 0.5 * cores:
            self.doc.warnings.append(
                Warning_("loaded-machine", f"load average {load:.2f} on {cores} usable cores before the run: other work competes for the CPU and the numbers will be noisy")
            )


def _median_of(samples: list[dict], key: str) -> float | None:
    values = [s[key] for s in samples if s.get(key) is not None]
    return stats.summarize(values)["median"] if values else None
