"""A lifeline for everything gilbench starts: nothing it started outlives the gilbench process.

gilbench starts services (the delay server, PostgreSQL, uvicorn, the load generator) and trial
workers, which start pool workers, Dask workers and whatever the user's code starts. When
gilbench is killed by a signal it cannot catch (SIGKILL from the OOM killer, a CI timeout,
``kill -9``), none of its ``finally`` blocks run. Three mechanisms, from the fastest to the
most thorough, end what it started anyway:

1. **Parent-death signal** (Linux ``prctl(PR_SET_PDEATHSIG)``, prctl(2)) on every direct child
   (:func:`preexec`): the kernel signals the child the moment its parent dies. It is tied to the
   *thread* that forked the child (prctl(2): "the parent thread"), so it is set only when the
   child is started from the main thread, which lives as long as the process; children started
   from other threads rely on 2.
2. **The watcher**: a small process (``python -I -S lifeline.py watch OWNER``, standard library
   only, in a session of its own) started with the first child and ended, told "bye", when the
   last one is stopped. It blocks reading a pipe whose write end only gilbench holds; end of
   file without "bye" means gilbench died. It then SIGKILLs every process tagged with
   gilbench's owner tag (:data:`ENV`, inherited through the environment by every descendant,
   including those that left the process group or session), every member of the process groups
   gilbench registered (for descendants that cleared their environment), and stops each
   PostgreSQL cluster it was told about (:func:`remove_cluster`: SIGQUIT, what
   ``pg_ctl stop -m immediate`` sends, then its directory is removed), and exits.
3. **A later run** (:func:`sweep_stale_processes`, and ``postgres.sweep_stale_clusters``) ends
   processes tagged by a gilbench process that no longer exists and removes throwaway clusters
   whose marker (:data:`MARKER`) names a dead owner, for the case where the watcher was killed
   too; only the current user's, and it says so in one log line (logger ``gilbench``, which
   prints the bare line on stderr when the application configured no logging).

Trials also end what they leak at their own end (:func:`trial_descendants`,
:func:`end_leftovers`): each trial worker carries a unique :data:`TRIAL_ENV` tag and is a child
subreaper (``PR_SET_CHILD_SUBREAPER``, prctl(2)), so that processes the user's code started in
a session of their own stay its descendants while it runs (even with an environment of their
own), and the tag finds them after it died. Both are needed: the tag alone misses a process
started with a fresh environment, the tree alone misses what was orphaned after the worker died.
The worker does not reap the orphans it adopts: those that end during the trial stay zombies
until it ends (cgroups would track descendants without this, but need privileges or a systemd
delegation that gilbench cannot count on).

prctl is called through ctypes on the C library: the PyPI wrappers are unmaintained
(``python-prctl``, last release 2020, a C extension that needs the libcap headers; ``prctl``,
2010; ``pyprctl``, 2021), and the two calls needed are one line each. Everything here is Linux
only (prctl, ``/proc``); elsewhere it does nothing and :func:`available` is False.

This module imports only the standard library: the watcher runs it as a script with ``-I -S``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: Environment variable listing, comma-separated and outermost first, the owner tags
#: (``<pid>.<start ticks>``) of the gilbench processes whose lifeline covers a process.
ENV = "GILBENCH_LIFELINE"
#: Environment variable carrying a trial's unique id into its worker and all it starts.
TRIAL_ENV = "GILBENCH_TRIAL"
#: File in a throwaway cluster's directory: the owner tag of the gilbench process that made it.
MARKER = "gilbench-owner"

PR_SET_PDEATHSIG = 1  # prctl(2)
PR_SET_CHILD_SUBREAPER = 36  # prctl(2), Linux 3.4

log = logging.getLogger("gilbench")


def available() -> bool:
    """Whether the lifeline works here: Linux, with ``/proc``."""
    return sys.platform.startswith("linux") and os.path.isdir("/proc/self")


# ---------------------------------------------------------------------------
# /proc


@dataclass(frozen=True, eq=False)
class Proc:
    """A process as ``/proc/<pid>/stat`` shows it (proc(5)); ``start`` is its start time in
    clock ticks after boot, which with the pid names it uniquely (pids are reused): two Procs
    are equal when both are."""

    pid: int
    ppid: int
    pgrp: int
    session: int
    start: int
    state: str  # R, S, D, Z (zombie), X (dead), ...
    name: str = ""  # the command name (comm: 15 characters at most)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Proc) and (self.pid, self.start) == (other.pid, other.start)

    def __hash__(self) -> int:
        return hash((self.pid, self.start))

    @property
    def tag(self) -> str:
        """``<pid>.<start>``: the form owner tags take."""
        return f"{self.pid}.{self.start}"


def stat(pid: int) -> Proc | None:
    """``/proc/<pid>/stat`` of a process, or None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces and parentheses.
    close = data.rfind(b")")
    name = data[data.find(b"(") + 1 : close].decode(errors="replace")
    rest = data[close + 2 :].split()
    try:
        return Proc(
            pid, int(rest[1]), int(rest[2]), int(rest[3]), int(rest[19]), rest[0].decode(), name
        )
    except (IndexError, ValueError):
        return None


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def environ_value(pid: int, key: str) -> str | None:
    """The value of ``key`` in the environment a process was started with, or None (no such
    variable, no such process, or not ours to read)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            data = f.read()
    except OSError:
        return None
    prefix = key.encode() + b"="
    for entry in data.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode(errors="replace")
    return None


def cmdline(pid: int) -> str:
    """A process's command line (its title, for PostgreSQL's), arguments joined by spaces."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def processes() -> list[Proc]:
    """Every process visible in ``/proc`` that is not a zombie."""
    found = []
    for pid in _pids():
        info = stat(pid)
        if info is not None and info.state not in "ZXx":
            found.append(info)
    return found


def is_running(proc: Proc) -> bool:
    """Whether this very process (pid and start time) still runs (a zombie does not)."""
    now = stat(proc.pid)
    return now is not None and now.start == proc.start and now.state not in "ZXx"


def owner_alive(tag: str) -> bool:
    """Whether the process named by owner tag ``<pid>.<start>`` still runs. A malformed tag
    counts as alive: nothing is ended on its account."""
    try:
        pid, start = (int(part) for part in tag.split("."))
    except ValueError:
        return True
    return is_running(Proc(pid, 0, 0, 0, start, "?"))


def my_tag() -> str:
    """This process's owner tag, ``<pid>.<start ticks>``."""
    me = stat(os.getpid())
    return me.tag if me is not None else f"{os.getpid()}.0"


def tagged(key: str, value: str, among: Iterable[Proc] | None = None) -> list[Proc]:
    """Processes (not zombies) whose environment has ``key`` set to ``value``, or, for
    :data:`ENV`, to a list holding ``value``. Only processes this user may read are seen."""
    found = []
    for p in processes() if among is None else among:
        got = environ_value(p.pid, key)
        if got is not None and (got == value or (key == ENV and value in got.split(","))):
            found.append(p)
    return found


def descendants(pid: int, among: Iterable[Proc] | None = None) -> list[Proc]:
    """The live descendants of ``pid`` (children, their children, ...), from one ``/proc``
    scan."""
    children: dict[int, list[Proc]] = {}
    for p in processes() if among is None else among:
        children.setdefault(p.ppid, []).append(p)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child.pid)
    return found


def send(proc: Proc, sig: int) -> bool:
    """Send ``sig`` to this very process; False when it is gone, reused or not ours.

    Uses a pidfd (pidfd_open(2), Linux 5.3) so that the start time checked is that of the
    process signalled; without one, a check then kill(2)."""
    fd = None
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        fd = None
    try:
        if not is_running(proc):
            return False
        if fd is not None:
            signal.pidfd_send_signal(fd, sig)
        else:
            os.kill(proc.pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False
    finally:
        if fd is not None:
            os.close(fd)


def wait_gone(procs: Iterable[Proc], timeout: float) -> bool:
    """Wait up to ``timeout`` s until none of ``procs`` runs; True when none does."""
    left = list(procs)
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in left if is_running(p)]
        if not left:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def kill_all(find: Callable[[], Iterable[Proc]], passes: int = 10) -> set[Proc]:
    """SIGKILL what ``find()`` returns until it returns nothing (a process may start another
    while it is being ended), at most ``passes`` times; returns the processes signalled."""
    me = os.getpid()
    ended: set[Proc] = set()
    for _ in range(passes):
        batch = [p for p in find() if p.pid != me and p not in ended]
        hit = [p for p in batch if send(p, signal.SIGKILL)]
        if not hit:
            break
        ended.update(hit)
        wait_gone(hit, timeout=1.0)
    return ended


# ---------------------------------------------------------------------------
# prctl


_prctl_fn = None


def _prctl() -> Callable[..., int] | None:
    """libc's prctl(2) through ctypes, loaded once (in the parent: never first in a forked
    child), or None off Linux."""
    global _prctl_fn
    if _prctl_fn is None and available():
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).prctl
        fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        fn.restype = ctypes.c_int
        _prctl_fn = fn
    return _prctl_fn


def preexec(
    death_signal: int | None = signal.SIGKILL, subreaper: bool = False
) -> Callable[[], None] | None:
    """A ``preexec_fn`` for Popen that gives the child a parent-death signal and, with
    ``subreaper``, makes it a child subreaper (orphaned descendants reparent to it rather than
    to init); both survive execve(2) of a program that is not set-user-ID. None when there is
    nothing to do: not Linux, or no subreaper asked for and the caller is not the main thread
    (the signal would fire when the calling thread exits, prctl(2)). Popen runs it after it
    changed the user (``user=``), which would otherwise clear the setting."""
    prctl = _prctl()
    if prctl is None:
        return None
    if threading.current_thread() is not threading.main_thread():
        death_signal = None
    if death_signal is None and not subreaper:
        return None
    parent = os.getpid()

    def in_child() -> None:
        if subreaper:
            prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        if death_signal is not None:
            prctl(PR_SET_PDEATHSIG, int(death_signal), 0, 0, 0)
            if os.getppid() != parent:  # the parent died before the call: act on it now
                os.kill(os.getpid(), death_signal)

    return in_child


def owner() -> str:
    """This gilbench process's owner tag (``<pid>.<start ticks>``), as children and cluster
    markers record it."""
    if _state.tag is None:
        _state.tag = my_tag()
    return _state.tag


def tag_env(env: dict[str, str] | None) -> dict[str, str]:
    """``env`` (default: this process's environment) with this process's owner tag appended to
    :data:`ENV`, so that the watcher and later runs recognise the child and its descendants."""
    env = dict(os.environ if env is None else env)
    tags = [t for t in env.get(ENV, "").split(",") if t]
    mine = owner()
    if not tags or tags[-1] != mine:
        tags.append(mine)
    env[ENV] = ",".join(tags)
    return env


# ---------------------------------------------------------------------------
# The parent's side: the watcher's lifetime


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.watcher: subprocess.Popen | None = None
        self.wfd: int | None = None
        self.groups: dict[int, tuple[weakref.ref, int]] = {}  # pgid -> (Popen, leader start)
        self.clusters: set[str] = set()
        self.swept = False
        self.tag: str | None = None


_state = _State()


def _after_fork_in_child() -> None:
    # A forked copy of gilbench is not gilbench: it must not hold the lifeline open.
    global _state
    if _state.wfd is not None:
        with contextlib.suppress(OSError):
            os.close(_state.wfd)
    _state = _State()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _start_watcher() -> None:
    """Start the watcher and tell it what is registered (called with the lock held)."""
    s = _state
    tag = owner()
    rfd, wfd = os.pipe()  # not inheritable: only the watcher gets the read end, as its stdin
    try:
        s.watcher = subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__), "watch", tag],
            stdin=rfd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a signal to gilbench's group must not take it first
        )
    except OSError:
        os.close(wfd)
        s.watcher = None
        return
    finally:
        os.close(rfd)
    s.wfd = wfd
    for pgid, (_, start) in s.groups.items():
        _write(f"group {pgid} {start}")
    for tmpdir in s.clusters:
        _write(f"cluster {tmpdir}")


def _write(line: str) -> bool:
    s = _state
    if s.wfd is None:
        return False
    try:
        os.write(s.wfd, (line + "\n").encode())
        return True
    except OSError:  # the watcher died: a new one is started on the next request
        with contextlib.suppress(OSError):
            os.close(s.wfd)
        s.wfd = None
        return False


def _tell(line: str) -> None:
    """Send one request to the watcher, starting one (or a new one) when needed."""
    if not _write(line):
        _forget_watcher()
        _start_watcher()  # replays the registered groups and clusters, this one included


def _forget_watcher() -> None:
    # Popen reaps a dropped child that still runs the next time it starts one (its _active list).
    _state.watcher = None


def _close_if_idle() -> None:
    """Tell the watcher "bye" when nothing is registered (called with the lock held)."""
    s = _state
    for pgid, (ref, _) in list(s.groups.items()):
        proc = ref()
        # Dropped by its owner or ended by itself, never stopped, and nothing left in its group.
        if (proc is None or proc.poll() is not None) and not _group_members(pgid):
            del s.groups[pgid]
            _write(f"ungroup {pgid}")
    if s.groups or s.clusters or s.wfd is None:
        return
    _write("bye")
    if s.wfd is not None:
        os.close(s.wfd)
        s.wfd = None
    if s.watcher is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            s.watcher.wait(timeout=0.5)  # it exits on "bye" as soon as it has started
    _forget_watcher()


def _group_members(pgid: int) -> list[Proc]:
    return [p for p in processes() if p.pgrp == pgid] if available() else []


def _first_hold() -> None:
    s = _state
    if not s.swept:
        s.swept = True
        sweep_stale_processes()


def hold(proc: subprocess.Popen) -> None:
    """Put ``proc`` (started in a session of its own, so its pid is its process group) and its
    process group on the lifeline; :func:`release` takes it off. Does nothing off Linux."""
    if not available():
        return
    with _state.lock:
        _first_hold()
        info = stat(proc.pid)
        start = info.start if info is not None else 0
        _state.groups[proc.pid] = (weakref.ref(proc), start)
        _tell(f"group {proc.pid} {start}")


def release(proc: subprocess.Popen) -> None:
    """Take ``proc`` off the lifeline (it was stopped); the watcher exits with the last one.
    Idempotent."""
    with _state.lock:
        if _state.groups.pop(proc.pid, None) is not None:
            _write(f"ungroup {proc.pid}")
        _close_if_idle()


def watch_cluster(tmpdir: str) -> None:
    """Have the watcher stop the PostgreSQL cluster in ``tmpdir`` and remove the directory if
    gilbench dies before :func:`forget_cluster`. Does nothing off Linux."""
    if not available():
        return
    with _state.lock:
        _first_hold()
        _state.clusters.add(tmpdir)
        _tell(f"cluster {tmpdir}")


def forget_cluster(tmpdir: str) -> None:
    """The cluster in ``tmpdir`` was stopped and removed: the watcher need not. Idempotent."""
    with _state.lock:
        if tmpdir in _state.clusters:
            _state.clusters.discard(tmpdir)
            _write(f"forget {tmpdir}")
        _close_if_idle()


def watcher_pid() -> int | None:
    """The pid of this process's watcher while one runs (for tests), else None."""
    w = _state.watcher
    return w.pid if w is not None and w.poll() is None else None


# ---------------------------------------------------------------------------
# Ending what was left


def sweep_stale_processes() -> int:
    """End processes left running by a gilbench process that no longer exists: those whose
    innermost :data:`ENV` tag names a dead owner, run by this user. Says so in one log line
    when it ended any; returns how many. Run once per gilbench process, with its first child."""
    if not available():
        return 0
    me, uid = os.getpid(), os.geteuid()
    mine = _ancestors(me)
    owners: dict[str, bool] = {}
    dead_owners: set[str] = set()

    def find() -> list[Proc]:
        found = []
        for p in processes():
            if p.pid in mine or _uid(p.pid) != uid:
                continue
            tags = [t for t in (environ_value(p.pid, ENV) or "").split(",") if t]
            if not tags:
                continue
            owner = tags[-1]
            if owner not in owners:
                owners[owner] = owner_alive(owner)
            if not owners[owner]:
                found.append(p)
                dead_owners.add(owner)
        return found

    ended = kill_all(find)
    if ended:
        pids = ", ".join(sorted(t.split(".")[0] for t in dead_owners))
        log.warning(
            f"gilbench: ended {len(ended)} process(es) left running by an earlier gilbench run "
            f"that was killed (pid {pids})"
        )
    return len(ended)


def _uid(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _ancestors(pid: int) -> set[int]:
    found = set()
    while pid > 1 and pid not in found:
        found.add(pid)
        info = stat(pid)
        pid = info.ppid if info is not None else 0
    return found


def trial_descendants(worker_pid: int, trial_id: str) -> list[Proc]:
    """What a trial has started so far: the worker's live descendants (it is a subreaper, so
    this includes processes that left its session) and every process carrying the trial's
    :data:`TRIAL_ENV` tag (which finds them after the worker died). Empty off Linux."""
    if not available():
        return []
    everyone = processes()
    found = {p.pid: p for p in descendants(worker_pid, everyone)}
    for p in tagged(TRIAL_ENV, trial_id, everyone):
        found.setdefault(p.pid, p)
    found.pop(worker_pid, None)
    return list(found.values())


def end_leftovers(trial_id: str, seen: Iterable[Proc], group: int) -> int:
    """End (SIGKILL) what a trial left running after its process group ``group`` was stopped:
    the processes in ``seen`` (from :func:`trial_descendants`) and any carrying the trial's
    tag, outside ``group``. Returns how many were ended: the processes the trial leaked."""
    if not available():
        return 0
    seen = list(seen)

    def find() -> list[Proc]:
        now = processes()
        live = {p.pid: p for p in now}
        found = {p.pid: p for p in seen if live.get(p.pid) == p}
        for p in tagged(TRIAL_ENV, trial_id, now):
            found.setdefault(p.pid, p)
        return [p for p in found.values() if p.pgrp != group]

    return len(kill_all(find))


def remove_cluster(tmpdir: str, timeout: float = 4.0) -> bool:
    """Stop the throwaway PostgreSQL cluster in ``tmpdir`` (made by ``postgres.TempPostgres``:
    ``tmpdir/data`` holds it, every server process's command line names ``tmpdir``'s basename)
    and remove ``tmpdir``. Sends SIGQUIT, PostgreSQL's immediate shutdown (what
    ``pg_ctl stop -m immediate`` sends; run as root pg_ctl refuses to work), to the postmaster
    named in ``data/postmaster.pid``, waits up to ``timeout`` s, then SIGKILLs every process
    naming the cluster (initdb, a half-started server). True when the directory is gone."""
    tmpdir = tmpdir.rstrip("/")
    name = os.path.basename(tmpdir)

    def naming() -> list[Proc]:
        return [p for p in processes() if _names_cluster(p, name)]

    try:
        with open(os.path.join(tmpdir, "data", "postmaster.pid")) as f:
            pid = int(f.readline().strip())
    except (OSError, ValueError):
        pid = None
    postmaster = next((p for p in naming() if p.pid == pid), None)
    if postmaster is not None and send(postmaster, signal.SIGQUIT):
        wait_gone([postmaster], timeout)
    kill_all(naming)
    shutil.rmtree(tmpdir, ignore_errors=True)
    if os.path.exists(tmpdir):  # a file a dying server was still writing: once more
        time.sleep(0.1)
        shutil.rmtree(tmpdir, ignore_errors=True)
    return not os.path.exists(tmpdir)


# ---------------------------------------------------------------------------
# The watcher


def watch(owner: str, stream) -> int:
    """The watcher's loop: read requests (``group PGID START``, ``ungroup PGID``,
    ``cluster TMPDIR``, ``forget TMPDIR``, ``bye``) from ``stream`` (binary, line by line)
    until "bye" (return 0) or end of file: gilbench died, so end everything tagged ``owner``
    and every registered group's members, remove the registered clusters, and return 1."""
    groups: dict[int, int] = {}
    clusters: set[str] = set()
    for raw in stream:
        verb, _, arg = raw.decode(errors="replace").strip().partition(" ")
        if verb == "bye":
            return 0
        if verb == "group":
            pgid, _, start = arg.partition(" ")
            with contextlib.suppress(ValueError):
                groups[int(pgid)] = int(start or 0)
        elif verb == "ungroup":
            with contextlib.suppress(ValueError):
                groups.pop(int(arg), None)
        elif verb == "cluster":
            clusters.add(arg)
        elif verb == "forget":
            clusters.discard(arg)
    # End of file without "bye": the owner died (or closed its end without saying so).
    for tmpdir in clusters:  # immediate shutdown first: it runs while the rest is ended
        _quit_postmaster(tmpdir)

    def find() -> list[Proc]:
        everyone = processes()
        found = {p.pid: p for p in tagged(ENV, owner, everyone)}
        for p in everyone:
            if p.pgrp in groups and p.start >= groups[p.pgrp] and _group_is_ours(p.pgrp, groups):
                found.setdefault(p.pid, p)
        return list(found.values())

    kill_all(find)
    for tmpdir in clusters:
        remove_cluster(tmpdir)
    return 1


_SERVER_PROGRAMS = ("postgres", "initdb", "pg_ctl")


def _names_cluster(p: Proc, name: str) -> bool:
    """Whether ``p`` is a PostgreSQL program (initdb, the postmaster, a server process, whose
    title names the cluster) working on cluster ``name``."""
    return p.name in _SERVER_PROGRAMS and name in cmdline(p.pid)


def _group_is_ours(pgid: int, groups: dict[int, int]) -> bool:
    """Whether group ``pgid`` is still the one registered: its leader is gone, or is the
    process registered (same start time), not a newcomer that reused the pid."""
    leader = stat(pgid)
    return leader is None or leader.state in "ZXx" or leader.start == groups[pgid]


def _quit_postmaster(tmpdir: str) -> None:
    try:
        with open(os.path.join(tmpdir, "data", "postmaster.pid")) as f:
            pid = int(f.readline().strip())
    except (OSError, ValueError):
        return
    info = stat(pid)
    if info is not None and _names_cluster(info, os.path.basename(tmpdir.rstrip("/"))):
        send(info, signal.SIGQUIT)


def main(argv: list[str]) -> int:
    """``lifeline.py watch OWNER``: run :func:`watch` on stdin. Ignores SIGINT and SIGHUP (a
    Ctrl-C or a closed terminal is for gilbench, which then says "bye" or dies)."""
    if len(argv) != 2 or argv[0] != "watch":
        print("usage: lifeline.py watch OWNER_TAG", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    return watch(argv[1], sys.stdin.buffer)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
