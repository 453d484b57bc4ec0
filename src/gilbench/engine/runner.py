"""Parent side of a trial: spawn the worker process, feed it the spec, collect its messages.

The worker runs in its own session; a timeout, a death or a Ctrl-C ends its whole process
group (pool workers included). What the trial started outside that group (the user's code
may start processes in sessions of their own) is found by the trial's tag and the worker's
subreaper tree (``services/lifeline.py``), ended, and counted as ``leaked_processes``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from gilbench.engine import protocol
from gilbench.engine.protocol import Message, Probed, Sample, TrialSpec
from gilbench.jsonlines import DeadlineExceeded, LineReader
from gilbench.services import _process, lifeline


@dataclass
class TrialOutcome:
    """What one trial came to, folded from its messages (``engine/protocol.py``)."""

    status: str = "ok"  # ok | error | timeout | skipped
    samples: list[Sample] = field(default_factory=list)  # measure: one per timed pass
    startup_s: float | None = None  # measure: pool start-up seconds
    checksum: str | None = None  # measure: of the task results (None: not compared)
    note: str | None = None  # measure: how it ran, when that differs from the strategy's name
    error: str | None = None  # status error / timeout: what happened, one line
    reason: str | None = None  # status skipped: why
    value: int | None = None  # calibrate: the knob's value
    probe: Probed | None = None  # probe: the function's first calls
    gil_contention_reason: str | None = None  # why the samples carry no GIL contention
    # measure: modules whose import turned a free-threaded build's GIL back on (Done's)
    gil_reenabled_by: list[str] | None = None
    where: str | None = None  # status error: setup | load, when it failed before the tasks ran
    # processes the trial (the user's code) left running outside its process group, ended at
    # its end (Linux; 0 elsewhere)
    leaked_processes: int = 0
    warmups: int | None = None  # measure: warm-up passes before the timed ones (Done's)
    steady: bool | None = None  # measure: False when the warm-up passes never agreed


class TrialRunner(Protocol):
    """How a session runs one trial; :func:`run_trial` is the real one, a test's scripted fake
    is another. Returns the trial's outcome, never raises for what the trial did."""

    def __call__(
        self,
        python: str,
        spec: TrialSpec,
        timeout: float,
        on_message: Callable[[Message], None] | None = None,
        env: dict[str, str] | None = None,
    ) -> TrialOutcome: ...


def run_trial(
    python: str,
    spec: TrialSpec | dict,
    timeout: float,
    on_message: Callable[[Message], None] | None = None,
    env: dict[str, str] | None = None,
) -> TrialOutcome:
    """Run ``spec`` in a fresh ``python -m gilbench.engine.worker`` process (its own session).

    ``timeout`` (seconds) bounds the whole trial: past it the outcome is ``timeout``. Each
    message is given to ``on_message`` as it arrives. ``env`` adds to the worker's environment.
    A dict ``spec`` is read by ``TrialSpec.from_dict`` (TypeError / ValueError if malformed).
    A worker that dies is an ``error`` outcome naming the exit code or signal and its last
    output; the process group is always stopped before returning, and every process the trial
    started elsewhere is ended and counted in ``leaked_processes``.
    """
    if isinstance(spec, dict):
        spec = TrialSpec.from_dict(spec)
    read_fd, write_fd = os.pipe()
    # The worker waits for EOF on this pipe before it exits, so that its descendants are
    # still its own (it is their subreaper) when they are looked for: see _end_trial.
    release_r, release_w = os.pipe()
    trial_id = uuid.uuid4().hex
    child_env = _process.child_env(
        {
            "GILBENCH_RESULT_FD": str(write_fd),
            "GILBENCH_RELEASE_FD": str(release_r),
            lifeline.TRIAL_ENV: trial_id,
            **(env or {}),
        }
    )
    with tempfile.TemporaryFile() as output:
        try:
            proc = _process.spawn(
                [python, "-m", "gilbench.engine.worker"],
                env=child_env,
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=output,
                pass_fds=(write_fd, release_r),
                subreaper=True,  # what the user's code orphans stays the worker's to find
            )
        except BaseException:
            os.close(release_w)
            raise
        finally:
            os.close(write_fd)
            os.close(release_r)
        try:
            assert proc.stdin is not None
            proc.stdin.write(spec.to_json().encode())
            proc.stdin.close()
            outcome = _collect(proc, read_fd, timeout, on_message)
        finally:
            os.close(read_fd)
            leaked = _end_trial(proc, trial_id, release_w)
        outcome.leaked_processes = leaked
        if outcome.status == "error" and outcome.error and outcome.error.startswith("worker died"):
            tail = _tail(output)
            if tail:
                outcome.error += f"; last output: {tail}"
    return outcome


def _end_trial(proc: subprocess.Popen, trial_id: str, release_w: int) -> int:
    """Stop the worker's process group, then end what the trial started outside it (found by
    the worker's descendants, and by the trial's tag); returns how many.

    The descendants are taken while the worker still waits on ``release_w`` (closed here), so
    a process the user's code started with an environment of its own, which carries no tag,
    has not yet been orphaned to init by the worker's exit."""
    seen = []
    try:
        seen = lifeline.trial_descendants(proc.pid, trial_id)
    finally:
        os.close(release_w)
        _process.stop(proc)
    return lifeline.end_leftovers(trial_id, seen, group=proc.pid)


def _collect(
    proc: subprocess.Popen, fd: int, timeout: float, on_message: Callable[[Message], None] | None
) -> TrialOutcome:
    outcome = TrialOutcome()
    deadline = time.monotonic() + timeout
    reader = LineReader(fd)
    while True:
        try:
            line = reader.readline(deadline)
        except DeadlineExceeded:
            outcome.status = "timeout"
            outcome.error = (
                f"exceeded the {timeout:g} s timeout after {len(outcome.samples)} sample(s)"
            )
            return outcome
        if line is None:
            break
        message = protocol.decode(line)
        _apply(outcome, message)
        if on_message:
            on_message(message)
        if isinstance(message, protocol.FINAL):
            return outcome
    code = proc.wait(timeout=5)
    outcome.status = "error"
    outcome.error = f"worker died ({_exit_reason(code)}) after {len(outcome.samples)} sample(s)"
    return outcome


def _apply(outcome: TrialOutcome, m: Message) -> None:
    """Fold one worker message into the outcome."""
    if isinstance(m, protocol.Startup):
        outcome.startup_s = m.startup_s
    elif isinstance(m, protocol.Sample):
        outcome.samples.append(m)
    elif isinstance(m, protocol.Done):
        outcome.checksum, outcome.note = m.checksum, m.note
        outcome.gil_contention_reason = m.gil_contention_reason
        outcome.gil_reenabled_by = m.gil_reenabled_by
        outcome.warmups, outcome.steady = m.warmups, m.steady
    elif isinstance(m, protocol.Calibrated):
        outcome.value = m.value
    elif isinstance(m, protocol.Probed):
        outcome.probe = m
    elif isinstance(m, protocol.Skipped):
        outcome.status, outcome.reason = "skipped", m.reason
    elif isinstance(m, protocol.Failed):
        outcome.status, outcome.error, outcome.where = "error", m.error, m.where


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _tail(f, limit: int = 300) -> str:
    f.seek(0)
    text = f.read().decode(errors="replace").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-3:])[-limit:]
