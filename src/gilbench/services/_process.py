"""Start and stop helper processes in their own process group.

Every service and trial runs in a new session so that one ``killpg`` ends it and
everything it forked (pool workers, uvicorn workers), and so that a Ctrl-C in the
terminal reaches only gilbench, which then stops them in order. Each is on gilbench's
lifeline (``services/lifeline.py``) from :func:`spawn` to :func:`stop`: if gilbench dies,
even by SIGKILL, the child gets a parent-death signal and the watcher ends it and everything
it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence

from gilbench.jsonlines import DeadlineExceeded, LineReader
from gilbench.services import lifeline


class ServiceError(RuntimeError):
    """A helper process did not start or did not say it was ready."""


def spawn(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    death_signal: int = signal.SIGKILL,
    subreaper: bool = False,
    **kwargs,
) -> subprocess.Popen:
    """Start ``argv`` in a new session (its own process group) on gilbench's lifeline:
    ``death_signal`` is sent to it if gilbench dies (Linux, from the main thread; see
    ``lifeline.preexec``), its environment (``env``, default this one) carries gilbench's
    lifeline tag, and its group is registered with the watcher until :func:`stop`. With
    ``subreaper`` it adopts its orphaned descendants (``PR_SET_CHILD_SUBREAPER``). ``kwargs``
    go to Popen. Raises OSError (e.g. FileNotFoundError) when it cannot be started."""
    proc = subprocess.Popen(
        list(argv),
        start_new_session=True,
        env=lifeline.tag_env(env),
        preexec_fn=lifeline.preexec(death_signal, subreaper),
        **kwargs,
    )
    lifeline.hold(proc)
    return proc


def read_ready_line(proc: subprocess.Popen, prefix: str, timeout: float) -> str:
    """Read stdout lines until one starts with ``prefix``; return the rest of it.

    Raises ServiceError with the process's last output if it exits or times out first.
    """
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    reader = LineReader(proc.stdout.fileno(), poll_s=0.2)

    def exited_early() -> None:
        if proc.poll() is not None:
            raise ServiceError(f"exited with code {proc.returncode}: {' '.join(seen[-3:])}".strip())

    while True:
        try:
            line = reader.readline(deadline, on_idle=exited_early)
        except DeadlineExceeded:
            stop(proc)
            said = " ".join(seen[-3:])
            raise ServiceError(f"not ready after {timeout:.0f} s: {said}".strip()) from None
        if line is None:
            proc.wait(timeout=5)
            raise ServiceError(f"exited with code {proc.returncode}: {' '.join(seen[-3:])}".strip())
        text = line.decode(errors="replace").strip()
        if text.startswith(prefix):
            return text[len(prefix) :].strip()
        seen.append(text)


def stop(proc: subprocess.Popen, grace: float = 2.0) -> None:
    """SIGTERM the process group, wait up to ``grace`` s, then SIGKILL it. Idempotent."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    if pgid is not None and proc.poll() is None:
        _killpg(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    if pgid is not None:
        # Children of the group may outlive the leader (pool workers): kill them too.
        _killpg(pgid, signal.SIGKILL)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    if pgid is not None:
        # SIGKILL is delivered, not done: return once no member of the group still runs.
        wait_group_gone(pgid, timeout=grace)
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream is not None:
            stream.close()
    lifeline.release(proc)


def live_members(pgid: int) -> list[int]:
    """Pids of the processes of group ``pgid`` that still run (zombies are dead: not counted)."""
    import psutil

    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc.pid)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return members


def wait_group_gone(pgid: int, timeout: float) -> bool:
    """Wait until no process of group ``pgid`` runs, up to ``timeout`` s; True when none does."""
    deadline = time.monotonic() + timeout
    while live_members(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child Python: this one, with gilbench's directory first on
    PYTHONPATH, PYTHONUNBUFFERED=1 unless set, and ``extra`` on top."""
    # The directory holding the gilbench package (src/ in a checkout): services/ is two levels in.
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    paths = [src] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != src]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("PYTHONUNBUFFERED", "1")
    if extra:
        env.update(extra)
    return env


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (bind to 0, read it, close): callers retry on a clash."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
