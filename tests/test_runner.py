"""Trials in fresh processes: results, and every way a task can go wrong."""

import os
import sys
import time

import pytest

from gilbench import jsonlines
from gilbench.engine import protocol
from gilbench.engine.protocol import TrialSpec
from gilbench.engine.runner import run_trial
from gilbench.workloads import Call

TESTS = os.path.dirname(os.path.abspath(__file__))


def spec(
    func: str,
    strategy: str = "sequential",
    workers: int = 1,
    tasks: int = 2,
    samples: int = 2,
    **kwargs,
) -> TrialSpec:
    call = Call(f"userfuncs.funcs:{func}", kwargs=kwargs).to_dict()
    return TrialSpec.measure(call, strategy, workers, tasks, samples, cwd=TESTS)


@pytest.mark.parametrize("strategy", ["sequential", "threads", "processes", "asyncio"])
def test_each_strategy_returns_samples_and_the_same_checksum(strategy, no_leftovers):
    base = run_trial(sys.executable, spec("fast", x=3), timeout=60)
    out = run_trial(sys.executable, spec("fast", strategy=strategy, workers=2, x=3), timeout=60)
    assert out.status == "ok", out.error
    assert len(out.samples) == 2 and all(
        s.wall_s > 0 and s.cpu_s >= 0 and s.rss_mb > 0 for s in out.samples
    )
    assert out.startup_s is not None and out.startup_s >= 0
    assert out.checksum == base.checksum


def test_asyncio_says_when_it_falls_back_to_threads():
    out = run_trial(sys.executable, spec("fast", strategy="asyncio", workers=2), timeout=60)
    assert out.status == "ok" and "to_thread" in out.note


def test_a_task_that_raises_is_an_error_with_its_message(no_leftovers):
    out = run_trial(sys.executable, spec("boom", strategy="threads", workers=2), timeout=60)
    assert out.status == "error"
    assert "ValueError: this function always raises" in out.error


@pytest.mark.parametrize("strategy", ["sequential", "processes"])
def test_a_hanging_task_times_out_and_leaves_no_process(strategy, no_leftovers):
    t0 = time.monotonic()
    out = run_trial(sys.executable, spec("hang", strategy=strategy, workers=2), timeout=2)
    assert out.status == "timeout"
    assert "2 s timeout" in out.error
    assert time.monotonic() - t0 < 10


def test_a_task_that_exits_its_process_is_an_error(no_leftovers):
    out = run_trial(sys.executable, spec("die"), timeout=30)
    assert out.status == "error" and "exit code 3" in out.error


def test_a_segfault_is_an_error_naming_the_signal(no_leftovers):
    out = run_trial(sys.executable, spec("segfault"), timeout=30)
    assert out.status == "error" and "SIGSEGV" in out.error


def test_user_output_on_stdout_does_not_break_the_protocol():
    out = run_trial(sys.executable, spec("chatty", strategy="threads", workers=2), timeout=30)
    assert out.status == "ok"


def test_a_missing_function_is_a_clear_error():
    out = run_trial(sys.executable, spec("no_such_function"), timeout=30)
    assert out.status == "error" and "no_such_function" in out.error


def test_the_probe_keeps_what_it_found_on_the_outcome():
    out = run_trial(
        sys.executable,
        TrialSpec.probe(Call("userfuncs.funcs:fast", kwargs={"x": 3}).to_dict(), cwd=TESTS),
        timeout=30,
    )
    assert out.status == "ok" and out.probe is not None
    assert (
        out.probe.per_call_s > 0
        and out.probe.calls >= 3
        and out.probe.deterministic
        and out.probe.result_unpicklable is None
    )


def test_calibration_returns_the_knob_value():
    spec = TrialSpec.calibrate(
        Call("gilbench.workloads.cpu:count").to_dict(), "count", target_s=0.01, start=1000
    )
    out = run_trial(sys.executable, spec, timeout=60)
    assert out.status == "ok" and isinstance(out.value, int) and out.value > 1000


# -- the protocol and the line reader, without a process -----------------------------------------
def test_every_message_survives_its_json_line():
    messages = [
        protocol.Startup(0.01),
        protocol.Sample(1.0, 0.9, 31.0, None, 0.5, 5.0),
        protocol.Done("abc", None, "why"),
        protocol.Skipped("no"),
        protocol.Failed("ValueError: x", where="setup"),
        protocol.Calibrated(12),
        protocol.Probed(0.001, 40, None, True),
    ]
    assert [protocol.decode(m.to_json()) for m in messages] == messages
    with pytest.raises(ValueError):
        protocol.decode('{"type": "calibrated-ish"}')


def test_a_spec_says_its_mode_and_refuses_a_half_one():
    spec = TrialSpec.measure({"func": "m:f"}, "threads", 2, 4, 1, options={"start_method": "spawn"})
    assert TrialSpec.from_json(spec.to_json()) == spec and spec.mode == "measure"
    with pytest.raises(ValueError):
        TrialSpec("measure", {"func": "m:f"})  # no strategy
    with pytest.raises(ValueError):
        TrialSpec("calibrate", {"func": "m:f"}, knob="n")  # no target
    with pytest.raises(TypeError):
        TrialSpec.from_dict({"call": {}, "strategy": "threads", "no_such_key": 1})


def test_the_line_reader_joins_split_lines_and_stops_at_eof_or_the_deadline():
    r, w = os.pipe()
    try:
        reader = jsonlines.LineReader(r, poll_s=0.05)
        os.write(w, b'{"a": 1}\nhalf')
        assert reader.read_json(time.monotonic() + 1) == {"a": 1}
        t0 = time.monotonic()
        with pytest.raises(jsonlines.DeadlineExceeded):
            reader.readline(time.monotonic() + 0.2)
        assert 0.15 < time.monotonic() - t0 < 2
        os.write(w, b' a line\nX {"b": 2}\n')
        assert reader.readline(time.monotonic() + 1) == b"half a line"
        assert reader.read_json(time.monotonic() + 1, prefix="X ") == {"b": 2}
        os.close(w)
        w = -1
        assert reader.readline(time.monotonic() + 1) is None
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
