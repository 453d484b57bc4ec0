"""The session's scheduling and bookkeeping, driven by a scripted trial runner: no process runs.

The fake runner stands in for ``runner.run_trial`` (the session takes it as a parameter): it
records every spec it is given and answers from a script, so round order, skips, the time
budget and the checks against sequential are tested exactly and in milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from gilbench.analysis import analyse
from gilbench.analysis.recommend import Recommendation
from gilbench.engine import events
from gilbench.engine.projection import CallCost, least_trial
from gilbench.engine.protocol import Sample, TrialSpec
from gilbench.engine.runner import TrialOutcome
from gilbench.engine.session import MIN_SAMPLES, UNDECIDED_BUDGET, Plan, Session
from gilbench.workloads import Call, Knob, Workload

Script = Callable[[TrialSpec, int], TrialOutcome]


def ok(wall: float = 1.0, checksum: str | None = "same") -> TrialOutcome:
    """A trial that took ``wall`` seconds on one busy core."""
    return TrialOutcome(samples=[Sample(wall, wall, 10.0, 0.0)], startup_s=0.001, checksum=checksum)


class ScriptedRunner:
    """A ``TrialRunner``: answers ``script(spec, n)``, n counting earlier trials of the same
    (strategy, workers), and sends each sample to ``on_message`` like the real one."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or (lambda spec, n: ok(1.0 / spec.workers))
        self.specs: list[TrialSpec] = []

    def __call__(self, python, spec, timeout, on_message=None, env=None) -> TrialOutcome:
        n = sum(1 for s in self.specs if (s.strategy, s.workers) == (spec.strategy, spec.workers))
        self.specs.append(spec)
        out = self.script(spec, n)
        for sample in out.samples:
            if on_message:
                on_message(sample)
        return out

    @property
    def measured(self) -> list[tuple[str, int]]:
        return [(s.strategy, s.workers) for s in self.specs if s.mode == "measure"]


def interpreter(version: tuple[int, int, int] = (3, 12, 1)) -> dict:
    """An interpreter entry as ``targets.expand`` makes it, for a Python that is never started."""
    label = ".".join(map(str, version))
    return {
        "label": label,
        "path": "/nowhere/python",
        "version": label,
        "version_info": list(version),
        "free_threaded_build": False,
        "gil_enabled": True,
        "env": {},
        "worker_python": "/nowhere/python",
        "venv": None,
        "missing_packages": [],
    }


def workload(name: str = "test.w", call: Call | None = None, knob: Knob | None = None) -> Workload:
    the_call = call or Call("userfuncs.funcs:fast")
    return Workload(
        name,
        "cpu",
        "a test workload",
        lambda params, services: Call(the_call.func, kwargs=dict(params)),
        default_tasks=4,
        default_workers=2,
        knob=knob,
    )


def run(plan: Plan, runner: ScriptedRunner, interp: dict | None = None, **kwargs) -> Session:
    session = Session(plan, run_trial=runner, interpreters=[interp or interpreter()], **kwargs)
    session.run()
    return session


def rows(session: Session) -> dict[tuple[str, int], object]:
    return {(r.strategy, r.workers): r for r in session.doc.results}


def test_rounds_start_with_sequential_and_alternate_direction():
    runner = ScriptedRunner()
    plan = Plan([workload()], ["sequential", "threads", "processes"], workers=[2], samples=4)
    session = run(plan, runner)
    once = [("sequential", 1), ("threads", 2), ("processes", 2)]
    assert runner.measured == once + once[::-1] + once + once[::-1]
    assert all(s.samples == 1 and s.mode == "measure" for s in runner.specs)
    assert {r.wall_s["n"] for r in session.doc.results} == {4} and not session.failed
    assert rows(session)[("threads", 2)].speedup == pytest.approx(2.0)


def test_known_skips_never_reach_the_runner():
    runner = ScriptedRunner()
    # On 3.11: interpreters needs 3.12; hybrid: the call declares no I/O and CPU steps.
    plan = Plan(
        [workload()],
        ["sequential", "threads", "interpreters", "hybrid"],
        workers=[2],
        samples=2,
        skip={"threads": "left out by the plan"},
    )
    session = run(plan, runner, interpreter((3, 11, 9)))
    assert set(runner.measured) == {("sequential", 1)}
    by = rows(session)
    assert (
        by[("threads", 2)].status == "skipped"
        and by[("threads", 2)].reason == "left out by the plan"
    )
    assert (
        by[("interpreters", 2)].status == "skipped"
        and "needs 3.12+" in by[("interpreters", 2)].reason
    )
    assert by[("hybrid", 2)].status == "skipped" and "I/O and CPU steps" in by[("hybrid", 2)].reason


class Clock:
    """A fake monotonic clock the scripted runner advances by each trial's wall time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def timed(clock: Clock, script: Script) -> Script:
    def run(spec: TrialSpec, n: int) -> TrialOutcome:
        out = script(spec, n)
        clock.now += sum(s.wall_s for s in out.samples) + 1.0  # one second of start-up
        return out

    return run


def test_a_round_projected_past_the_budget_is_not_started_and_the_warning_says_why():
    clock = Clock()
    runner = ScriptedRunner(timed(clock, lambda spec, n: ok(1.0 / spec.workers)))
    # Round 1 takes 2 + 1.5 = 3.5 s; a second would end at 7 s, past 5 s.
    plan = Plan([workload()], ["sequential", "threads"], workers=[2], samples=5, budget_s=5.0)
    session = Session(plan, run_trial=runner, interpreters=[interpreter()], clock=clock)
    session.run()
    assert {r.wall_s["n"] for r in session.doc.results} == {1}
    assert len(runner.measured) == 2 and clock.now <= 5.0
    [warning] = [w for w in session.doc.warnings if w.code == "fewer-samples"]
    assert "1 sample(s) per measurement instead of 5" in warning.message
    assert "about 4 s, past the 5 s budget" in warning.message


def test_a_generous_budget_takes_every_sample_without_a_warning():
    session = run(
        Plan([workload()], ["sequential", "threads"], workers=[2], samples=5, budget_s=3600),
        ScriptedRunner(),
    )
    assert {r.wall_s["n"] for r in session.doc.results} == {5}
    assert not [w for w in session.doc.warnings if w.code == "fewer-samples"]


def noisy(spec: TrialSpec, n: int) -> TrialOutcome:
    """sequential 1 s; threads x2 steady at 1 s (clearly no 10% gain); processes x2 swinging
    between 0.55 s and 0.95 s (its lead over sequential straddles 1.1x for ever)."""
    if spec.strategy == "processes":
        return ok(0.55 if n % 2 == 0 else 0.95)
    return ok(1.0 + 0.001 * (n % 3))


def test_decided_rows_stop_at_the_minimum_and_undecided_ones_sample_until_the_cap():
    plan = Plan([workload()], ["sequential", "threads", "processes"], workers=[2], budget_s=3600)
    runner = ScriptedRunner(noisy)
    session = run(plan, runner, analyse=analyse)
    by = rows(session)
    assert by[("threads", 2)].wall_s["n"] == MIN_SAMPLES  # decided: no 10% either way
    # processes and its comparison's other side, sequential, sample on to the cap
    assert by[("processes", 2)].wall_s["n"] == plan.n_samples
    assert by[("sequential", 1)].wall_s["n"] == plan.n_samples
    [rec] = session.doc.recommendations
    assert not rec.decided and rec.inconclusive.startswith(
        f"inconclusive after {plan.n_samples} samples"
    )


def test_without_a_budget_undecided_rows_take_at_most_undecided_budget_times_the_minimum():
    clock = Clock()
    runner = ScriptedRunner(timed(clock, noisy))
    plan = Plan([workload()], ["sequential", "threads", "processes"], workers=[2])
    minimum: list[float] = []  # the clock when the first round past the minimum starts

    def on_event(e: events.Event) -> None:
        if isinstance(e, events.TrialStarted) and e.round == MIN_SAMPLES and not minimum:
            minimum.append(clock.now)

    session = Session(
        plan,
        on_event,
        run_trial=runner,
        interpreters=[interpreter()],
        clock=clock,
        analyse=analyse,
    )
    session.run()
    by = rows(session)
    assert by[("threads", 2)].wall_s["n"] == MIN_SAMPLES
    extra = by[("processes", 2)].wall_s["n"] - MIN_SAMPLES
    assert 0 < extra < plan.n_samples - MIN_SAMPLES  # cut by the time, not the cap
    assert clock.now <= (1 + UNDECIDED_BUDGET) * minimum[0]
    [rec] = session.doc.recommendations
    assert not rec.decided


def test_a_clear_verdict_takes_only_the_minimum_rounds():
    plan = Plan([workload()], ["sequential", "threads", "processes"], workers=[2])
    runner = ScriptedRunner(
        lambda spec, n: ok(0.5 if spec.strategy == "processes" else 1.0 + 0.001 * n)
    )
    session = run(plan, runner, analyse=analyse)
    assert {r.wall_s["n"] for r in session.doc.results} == {MIN_SAMPLES}
    [rec] = session.doc.recommendations
    assert rec.decided and rec.strategy == "processes"


def test_the_first_trials_show_the_rest_cannot_fit_in_the_timeout():
    # The probe says a trial needs at least 2 s; sequential's took 30 s, 15 times that, so at
    # that rate every other trial would pass the 10 s timeout: they are not started.
    cost = CallCost(call_s=0.5, cpu_s=0.5, checksum_s=0.0)
    plan = Plan(
        [workload()],
        ["sequential", "threads", "processes"],
        workers=[2],
        tasks=2,
        timeout=10.0,
        call_cost={"3.12.1": cost},
    )
    clock = Clock()

    def slow(spec: TrialSpec, n: int) -> TrialOutcome:
        clock.now += 30.0 if spec.strategy == "sequential" else 1.0
        return TrialOutcome(status="timeout", error="exceeded the 10 s timeout after 0 sample(s)")

    runner = ScriptedRunner(slow)
    session = Session(plan, run_trial=runner, interpreters=[interpreter()], clock=clock)
    session.run()
    assert runner.measured == [("sequential", 1)]
    by = rows(session)
    for key in (("threads", 2), ("processes", 2)):
        assert by[key].status == "skipped" and "over --timeout 10 s" in by[key].reason
    assert session.failed


def test_results_that_change_between_runs_are_an_error():
    runner = ScriptedRunner(
        lambda spec, n: ok(checksum=f"run{n}" if spec.strategy == "threads" and n else "same")
    )
    session = run(Plan([workload()], ["sequential", "threads"], workers=[2], samples=3), runner)
    threads = rows(session)[("threads", 2)]
    assert (
        threads.status == "error"
        and "changed between runs (checksum same then run1)" in threads.error
    )
    assert session.failed
    assert runner.measured.count(("threads", 2)) == 2  # a failed row is not measured again


def test_results_that_differ_from_sequential_are_an_error_with_a_warning():
    runner = ScriptedRunner(
        lambda spec, n: ok(checksum="racy" if spec.strategy == "threads" else "same")
    )
    session = run(Plan([workload()], ["sequential", "threads"], workers=[2], samples=2), runner)
    threads = rows(session)[("threads", 2)]
    assert (
        threads.status == "error"
        and "differ from sequential's (checksum racy != same)" in threads.error
    )
    assert [w.code for w in session.doc.warnings if w.code == "results-differ"] == [
        "results-differ"
    ]
    assert session.failed


def test_a_timeout_fails_the_session():
    def script(spec: TrialSpec, n: int) -> TrialOutcome:
        if spec.strategy == "processes":
            return TrialOutcome(
                status="timeout", error="exceeded the 300 s timeout after 0 sample(s)"
            )
        return ok()

    session = run(
        Plan([workload()], ["sequential", "processes"], workers=[2], samples=3),
        ScriptedRunner(script),
    )
    assert rows(session)[("processes", 2)].status == "timeout" and session.failed


def test_options_reach_only_the_strategies_that_declare_them():
    runner = ScriptedRunner()
    run(
        Plan(
            [workload()],
            ["sequential", "threads", "processes"],
            workers=[2],
            samples=1,
            start_method="spawn",
        ),
        runner,
    )
    options = {s.strategy: s.options for s in runner.specs}
    assert options == {"sequential": {}, "threads": {}, "processes": {"start_method": "spawn"}}


def test_a_knob_is_calibrated_once_and_reaches_the_trials():
    runner = ScriptedRunner(
        lambda spec, n: TrialOutcome(value=1234) if spec.mode == "calibrate" else ok()
    )
    w = workload(knob=Knob("count", None, "loop size", target_s=0.5))
    session = run(Plan([w], ["sequential", "threads"], workers=[2], samples=2), runner)
    [calibrate] = [s for s in runner.specs if s.mode == "calibrate"]
    assert (calibrate.knob, calibrate.target_s) == ("count", 0.5)
    assert {s.call["kwargs"]["count"] for s in runner.specs if s.mode == "measure"} == {1234}
    assert session.doc.extra["calibration"] == {"test.w": 1234}


def test_a_failed_calibration_skips_the_workload_and_fails_the_session():
    runner = ScriptedRunner(lambda spec, n: TrialOutcome(status="error", error="boom"))
    w = workload(knob=Knob("count", None, "loop size"))
    session = run(Plan([w], ["sequential", "threads"], workers=[2], samples=2), runner)
    assert runner.measured == [] and session.failed
    assert {r.status for r in session.doc.results} == {"skipped"}
    assert "calibration error: boom" in session.doc.results[0].reason


def test_events_are_typed_and_the_analysis_step_is_the_callers():
    seen: list[events.Event] = []
    plan = Plan([workload()], ["sequential", "processes"], workers=[2], samples=3)
    session = run(plan, ScriptedRunner(), on_event=seen.append, analyse=analyse)
    assert seen[0] == events.Planned(trials=2, samples=3)
    assert sum(isinstance(e, events.SampleTaken) for e in seen) == 6
    assert [e.row.strategy for e in seen if isinstance(e, events.RowDone)] == [
        "sequential",
        "processes",
    ]
    [rec] = session.doc.recommendations
    assert isinstance(rec, Recommendation) and rec.workload == "test.w"
    doc = session.doc.to_dict()
    assert (
        doc["recommendations"][0]["strategy"] == rec.strategy
        and doc["scaling"][0]["strategy"] == "processes"
    )


def test_without_an_analysis_step_the_document_has_no_verdict():
    session = run(
        Plan([workload()], ["sequential", "threads"], workers=[2], samples=1), ScriptedRunner()
    )
    doc = session.doc.to_dict()
    assert doc["recommendations"] == [] and "scaling" not in doc


# -- the results file from the start (issue 14) ----------------------------------------------------
RUN_SCHEMA = json.loads(
    (Path(__file__).parents[1] / "src" / "gilbench" / "schema.json").read_text()
)


def test_the_results_file_has_every_row_pending_before_the_first_trial_and_grows_by_trials(
    tmp_path,
):
    path = tmp_path / "r.json"
    seen: list[list[tuple[str, int, str, int]]] = []

    def script(spec: TrialSpec, n: int) -> TrialOutcome:
        doc = json.loads(path.read_text())  # what a SIGKILL now would leave
        jsonschema.validate(doc, RUN_SCHEMA)
        seen.append(
            [
                (r["strategy"], r["workers"], r["status"], r["wall_s"]["n"] if r["wall_s"] else 0)
                for r in doc["results"]
            ]
        )
        return ok()

    plan = Plan([workload()], ["sequential", "threads", "processes"], workers=[2], samples=2)
    session = run(plan, ScriptedRunner(script), json_path=str(path))
    assert seen[0] == [
        ("sequential", 1, "pending", 0),
        ("threads", 2, "pending", 0),
        ("processes", 2, "pending", 0),
    ]
    # Saved after every trial: the third trial sees the first two measured.
    assert seen[2] == [
        ("sequential", 1, "ok", 1),
        ("threads", 2, "ok", 1),
        ("processes", 2, "pending", 0),
    ]
    assert len(seen) == 6 and seen[5][2] == ("processes", 2, "ok", 2)  # round 2 runs backwards
    final = json.loads(path.read_text())
    assert {r["status"] for r in final["results"]} == {"ok"} and not session.failed


def test_rows_that_cannot_run_are_written_skipped_before_any_trial(tmp_path):
    path = tmp_path / "r.json"
    statuses: list[dict] = []

    def script(spec: TrialSpec, n: int) -> TrialOutcome:
        statuses.append(
            {r["strategy"]: r["status"] for r in json.loads(path.read_text())["results"]}
        )
        return ok()

    plan = Plan(
        [workload()],
        ["sequential", "threads"],
        workers=[2],
        samples=1,
        skip={"threads": "left out by the plan"},
    )
    run(plan, ScriptedRunner(script), json_path=str(path))
    assert statuses == [{"sequential": "pending", "threads": "skipped"}]


def test_an_interrupted_run_says_which_rows_it_did_not_reach(tmp_path):
    path = tmp_path / "r.json"

    def script(spec: TrialSpec, n: int) -> TrialOutcome:
        if spec.strategy == "threads":
            raise KeyboardInterrupt  # Ctrl-C, or SIGTERM through the CLI's handler
        return ok()

    plan = Plan([workload()], ["sequential", "threads", "processes"], workers=[2], samples=3)
    session = Session(plan, run_trial=ScriptedRunner(script), interpreters=[interpreter()])
    session.json_path = str(path)
    with pytest.raises(KeyboardInterrupt):
        session.run()
    doc = json.loads(path.read_text())
    jsonschema.validate(doc, RUN_SCHEMA)
    by = {r["strategy"]: r for r in doc["results"]}
    assert by["sequential"]["status"] == "ok" and by["sequential"]["wall_s"]["n"] == 1
    for strategy in ("threads", "processes"):
        assert by[strategy]["status"] == "skipped"
        assert by[strategy]["reason"] == "not run: interrupted"


# -- trials that cannot fit in the timeout (issue 14) ----------------------------------------------
def test_trials_whose_least_work_exceeds_the_timeout_are_skipped_before_they_start():
    # Two seconds of waiting per call, no CPU, 0.5 s to check a result: sequential's 4 tasks
    # need 5 calls one after another (10 s) + 4 checks (2 s), but threads x4 overlaps them
    # (2 rounds, 4 s + 2 s): sequential is not run, threads is. Processes also pickle each
    # result, 3 CPU seconds: 8 of them on 4 cores is 6 s, + 2 s of checks.
    cost = CallCost(call_s=2.0, cpu_s=0.0, checksum_s=0.5, pickle_s=3.0, result_bytes=300_000_000)
    plan = Plan(
        [workload()],
        ["sequential", "threads", "processes"],
        workers=[4],
        tasks=4,
        samples=2,
        timeout=9.0,
        call_cost={"3.12.1": cost},
    )

    def measure(timeout: float) -> tuple[Session, ScriptedRunner]:
        plan.timeout = timeout
        runner = ScriptedRunner()
        session = Session(plan, run_trial=runner, interpreters=[interpreter()])
        session.doc.environment["usable_cores"] = 4
        session.run()
        return session, runner

    session, runner = measure(9.0)
    by = rows(session)
    assert set(runner.measured) == {("threads", 4), ("processes", 4)}
    assert by[("sequential", 1)].status == "skipped" and session.failed  # a timeout, found early
    assert by[("sequential", 1)].reason == (
        "not run: a trial needs at least 12 s, over --timeout 9 s (5 rounds of calls x 2.00 s "
        "(the fastest call) = 10 s + checking 4 results of 300 MB x 0.50 s = 2.00 s: the least "
        "any strategy must do, by the probe); raise --timeout or lower --tasks"
    )
    assert by[("threads", 4)].status == by[("processes", 4)].status == "ok"

    session, runner = measure(7.0)
    processes = rows(session)[("processes", 4)]
    assert set(runner.measured) == {("threads", 4)} and processes.status == "skipped"
    assert "8 calls x 3.00 s CPU with pickling / 4 core(s) = 6.00 s + checking" in (
        processes.reason
    )
    # The probe's figures hold for the interpreter it ran in only.
    plan.call_cost = {"3.13.0": cost}
    session, runner = measure(1.0)
    assert len(set(runner.measured)) == 3 and not session.failed


def test_the_least_trial_is_the_longer_of_latency_and_cpu_plus_the_checksums():
    cost = CallCost(call_s=1.0, cpu_s=1.0, checksum_s=0.25, pickle_s=1.0)
    seq = least_trial(cost, workers=1, tasks=4, cores=2, crosses_processes=False)
    # a 1 s call outlasts worker.WARMUP_BUDGET_S: one warm-up pass of one call, then 4 calls
    assert (seq.rounds, seq.calls, seq.seconds) == (5, 5, 5.0 + 1.0)
    # 8 workers on 2 cores: 2 rounds of latency, but 16 CPU seconds on 2 cores
    wide = least_trial(cost, workers=8, tasks=8, cores=2, crosses_processes=False)
    assert (wide.latency_s, wide.cpu_s, wide.seconds) == (2.0, 8.0, 8.0 + 2.0)
    crossing = least_trial(
        cost, workers=8, tasks=8, cores=2, crosses_processes=True, compare_results=False
    )
    assert crossing.seconds == 16.0 and crossing.checksum_s == 0.0
    # a shorter call is warmed up twice (worker.warm_up stops when two passes agree)
    short = CallCost(call_s=0.1, cpu_s=0.1, checksum_s=0.0)
    assert least_trial(short, workers=1, tasks=1, cores=2, crosses_processes=False).rounds == 3


def test_a_first_trial_projected_past_the_budget_is_not_started():
    # bench's probe: a call needs 0.5 s; sequential's trial took 8 s, 4 times its least (2 s),
    # so threads x2 (least 1.5 s -> ~6 s) would end at 14 s, past the 10 s budget.
    cost = CallCost(call_s=0.5, cpu_s=0.5, checksum_s=0.0)
    plan = Plan(
        [workload()],
        ["sequential", "threads"],
        workers=[2],
        tasks=2,
        budget_s=10.0,
        call_cost={"3.12.1": cost},
    )
    clock = Clock()

    def slow(spec: TrialSpec, n: int) -> TrialOutcome:
        clock.now += 8.0
        return ok(1.0)

    runner = ScriptedRunner(slow)
    session = Session(plan, run_trial=runner, interpreters=[interpreter()], clock=clock)
    session.run()
    assert runner.measured == [("sequential", 1)]
    threads = rows(session)[("threads", 2)]
    assert threads.status == "skipped" and threads.reason.startswith("not run: past the budget")
    assert "about 6 s" in threads.reason and "past the 10 s budget with 8 s spent" in threads.reason
    assert not session.failed  # the budget is the user's choice, not a failed measurement
    said = [w.message for w in session.doc.warnings if w.code == "fewer-samples"]
    assert any("1 measurement(s) not run" in m for m in said)
    # and sequential's second round, projected to end at 16 s, is not started either
    assert any(f"1 sample(s) per measurement instead of {MIN_SAMPLES}" in m for m in said)
