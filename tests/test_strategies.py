"""Conformance: every registered strategy keeps the protocol, so a new one is tested the moment
it is added to ``gilbench.strategies.REGISTRY``.

The strategies run in this process here (no trial worker), on small real tasks; the end-to-end
path through fresh trial processes is covered by tests/test_cli.py and tests/test_bench.py.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys

import pytest

from gilbench import strategies
from gilbench.strategies.base import Traits, Unavailable
from gilbench.workloads import Call

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Options the engine knows how to give (engine/session.py passes them through options_for).
PLAN_OPTIONS = {"start_method"}
SQUARE = Call(func="tests.userfuncs.conformance:square", args=(7,))


@pytest.fixture(params=strategies.NAMES)
def name(request) -> str:
    return request.param


def _started(name: str, call: Call, workers: int = 2):
    """The strategy, started on ``call``; skipped (with the reason checked) where it cannot run."""
    try:
        strategy = strategies.create(name)
    except Unavailable as exc:
        assert strategies.version_reason(name, sys.version_info) or "pip install" in str(exc), str(
            exc
        )
        pytest.skip(f"{name} unavailable here: {exc}")
    if why := strategy.available(call):
        pytest.skip(f"{name} cannot run here: {why}")
    strategy.start(workers, call)
    return strategy


def test_registry_is_keyed_by_each_class_name_and_lists_the_baseline_first():
    assert strategies.NAMES[0] == strategies.BASELINE
    for key, cls in strategies.REGISTRY.items():
        assert cls.name == key
    assert set(strategies.DEFAULT) <= set(strategies.NAMES)
    assert strategies.BASELINE in strategies.DEFAULT


def test_traits_are_complete_and_consistent(name):
    t = strategies.traits(name)
    assert isinstance(t, Traits)
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", t.colour)
    # A strategy whose workers do not share one GIL says why contention means nothing there.
    assert (t.gil_note is None) == t.shares_gil
    assert strategies.gil_unmeasurable(name) == t.gil_note
    # Parallel on cores means separate GILs; results crossing processes means separate GILs too.
    assert not (t.core_bound and t.shares_gil)
    assert not (t.crosses_processes and t.shares_gil)
    assert set(t.options) <= PLAN_OPTIONS
    params = inspect.signature(strategies.REGISTRY[name]).parameters
    assert set(t.options) <= set(params), f"{name} declares options its constructor does not take"


def test_colours_are_distinct():
    colours = [strategies.colour(n) for n in strategies.NAMES]
    assert len(set(colours)) == len(colours)
    assert strategies.colour("no-such-strategy") == strategies.UNKNOWN_COLOUR


def test_version_reason_follows_min_python(name):
    t = strategies.traits(name)
    assert strategies.version_reason(name, t.min_python) is None
    older = (t.min_python[0], t.min_python[1] - 1)
    why = strategies.version_reason(name, older)
    assert why and f"needs {t.min_python[0]}.{t.min_python[1]}+" in why and t.min_python_why in why


def test_skip_reason_is_cheap_and_says_a_sentence_or_nothing(name):
    for call in (SQUARE, Call(func="tests.userfuncs.conformance:square", async_func="x:y")):
        for by_default in (False, True):
            why = strategies.skip_reason(name, call, by_default=by_default)
            assert why is None or (isinstance(why, str) and len(why) > 10)


def test_runs_tasks_and_returns_their_results_in_task_order(name):
    call = SQUARE
    if why := strategies.skip_reason(name, call):
        call = Call(
            func="tests.userfuncs.conformance:square",
            args=(7,),
            io_func="tests.userfuncs.conformance:identity",
            cpu_func="tests.userfuncs.conformance:square",
        )
        assert strategies.skip_reason(name, call) is None, why
    strategy = _started(name, call)
    try:
        assert strategy.run(call, 5) == [49] * 5
        assert strategy.run(call, 1) == [49]  # a pool is reusable across passes
        assert strategy.note is None or isinstance(strategy.note, str)
    finally:
        strategy.close()


def test_a_task_that_raises_raises_from_run(name):
    call = Call(func="tests.userfuncs.funcs:boom")
    if strategies.skip_reason(name, call):
        pytest.skip(f"{name} does not run plain calls")
    strategy = _started(name, call)
    try:
        with pytest.raises(Exception, match="always raises"):
            strategy.run(call, 2)
    finally:
        strategy.close()


def test_options_reach_only_strategies_that_declare_them(name):
    assert strategies.options_for(name, start_method="spawn", other=1) == (
        {"start_method": "spawn"} if "start_method" in strategies.traits(name).options else {}
    )
    assert strategies.options_for(name, start_method=None) == {}


def test_select_puts_the_baseline_first_and_rejects_unknown_names():
    assert strategies.select(None) == list(strategies.DEFAULT)
    assert strategies.select(["threads"]) == [strategies.BASELINE, "threads"]
    with pytest.raises(ValueError, match="unknown strategy 'nope'.*, or all"):
        strategies.select(["threads", "nope"])
    every = strategies.select(["threads", strategies.ALL])
    assert every == list(strategies.NAMES) and set(strategies.DEFAULT) < set(every)
    assert strategies.left_out("why", strategies.NAMES, [strategies.ALL]) == {}


def test_left_out_names_only_slow_strategies_not_requested():
    slow = [n for n in strategies.NAMES if strategies.traits(n).slow_to_start]
    out = strategies.left_out("why", strategies.NAMES)
    assert sorted(out) == sorted(slow)
    assert all(f"-s {n}" in out[n] for n in out)
    assert strategies.left_out("why", strategies.NAMES, requested=slow) == {}


def test_schema_enumerates_exactly_the_registered_strategies():
    with open(os.path.join(ROOT, "src", "gilbench", "schema.json")) as f:
        text = f.read()
    schema = json.loads(text)
    enums = []

    def walk(node):
        if isinstance(node, dict):
            if (
                "strategy" in node
                and isinstance(node["strategy"], dict)
                and "enum" in node["strategy"]
            ):
                enums.append(node["strategy"]["enum"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    assert enums, "schema.json names no strategy enum"
    for enum in enums:
        assert [e for e in enum if e is not None] == list(strategies.NAMES)
