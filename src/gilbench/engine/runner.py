"""Parent side of a trial: spawn the worker process, feed it the spec, collect its messages.

The worker runs in its own session; a timeout, a death or a Ctrl-C ends its whole process
group (pool workers included), so no trial can leave orphans behind.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gilbench.services import _process


@dataclass
class TrialOutcome:
    status: str = "ok"  # ok | error | timeout | skipped
    samples: list[dict] = field(default_factory=list)  # {"wall_s", "cpu_s", "rss_mb", "run_queue_s", "gil_contention", "gil_hold_ms"}
    startup_s: float | None = None
    checksum: str | None = None
    note: str | None = None
    error: str | None = None
    reason: str | None = None
    value: float | None = None  # calibration result
    gil_contention_reason: str | None = None  # why the samples carry no GIL contention


def run_trial(
    python: str,
    spec: dict,
    timeout: float,
    on_message: Callable[[dict], None] | None = None,
    env: dict[str, str] | None = None,
) -> TrialOutcome:
    read_fd, write_fd = os.pipe()
    child_env = _process.child_env({"GILBENCH_RESULT_FD": str(write_fd), **(env or {})})
    with tempfile.TemporaryFile() as output:
        try:
            proc = _process.spawn(
                [python, "-m", "gilbench.engine.worker"],
                env=child_env,
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=output,
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        try:
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(spec).encode())
            proc.stdin.close()
            outcome = _collect(proc, read_fd, timeout, on_message)
        finally:
            os.close(read_fd)
            _process.stop(proc)
        if outcome.status == "error" and outcome.error and outcome.error.startswith("worker died"):
            tail = _tail(output)
            if tail:
                outcome.error += f"; last output: {tail}"
    return outcome


def _collect(proc: subprocess.Popen, fd: int, timeout: float, on_message) -> TrialOutcome:
    outcome = TrialOutcome()
    deadline = time.monotonic() + timeout
    buf = b""
    finished = False
    while not finished:
        left = deadline - time.monotonic()
        if left <= 0:
            outcome.status = "timeout"
            outcome.error = f"exceeded the {timeout:g} s timeout after {len(outcome.samples)} sample(s)"
            return outcome
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            message = json.loads(line)
            finished = _apply(outcome, message) or finished
            if on_message:
                on_message(message)
    if not finished:
        code = proc.wait(timeout=5)
        outcome.status = "error"
        outcome.error = f"worker died ({_exit_reason(code)}) after {len(outcome.samples)} sample(s)"
    return outcome


def _apply(outcome: TrialOutcome, m: dict) -> bool:
    """Fold one worker message into the outcome; True when the worker has said its last."""
    kind = m["type"]
    if kind == "startup":
        outcome.startup_s = m["startup_s"]
    elif kind == "sample":
        outcome.samples.append({k: m.get(k) for k in ("wall_s", "cpu_s", "rss_mb", "run_queue_s", "gil_contention", "gil_hold_ms")})
    elif kind == "done":
        outcome.checksum, outcome.note = m["checksum"], m.get("note")
        outcome.gil_contention_reason = m.get("gil_contention_reason")
        return True
    elif kind == "calibrated":
        outcome.value = m["value"]
        return True
    elif kind == "skipped":
        outcome.status, outcome.reason = "skipped", m["reason"]
        return True
    elif kind == "error":
        outcome.status, outcome.error = "error", m["error"]
        return True
    return False


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
