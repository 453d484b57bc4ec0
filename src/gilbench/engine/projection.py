"""The least time one trial can take, projected from what one call costs, so that a trial that
cannot fit in ``--timeout`` is not started (issue 14: a function returning 300 MB made every
trial wait out its 10 s timeout in turn, 110 s in all, and measured nothing).

The rule: a trial is skipped when the least work *any* strategy must do in it takes longer
than the timeout. That least work is counted from the probe's figures (``gilbench bench``'s
first calls, :class:`CallCost`), never from how sequential fared, so a strategy that could beat
sequential (threads on I/O) is never judged by sequential's time. A trial is two warm-up passes
of ``min(tasks, workers)`` calls (``worker.warm_up`` stops at two when they agree; one when a
pass alone outlasts ``worker.WARMUP_BUDGET_S``), one timed pass of ``tasks`` calls, then the
checksum of the timed pass's results (``worker.run_measure``); every strategy runs at most
``workers`` calls at once and never splits a call. So it takes at least the longer of

- **latency**: a round of calls per warm-up pass plus ``ceil(tasks / workers)`` rounds for
  the pass, each round as long as the fastest call seen;
- **CPU**: the CPU seconds of every call (the least seen), plus pickling each result where
  results cross a process boundary, spread over ``min(workers, usable cores)``;

plus the checksum of ``tasks`` results, one after another in the trial's main process (when
results are compared). Start-up, imports and contention only add to this. The figures are the
fastest the probe saw, measured in one interpreter: they bound that interpreter's rows only.

Pure: no process, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gilbench.engine.worker import WARMUP_BUDGET_S


@dataclass(frozen=True)
class CallCost:
    """What one call of the function and its result cost, the fastest the probe saw (seconds;
    ``engine/usercall.probe``)."""

    call_s: float  # wall seconds of one call
    cpu_s: float  # CPU seconds of one call, all threads of its process
    checksum_s: float  # seconds to checksum one result
    pickle_s: float | None = None  # seconds to pickle one result; None: it cannot be
    result_bytes: int | None = None  # one pickled result's size, bytes (None: unknown)


@dataclass(frozen=True)
class Least:
    """The least duration of one trial (:func:`least_trial`), with its parts, seconds."""

    seconds: float  # passes + checksum
    passes_s: float  # the warm-up and timed passes: the longer of latency_s and cpu_s
    latency_s: float  # rounds x the fastest call
    cpu_s: float  # CPU of every call (and its pickling), over the cores that can run it
    per_call_cpu_s: float  # CPU of one call, and of pickling its result where it crosses
    checksum_s: float  # checksums of the timed pass's results, one after another
    rounds: int  # rounds of calls in the two passes
    calls: int  # calls in the two passes
    cores: int  # min(workers, usable cores)


def least_trial(
    cost: CallCost,
    *,
    workers: int,
    tasks: int,
    cores: int,
    crosses_processes: bool,
    compare_results: bool = True,
) -> Least:
    """The least seconds one trial of ``tasks`` tasks on ``workers`` workers can take on
    ``cores`` usable cores (the rule in the module's docstring). ``crosses_processes``: the
    strategy pickles each result back (``Traits.crosses_processes``); ``compare_results``:
    the trial checksums its results."""
    warmups = 1 if cost.call_s >= WARMUP_BUDGET_S else 2
    calls = warmups * min(tasks, workers) + tasks
    rounds = warmups + math.ceil(tasks / workers)
    parallel = max(1, min(workers, cores))
    per_call_cpu = cost.cpu_s + ((cost.pickle_s or 0.0) if crosses_processes else 0.0)
    latency = rounds * cost.call_s
    cpu = calls * per_call_cpu / parallel
    checksums = tasks * cost.checksum_s if compare_results else 0.0
    passes = max(latency, cpu)
    return Least(
        passes + checksums, passes, latency, cpu, per_call_cpu, checksums, rounds, calls, parallel
    )


def over_timeout(
    cost: CallCost,
    timeout: float,
    *,
    workers: int,
    tasks: int,
    cores: int,
    crosses_processes: bool,
    compare_results: bool = True,
) -> str | None:
    """Why a trial will not fit in ``timeout`` seconds, as a row's skip reason (one line
    starting "not run:"), when :func:`least_trial` exceeds it; else None."""
    least = least_trial(
        cost,
        workers=workers,
        tasks=tasks,
        cores=cores,
        crosses_processes=crosses_processes,
        compare_results=compare_results,
    )
    if least.seconds <= timeout:
        return None
    if least.latency_s >= least.cpu_s:
        passes = (
            f"{least.rounds} rounds of calls x {_s(cost.call_s)} (the fastest call) "
            f"= {_s(least.latency_s)}"
        )
    else:
        pickling = " with pickling" if crosses_processes and cost.pickle_s else ""
        passes = (
            f"{least.calls} calls x {_s(least.per_call_cpu_s)} CPU{pickling} / {least.cores} "
            f"core(s) = {_s(least.cpu_s)}"
        )
    parts = [passes]
    if least.checksum_s:
        size = f" of {cost.result_bytes / 1e6:.0f} MB" if cost.result_bytes else ""
        parts.append(
            f"checking {tasks} results{size} x {_s(cost.checksum_s)} = {_s(least.checksum_s)}"
        )
    return (
        f"not run: a trial needs at least {_s(least.seconds)}, over --timeout {timeout:g} s "
        f"({' + '.join(parts)}: the least any strategy must do, by the probe); "
        "raise --timeout or lower --tasks"
    )


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s"
