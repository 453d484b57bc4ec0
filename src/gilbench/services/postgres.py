"""A throwaway PostgreSQL cluster that gilbench starts for itself.

``TempPostgres`` runs ``initdb`` into a fresh temporary directory and starts
``postgres`` on it, listening only on 127.0.0.1 (a free port) and on a unix socket in
that directory, with durability switched off (fsync, synchronous_commit,
full_page_writes): the data is thrown away with the directory when it stops.

PostgreSQL refuses to run as root, so when gilbench runs as root the server runs as
the ``postgres`` system user (privileges dropped in the child only).

    with TempPostgres() as pg:
        psycopg.connect(pg.dsn)

``python -m gilbench.services.postgres`` starts one, prints
``GILBENCH-POSTGRES-DSN <dsn>`` and runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from types import TracebackType

from gilbench.services import _process, lifeline

READY_PREFIX = "GILBENCH-POSTGRES-DSN"
SUPERUSER = "postgres"
DEFAULT_RUN_AS = "postgres"
INSTALL_HINT = "apt-get install postgresql-15"
# Unix socket paths are limited to 107 bytes; the socket file is ".s.PGSQL.<port>".
_MAX_SOCKET_DIR = 107 - len("/.s.PGSQL.65535")

#: Server settings for a throwaway benchmark cluster (durability off, small memory).
DEFAULT_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "1GB",
    "checkpoint_timeout": "30min",
    "jit": "off",  # JIT compile times would add noise to query latencies
    "log_min_messages": "warning",
    "log_checkpoints": "off",
}


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be started: binaries missing, initdb or startup failed."""


# ---------------------------------------------------------------------------
# Finding the binaries


def _has_server(bindir: str) -> bool:
    return all(os.access(os.path.join(bindir, b), os.X_OK) for b in ("initdb", "postgres"))


def _version_key(path: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin
    name = os.path.basename(os.path.dirname(path))
    return tuple(int(p) for p in re.findall(r"\d+", name)) or (0,)


def find_pg_bindir() -> str | None:
    """The directory holding ``initdb`` and ``postgres``, or None.

    Looks at ``$GILBENCH_PG_BINDIR``, then ``PATH``, then ``pg_config --bindir``,
    then the highest version under ``/usr/lib/postgresql/*/bin``.
    """
    override = os.environ.get("GILBENCH_PG_BINDIR")
    if override and _has_server(override):
        return override
    initdb = shutil.which("initdb")
    if initdb:
        for d in (os.path.dirname(os.path.realpath(initdb)), os.path.dirname(initdb)):
            if _has_server(d):
                return d
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and _has_server(out):
            return out
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        if _has_server(d):
            return d
    return None


# ---------------------------------------------------------------------------
# Helpers


def _traversable_by(path: str, uid: int, gids: set[int]) -> bool:
    """Whether user ``uid`` (groups ``gids``) can reach ``path`` (x on every component)."""
    path = os.path.abspath(path)
    parts = [path]
    while parts[-1] != os.path.dirname(parts[-1]):
        parts.append(os.path.dirname(parts[-1]))
    for p in parts:
        try:
            st = os.stat(p)
        except OSError:
            return False
        if st.st_uid == uid:
            ok = st.st_mode & stat.S_IXUSR
        elif st.st_gid in gids:
            ok = st.st_mode & stat.S_IXGRP
        else:
            ok = st.st_mode & stat.S_IXOTH
        if not ok:
            return False
    return True


def _tail(text: str, n: int = 5) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[-n:]) or "(no output)"


def _read_tail(path: str, n: int = 5) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return _tail(f.read(), n)
    except OSError:
        return "(no log)"


def _clean_env() -> dict[str, str]:
    """This environment without libpq/server variables, with C messages (we parse the log)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env.pop("LANGUAGE", None)
    return env


# Instances not yet stopped, stopped at interpreter exit if the caller forgot.
_LIVE: set[TempPostgres] = set()
_LIVE_LOCK = threading.Lock()


def _stop_all_at_exit() -> None:
    with _LIVE_LOCK:
        live = list(_LIVE)
    for pg in live:
        with contextlib.suppress(Exception):
            pg.stop()


atexit.register(_stop_all_at_exit)


# ---------------------------------------------------------------------------
# The cluster


class TempPostgres:
    """A temporary PostgreSQL cluster: ``with TempPostgres() as pg: pg.dsn``.

    ``settings`` override/extend :data:`DEFAULT_SETTINGS`. ``run_as`` is the system user
    the server runs as when gilbench is root (default ``postgres``); when not root the
    server runs as the current user. ``new_session=False`` keeps the server in the
    caller's process group, so that killing the caller's group also ends the server
    (used by the ``python -m`` CLI, which is itself spawned in its own session).
    """

    def __init__(
        self,
        *,
        bindir: str | None = None,
        settings: Mapping[str, object] | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        base_dir: str | None = None,
        run_as: str | None = None,
        new_session: bool = True,
    ) -> None:
        self.bindir = bindir
        self.settings = dict(DEFAULT_SETTINGS)
        if settings:
            self.settings.update({k: str(v) for k, v in settings.items()})
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.base_dir = base_dir
        self.run_as = run_as
        self.new_session = new_session

        self.tmpdir: str | None = None
        self.datadir: str | None = None
        self.logfile: str | None = None
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.start_seconds: float | None = None  # initdb + startup wall time
        self.stop_seconds: float | None = None
        self._user: pwd.struct_passwd | None = None
        self._log = None
        self._lock = threading.RLock()
        self._stopped = False

    # -- connection strings ------------------------------------------------

    def _need_port(self) -> int:
        if self.port is None or self.proc is None:
            raise RuntimeError("TempPostgres not started")
        return self.port

    @property
    def dsn(self) -> str:
        """libpq key/value DSN over TCP on 127.0.0.1 (superuser ``postgres``, no password)."""
        return f"host=127.0.0.1 port={self._need_port()} dbname=postgres user={SUPERUSER}"

    @property
    def url(self) -> str:
        """The same as :attr:`dsn` as a ``postgresql://`` URL."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self._need_port()}/postgres"

    @property
    def socket_dsn(self) -> str:
        """DSN over the unix socket in the temp directory (readable by root and the server
        user)."""
        return f"host={self.tmpdir} port={self._need_port()} dbname=postgres user={SUPERUSER}"

    @property
    def pid(self) -> int | None:
        """The postmaster's pid (its process group id too when ``new_session``)."""
        return self.proc.pid if self.proc is not None else None

    # -- start ---------------------------------------------------------------

    def _popen_user_kwargs(self) -> dict:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def _resolve_user(self) -> None:
        if os.geteuid() != 0:
            self._user = None
            return
        name = self.run_as or DEFAULT_RUN_AS
        try:
            self._user = pwd.getpwnam(name)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root but there is no '{name}' system user to run PostgreSQL as; "
                f"create it with: {INSTALL_HINT} (or useradd --system {name})"
            ) from None

    def _bases(self) -> list[str]:
        """The directories a cluster's temporary directory may be made in, in order."""
        return [self.base_dir] if self.base_dir else [tempfile.gettempdir(), "/tmp"]

    def _make_tmpdir(self) -> str:
        candidates = self._bases()
        for base in candidates:
            if base is None or not os.path.isdir(base):
                continue
            if len(os.path.join(os.path.abspath(base), "gilbench-pg-xxxxxxxx")) > _MAX_SOCKET_DIR:
                continue
            if self._user is not None:
                gids = {self._user.pw_gid} | {g.gr_gid for g in _groups_of(self._user.pw_name)}
                if not _traversable_by(base, self._user.pw_uid, gids):
                    continue
            tmp = tempfile.mkdtemp(prefix="gilbench-pg-", dir=base)  # mode 0700
            if self._user is not None:
                os.chown(tmp, self._user.pw_uid, self._user.pw_gid)
            return tmp
        who = self._user.pw_name if self._user else "the current user"
        raise PostgresUnavailable(
            f"no temporary directory base usable by {who} "
            f"(tried {', '.join(c for c in candidates if c)}): "
            "it must be traversable by that user and short enough for a unix socket path; "
            + ("pass another base_dir" if self.base_dir else "set TMPDIR=/tmp")
        )

    def start(self) -> TempPostgres:
        """initdb into a fresh temporary directory, start ``postgres`` on a free port and wait
        up to ``startup_timeout`` seconds for it to be ready (``start_seconds`` records how
        long it took). Returns self; a second call does nothing. Raises
        :class:`PostgresUnavailable` (binaries missing, no usable directory, initdb or startup
        failed) after cleaning up everything it made."""
        with self._lock:
            if self.proc is not None:
                return self
            t0 = time.monotonic()
            bindir = self.bindir or find_pg_bindir()
            if bindir is None or not _has_server(bindir):
                raise PostgresUnavailable(
                    "PostgreSQL server binaries (initdb, postgres) not found on PATH, via "
                    "pg_config --bindir or under /usr/lib/postgresql/*/bin; install them with: "
                    f"{INSTALL_HINT} "
                    "(or set GILBENCH_PG_BINDIR, or give the DSN of an existing server)"
                )
            self.bindir = bindir
            self._resolve_user()
            self._stopped = False
            sweep_stale_clusters(self._bases())
            self.tmpdir = self._make_tmpdir()
            with _LIVE_LOCK:
                _LIVE.add(self)
            try:
                _mark_owner(self.tmpdir)
                lifeline.watch_cluster(self.tmpdir)
                self._initdb()
                self._start_server()
            except BaseException:
                self.stop()
                raise
            self.start_seconds = time.monotonic() - t0
            return self

    def _initdb(self) -> None:
        assert self.tmpdir and self.bindir
        self.datadir = os.path.join(self.tmpdir, "data")
        argv = [
            os.path.join(self.bindir, "initdb"),
            "-D",
            self.datadir,
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]
        try:
            res = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                cwd=self.tmpdir,
                env=_clean_env(),
                start_new_session=True,
                timeout=max(self.startup_timeout, 60.0),
                check=False,
                preexec_fn=lifeline.preexec(signal.SIGKILL),  # after the user change
                **self._popen_user_kwargs(),
            )
        except subprocess.TimeoutExpired as exc:
            raise PostgresUnavailable(f"initdb timed out after {exc.timeout:.0f} s") from None
        except OSError as exc:
            raise PostgresUnavailable(f"could not run initdb: {exc}") from None
        if res.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed (exit {res.returncode}): {_tail(res.stdout + res.stderr)}"
            )

    def _server_argv(self, port: int) -> list[str]:
        assert self.tmpdir and self.bindir and self.datadir
        settings = dict(self.settings)
        settings.update(
            {
                "listen_addresses": "127.0.0.1",
                "unix_socket_directories": self.tmpdir,
                "port": str(port),
                # Shows in every server process title, so they can be found by cmdline.
                "cluster_name": os.path.basename(self.tmpdir),
            }
        )
        argv = [os.path.join(self.bindir, "postgres"), "-D", self.datadir]
        for k, v in settings.items():
            argv += ["-c", f"{k}={v}"]
        return argv

    def _start_server(self) -> None:
        assert self.tmpdir
        self.logfile = os.path.join(self.tmpdir, "postgres.log")
        self._log = open(self.logfile, "ab")
        deadline = time.monotonic() + self.startup_timeout
        for _attempt in range(5):
            port = _process.free_port()
            kwargs = self._popen_user_kwargs()
            try:
                proc = subprocess.Popen(
                    self._server_argv(port),
                    env=_clean_env(),
                    stdin=subprocess.DEVNULL,
                    stdout=self._log,
                    stderr=subprocess.STDOUT,
                    cwd=self.tmpdir,
                    start_new_session=self.new_session,
                    # If gilbench dies: SIGQUIT, PostgreSQL's immediate shutdown, which also
                    # frees its shared memory (SIGKILL would leave that behind).
                    preexec_fn=lifeline.preexec(signal.SIGQUIT),
                    **kwargs,
                )
            except OSError as exc:
                raise PostgresUnavailable(f"could not run postgres: {exc}") from None
            self.proc, self.port = proc, port
            state = self._wait_ready(deadline)
            if state == "ready":
                return
            log = _read_tail(self.logfile, 8)
            self._kill_server()
            if state == "exited" and re.search(r"could not bind|Address already in use", log):
                continue  # lost a race for the port: try another one
            if state == "timeout":
                raise PostgresUnavailable(
                    f"postgres not ready after {self.startup_timeout:.0f} s: {log}"
                )
            raise PostgresUnavailable(f"postgres exited with code {proc.returncode}: {log}")
        raise PostgresUnavailable(
            f"postgres could not bind a free port on 127.0.0.1: {_read_tail(self.logfile)}"
        )

    def _wait_ready(self, deadline: float) -> str:
        """Poll postmaster.pid until its status line says ``ready``."""
        assert self.proc and self.datadir
        pidfile = os.path.join(self.datadir, "postmaster.pid")
        delay = 0.005
        while True:
            if self.proc.poll() is not None:
                return "exited"
            try:
                with open(pidfile) as f:
                    lines = f.read().splitlines()
                # line 1: pid, 4: port, 8: status (starting/stopping/ready/standby)
                if (
                    len(lines) >= 8
                    and lines[0].strip() == str(self.proc.pid)
                    and lines[7].strip() == "ready"
                ):
                    return "ready"
            except OSError:
                pass
            if time.monotonic() > deadline:
                return "timeout"
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)

    # -- stop ----------------------------------------------------------------

    def _kill_server(self) -> None:
        """Fast shutdown (SIGINT to the postmaster), then SIGKILL whatever is left."""
        proc = self.proc
        if proc is None:
            return
        survivors = []
        if proc.poll() is None:
            try:
                import psutil

                survivors = psutil.Process(proc.pid).children(recursive=True)
            except Exception:
                survivors = []
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            if self.new_session:
                _process.stop(proc, grace=2.0)  # SIGTERM then SIGKILL the process group
            else:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
        # Server children each run in a session of their own (postgres calls setsid), so
        # the group kill above does not reach them. After a clean fast shutdown the
        # postmaster has reaped them all; after a SIGKILL of the postmaster some could
        # remain: end the ones we saw, and any other whose title names this cluster.
        for child in survivors:
            with contextlib.suppress(Exception):
                if child.is_running():
                    child.kill()
        self._sweep()
        self.proc = None

    def _sweep(self) -> None:
        """SIGKILL leftover processes whose command line names this cluster's directory."""
        if not self.tmpdir:
            return
        tag = os.path.basename(self.tmpdir)
        try:
            import psutil
        except ImportError:
            return
        uid = self._user.pw_uid if self._user is not None else os.getuid()
        for p in psutil.process_iter(["name", "uids", "cmdline"]):
            with contextlib.suppress(Exception):
                if (
                    p.info["name"] == "postgres"
                    and p.info["uids"].real == uid
                    and any(tag in a for a in (p.info["cmdline"] or ()))
                ):
                    p.kill()

    def stop(self) -> None:
        """Shut the server down (fast shutdown, SIGKILL after ``stop_timeout`` seconds) and remove
        the temporary directory; ``stop_seconds`` records how long it took. Idempotent."""
        with self._lock:
            if self._stopped:
                return
            t0 = time.monotonic()
            try:
                self._kill_server()
            finally:
                if self._log is not None:
                    with contextlib.suppress(OSError):
                        self._log.close()
                    self._log = None
                if self.tmpdir is not None:
                    shutil.rmtree(self.tmpdir, ignore_errors=True)
                    if os.path.exists(self.tmpdir):
                        # e.g. a file the server was still writing: one more try.
                        time.sleep(0.1)
                        shutil.rmtree(self.tmpdir, ignore_errors=True)
                    lifeline.forget_cluster(self.tmpdir)
                with _LIVE_LOCK:
                    _LIVE.discard(self)
                self._stopped = True
                self.stop_seconds = time.monotonic() - t0

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.proc is not None else "stopped"
        return f"<TempPostgres {state} port={self.port} dir={self.tmpdir}>"


def _mark_owner(tmpdir: str) -> None:
    """Record in ``tmpdir`` which gilbench process made it (its owner tag), so that a later run
    can tell a cluster left by a killed run from one in use (:func:`sweep_stale_clusters`)."""
    with open(os.path.join(tmpdir, lifeline.MARKER), "w") as f:
        f.write(lifeline.owner() + "\n")


def sweep_stale_clusters(bases: list[str]) -> list[str]:
    """Stop and remove the throwaway clusters under ``bases`` (``gilbench-pg-*`` directories)
    whose marker names a gilbench process that no longer runs and was written by this user;
    a directory without a marker is left alone (it may be one being made). Says so in one log
    line per cluster (logger ``gilbench``); returns the directories removed. Linux only."""
    if not lifeline.available():
        return []
    removed = []
    for base in dict.fromkeys(bases):
        for tmpdir in glob.glob(os.path.join(glob.escape(base), "gilbench-pg-*")):
            marker = os.path.join(tmpdir, lifeline.MARKER)
            try:
                if os.stat(marker).st_uid != os.geteuid():
                    continue
                with open(marker) as f:
                    owner = f.read().strip()
            except OSError:
                continue
            if not owner or lifeline.owner_alive(owner):
                continue
            if lifeline.remove_cluster(tmpdir):
                removed.append(tmpdir)
                lifeline.log.warning(
                    "gilbench: removed a PostgreSQL cluster left running by an earlier gilbench "
                    f"run that was killed (pid {owner.split('.')[0]}): {tmpdir}"
                )
    return removed


def _groups_of(user: str):
    import grp

    return [g for g in grp.getgrall() if user in g.gr_mem]


@contextlib.contextmanager
def resolve_dsn(dsn: str | None, **kwargs) -> Iterator[str]:
    """Yield ``dsn`` unchanged if given, else the DSN of a TempPostgres run for the block."""
    if dsn:
        yield dsn
        return
    with TempPostgres(**kwargs) as pg:
        yield pg.dsn


# ---------------------------------------------------------------------------
# CLI


class _Stop(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    """``python -m gilbench.services.postgres``: start a cluster, print
    ``GILBENCH-POSTGRES-DSN <dsn>``, run until SIGTERM/SIGINT. Exit status 0 when stopped by a
    signal, 1 when postgres exited by itself, 2 when it could not start (the reason on stderr)."""
    parser = argparse.ArgumentParser(
        description="Start a throwaway PostgreSQL cluster until SIGTERM."
    )
    parser.add_argument("--startup-timeout", type=float, default=30.0)
    parser.add_argument(
        "-c",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra server setting (repeatable)",
    )
    args = parser.parse_args(argv)
    settings = {}
    for item in args.settings:
        k, sep, v = item.partition("=")
        if not sep:
            parser.error(f"-c expects NAME=VALUE, got {item!r}")
        settings[k] = v

    def on_signal(signum, frame):
        # Ignore repeats so that they cannot interrupt the shutdown.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise _Stop(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        # Same process group as this CLI: whoever kills our group also ends the server.
        with TempPostgres(
            settings=settings, startup_timeout=args.startup_timeout, new_session=False
        ) as pg:
            print(f"{READY_PREFIX} {pg.dsn}", flush=True)
            while pg.proc is not None and pg.proc.poll() is None:
                time.sleep(0.5)
            print(f"postgres exited unexpectedly: {_read_tail(pg.logfile or '')}", file=sys.stderr)
            return 1
    except _Stop:
        return 0
    except PostgresUnavailable as exc:
        print(f"PostgresUnavailable: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
