"""Serve the user's own web app under a real server, one configuration at a time.

``AppServer`` runs the user's ``module:attribute`` from the user's directory:

- an ASGI app (FastAPI, Starlette) under Uvicorn, through :mod:`.asgi_wrap`, which sets
  AnyIO's thread limiter (how many ``def`` endpoints run at once) in each worker;
- a WSGI app (Flask, Django) under Gunicorn with ``sync`` workers (one request at a time per
  process) or ``gthread`` workers (``threads`` requests at a time per process).

Same life cycle and hygiene as :class:`.server.UvicornServer`: the server runs in its own
process group on gilbench's lifeline (``services._process.spawn``), logs to a temporary file
(nobody must drain a pipe), binds 127.0.0.1 only, and ``stop`` (idempotent, from ``__exit__``,
and from ``start`` when it fails or is interrupted) ends every process of the group:

    [explicit port free?] -> spawn -> every worker booted (log) -> one HTTP request answered
                          -> measure (cpu_seconds() before/after) -> SIGTERM group, SIGKILL

Readiness accepts *any* HTTP response to the readiness request (a 500 is the app's answer,
recorded in ``first_status``, not a server that is still starting).

Gunicorn oddities handled here: its ``sync`` worker with ``--threads`` > 1 silently becomes
``gthread`` (so ``ServerConfig`` refuses it); since 25.1 it opens a control socket at a fixed
per-user path (``$XDG_RUNTIME_DIR/gunicorn.ctl`` or ``~/.gunicorn/gunicorn.ctl``), removing the
one of any other Gunicorn the user runs, so it is disabled (``--no-control-socket``); and an
app that fails to import makes the master exit with "Worker failed to boot." as its last words,
so the error message picks the app's own exception line out of the log. Gunicorn still reads a
``gunicorn.conf.py`` in the user's directory (and ``GUNICORN_CMD_ARGS``), as it would when the
user runs it there; the command-line settings below take precedence over both.
"""

from __future__ import annotations

import errno
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import asdict, dataclass
from typing import IO

import psutil

from gilbench.services import _process
from gilbench.weblab.server import LoggedServer, group_cpu_seconds

# The wrapper and its settings (as in asgi_wrap.py, which is not imported here: importing it
# imports the user's app).
ASGI_WRAPPER = "gilbench.weblab.asgi_wrap:app"
USER_APP_ENV = "GILBENCH_USER_APP"
THREADPOOL_ENV = "GILBENCH_THREADPOOL"
SERVERS = ("uvicorn", "gunicorn")
GUNICORN_WORKERS = ("sync", "gthread")
# Starlette's default: AnyIO's default thread limiter has 40 tokens.
DEFAULT_UVICORN_THREADS = 40
BIND_RETRIES = 3
GRACEFUL_SHUTDOWN_S = 2  # Uvicorn --timeout-graceful-shutdown, Gunicorn --graceful-timeout
STOP_GRACE_S = GRACEFUL_SHUTDOWN_S + 3.0
# After a failed start there is nothing in flight to drain: do not wait long for a clean exit.
FAILED_STOP_GRACE_S = 1.0
READY_REQUEST_TIMEOUT_S = 5.0
UVICORN_BOOTED = b"Application startup complete."  # per worker, with or without lifespan
# Uvicorn's supervisor restarts a worker that died (of anything but a startup failure): before
# every worker has started, that is a crash loop, not a server about to be ready.
UVICORN_WORKER_DIED = re.compile(rb"Child process \[\d+\] died")
GUNICORN_BOOTED = b"Booting worker with pid"
LOG_TAIL_BYTES = 64 * 1024
# What a server logs when the port is taken (Uvicorn: errno text; Gunicorn: "Connection in use").
PORT_TAKEN = ("address already in use", "connection in use")


@dataclass(frozen=True)
class ServerConfig:
    """One way of serving the app.

    ``threads``: for Uvicorn, AnyIO's thread limiter (how many ``def`` endpoints run at once
    per worker; Starlette's default is 40); for Gunicorn ``gthread``, ``--threads``; for
    Gunicorn ``sync``, 1. Raises ValueError for anything else.
    """

    server: str
    worker_class: str
    workers: int
    threads: int

    def __post_init__(self) -> None:
        if self.server not in SERVERS:
            raise ValueError(f"server must be one of {', '.join(SERVERS)}, got {self.server!r}")
        allowed = ("uvicorn",) if self.server == "uvicorn" else GUNICORN_WORKERS
        if self.worker_class not in allowed:
            raise ValueError(
                f"{self.server} worker class must be one of {', '.join(allowed)}, "
                f"got {self.worker_class!r}"
            )
        for name in ("workers", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.worker_class == "sync" and self.threads != 1:
            # Gunicorn would silently run gthread workers instead (its --threads docs).
            raise ValueError(
                f"gunicorn sync workers run one thread each, got threads={self.threads} "
                "(use worker_class='gthread')"
            )

    def label(self) -> str:
        """``uvicorn 2 workers x 40 threads``, ``gunicorn sync 2 workers``,
        ``gunicorn gthread 2 workers x 4 threads``."""
        workers = f"{self.workers} worker{'s' if self.workers != 1 else ''}"
        threads = f"{self.threads} thread{'s' if self.threads != 1 else ''}"
        if self.server == "uvicorn":
            return f"uvicorn {workers} x {threads}"
        if self.worker_class == "sync":
            return f"gunicorn sync {workers}"
        return f"gunicorn {self.worker_class} {workers} x {threads}"

    def to_dict(self) -> dict:
        """``{"server", "worker_class", "workers", "threads"}``; :meth:`from_dict` reads it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ServerConfig:
        return cls(
            server=data["server"],
            worker_class=data["worker_class"],
            workers=int(data["workers"]),
            threads=int(data["threads"]),
        )


class PortInUse(_process.ServiceError):
    """The explicit port asked for is taken (by the process named, when it can be seen)."""


def check_port(port: int, host: str = "127.0.0.1") -> None:
    """Raise :class:`PortInUse` when a server could not bind ``host:port``.

    Binds with SO_REUSEADDR, as Uvicorn and Gunicorn do, so a port with only TIME_WAIT
    connections left counts as free, as it is for them."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
        else:
            return
    owner = port_owner(port)
    raise PortInUse(f"port {port} is in use" + (f" by {owner}" if owner else ""))


def port_owner(port: int) -> str | None:
    """``pid 1234 (python -m http.server)`` for the process listening on ``port``, or None when
    it cannot be seen (another user's process, or no permission to list sockets)."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return None
    ours = [c for c in connections if c.laddr and c.laddr.port == port and c.pid]
    ours.sort(key=lambda c: c.status != psutil.CONN_LISTEN)  # listeners first
    for conn in ours:
        try:
            argv = psutil.Process(conn.pid).cmdline()
        except psutil.Error:
            return f"pid {conn.pid}"
        if not argv:
            return f"pid {conn.pid}"
        command = " ".join([os.path.basename(argv[0]), *argv[1:]])
        if len(command) > 80:
            command = command[:77] + "..."
        return f"pid {conn.pid} ({command})"
    return None


_TRACEBACK = "Traceback (most recent call last):"
# Exceptions of the servers themselves, e.g. Gunicorn's master dying of
# ``gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>`` after the app's.
_SERVER_EXCEPTIONS = ("gunicorn.", "uvicorn.", "SystemExit", "KeyboardInterrupt")


def error_line(text: str) -> str | None:
    """The app's exception line (``ModuleNotFoundError: No module named 'nope'``) in a log, or
    None: the last exception line of a Python traceback (its first unindented line after the
    "Traceback" header) that is not the server's own (``_SERVER_EXCEPTIONS``), else the last."""
    lines = text.splitlines()
    found: list[str] = []
    for i, header in enumerate(lines):
        if not header.strip().endswith(_TRACEBACK):
            continue
        for line in lines[i + 1 :]:
            if line.strip() and not line[0].isspace():
                if not line.strip().endswith(_TRACEBACK):
                    found.append(line.strip())
                break
    apps = [line for line in found if not line.startswith(_SERVER_EXCEPTIONS)]
    return (apps or found or [None])[-1]


# Gunicorn's log prefix, "[2026-01-31 12:00:00 +0000] [1234] ": dropped from error messages.
_GUNICORN_PREFIX = re.compile(r"^\[[^\]]*\] \[\d+\] ")


def failure_detail(text: str, server: str, lines: int = 3) -> str:
    """What a failed start's log says, in one line: the app's own error first (``error_line``;
    for Gunicorn, else the last plain line a worker printed, e.g. "Failed to find attribute
    'app' in 'main'."), then the last ``lines`` lines that are not traceback frames, joined by
    " | "."""
    kept: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line[0].isspace() or line.strip().endswith(_TRACEBACK):
            continue  # blank, a traceback's frames and source lines, its header
        if line.startswith("During handling of the above exception"):
            continue
        line = _GUNICORN_PREFIX.sub("", line.strip())
        if not kept or kept[-1] != line:
            kept.append(line)
    found = error_line(text)
    if found is None and server == "gunicorn":
        # A worker prints the message of an app it could not load (AppImportError) bare.
        plain = [line for line in kept if not line.startswith("[")]
        found = plain[-1] if plain else None
    tail = kept[-lines:]
    if found and found not in tail:
        tail.insert(0, found)
    return " | ".join(tail)


def request(url: str, method: str, body: str | None, headers, timeout: float) -> tuple[int, str]:
    """One request with the standard library: ``(status, first line of the body)``.
    Raises OSError (http.client's errors included) when no answer comes."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=body, headers=dict(headers))
        response = conn.getresponse()
        text = response.read(2000).decode(errors="replace").strip()
        return response.status, (text.splitlines() or [""])[0][:200]
    except http.client.HTTPException as exc:
        raise OSError(f"{type(exc).__name__}: {exc}") from None
    finally:
        conn.close()


def ready_status(port: int, method: str, path: str, timeout: float) -> int | None:
    """The HTTP status of one ``method path`` request to 127.0.0.1:``port``, or None when no
    HTTP response came (refused, reset). Raises TimeoutError when nothing came in ``timeout``
    seconds (a server that accepted the request but whose endpoint does not answer)."""
    try:
        return request(f"http://127.0.0.1:{port}{path}", method, None, (), timeout)[0]
    except TimeoutError:
        raise
    except OSError:
        return None


class AppServer(LoggedServer):
    """The user's app under a real server: ``with AppServer(...) as s: s.url``.

    ``target`` is ``module:attribute`` importable from ``cwd`` (the user's directory, also the
    server's working directory). ``ready_path`` (with ``ready_method``) is requested once every
    worker has booted; any HTTP response means ready. ``env`` is added to the server's
    environment. ``port`` None picks a free one (retrying when it is taken meanwhile); an
    explicit port that is taken raises :class:`PortInUse` before anything starts.
    """

    stop_grace = STOP_GRACE_S

    def __init__(
        self,
        target: str,
        config: ServerConfig,
        *,
        cwd: str,
        ready_path: str,
        ready_method: str = "GET",
        env: dict[str, str] | None = None,
        python: str = sys.executable,
        port: int | None = None,
        startup_timeout: float = 30.0,
    ):
        module, _, attribute = target.partition(":")
        if not module or not attribute:
            raise ValueError(f"app must be MODULE:ATTRIBUTE, got {target!r}")
        if not ready_path.startswith("/"):
            raise ValueError(f"ready path must start with '/', got {ready_path!r}")
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"port must be 1-65535, got {port}")
        self.target = target
        self.config = config
        self.cwd = os.path.abspath(cwd)
        self.ready_path = ready_path
        self.ready_method = ready_method.upper()
        self.extra_env = dict(env or {})
        self.python = python
        self.requested_port = port
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.first_status: int | None = None
        self.proc: subprocess.Popen | None = None
        self._pgid: int | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; raises RuntimeError before :meth:`start`."""
        if self.port is None:
            raise RuntimeError(f"{self.config.server} not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pgid(self) -> int:
        """The process group of the server and its workers (still the last one's after
        :meth:`stop`, to check that it is gone); RuntimeError before :meth:`start`."""
        if self._pgid is None:
            raise RuntimeError(f"{self.config.server} not started")
        return self._pgid

    def argv(self, port: int) -> list[str]:
        """The server's command line for ``port`` (options as in each server's settings docs)."""
        c = self.config
        if c.server == "uvicorn":
            return [
                self.python, "-m", "uvicorn", ASGI_WRAPPER,
                "--app-dir", self.cwd,
                "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(c.workers),
                "--loop", "uvloop", "--http", "httptools",
                "--no-access-log", "--log-level", "info",
                "--timeout-graceful-shutdown", str(GRACEFUL_SHUTDOWN_S),
                "--backlog", "4096",
            ]  # fmt: skip
        threads = ["--threads", str(c.threads)] if c.worker_class == "gthread" else []
        return [
            self.python, "-m", "gunicorn",
            "--chdir", self.cwd,
            "-k", c.worker_class, "--workers", str(c.workers), *threads,
            "--bind", f"127.0.0.1:{port}", "--backlog", "4096",
            "--graceful-timeout", str(GRACEFUL_SHUTDOWN_S), "--timeout", "120",
            "--log-level", "info", "--error-logfile", "-",
            "--worker-tmp-dir", "/dev/shm",
            "--no-control-socket",
            self.target,
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        """The server's environment: gilbench's child environment, the wrapper's settings
        (Uvicorn), then the caller's ``env``."""
        extra: dict[str, str] = {}
        if self.config.server == "uvicorn":
            extra[USER_APP_ENV] = self.target
            extra[THREADPOOL_ENV] = str(self.config.threads)
        extra.update(self.extra_env)
        return _process.child_env(extra)

    def start(self) -> AppServer:
        """Start the server and wait up to ``startup_timeout`` s until it is ready (module
        docstring). Returns self; raises PortInUse, or ServiceError with the log's informative
        lines, after stopping everything it started."""
        if self.requested_port is not None:
            check_port(self.requested_port)
        attempts = 1 if self.requested_port is not None else BIND_RETRIES
        last_error = ""
        for _ in range(attempts):
            port = self.requested_port or _process.free_port()
            try:
                self._spawn(port)
                self._wait_ready()
                return self
            except _process.ServiceError as exc:
                last_error = str(exc)
                self._stop(FAILED_STOP_GRACE_S)
                if not any(text in last_error.lower() for text in PORT_TAKEN):
                    break
            except BaseException:  # Ctrl-C while starting: ``__exit__`` will not run, so stop here
                self._stop(FAILED_STOP_GRACE_S)
                raise
        raise _process.ServiceError(
            f"{self.config.label()} did not serve {self.target}: {last_error}"
        )

    def _spawn(self, port: int) -> None:
        self._log = tempfile.TemporaryFile()  # a file, not a pipe: nobody must drain it
        self.port = port
        self.first_status = None
        self.proc = _process.spawn(
            self.argv(port),
            env=self.env(),
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,  # the app's prints too: they may say why it failed
            stderr=subprocess.STDOUT,
        )
        self._pgid = self.proc.pid  # the leader of its own session

    def _booted_line(self) -> bytes:
        return UVICORN_BOOTED if self.config.server == "uvicorn" else GUNICORN_BOOTED

    def _wait_ready(self) -> None:
        """Every worker logged that it booted, then one request got an HTTP response."""
        assert self.proc is not None and self.port is not None
        deadline = time.monotonic() + self.startup_timeout
        booted = self._booted_line()
        unanswered = False  # a request went in and nothing came back: the endpoint hangs
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise _process.ServiceError(
                    f"exited with code {self.proc.returncode}: {self._failure_detail()}"
                )
            log = self._log_text()
            if self.config.server == "uvicorn" and UVICORN_WORKER_DIED.search(log):
                raise _process.ServiceError(
                    f"a worker died while starting: {self._failure_detail()}"
                )
            if log.count(booted) >= self.config.workers:
                timeout = max(0.1, min(READY_REQUEST_TIMEOUT_S, deadline - time.monotonic()))
                try:
                    status = ready_status(self.port, self.ready_method, self.ready_path, timeout)
                except TimeoutError:
                    status, unanswered = None, True
                if status is not None:
                    self.first_status = status
                    return
                if self.proc.poll() is not None:
                    continue  # no answer because it exited: say so with its log
            time.sleep(0.05)
        if unanswered:
            raise _process.ServiceError(
                f"every worker booted, but {self.ready_method} {self.ready_path} did not answer "
                f"within {self.startup_timeout:g} s (does it hang?)"
            )
        raise _process.ServiceError(
            f"not ready after {self.startup_timeout:g} s: {self._failure_detail()}"
        )

    def _failure_detail(self) -> str:
        return failure_detail(self._tail_text(), self.config.server)

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by every process of the group (master and workers)."""
        return group_cpu_seconds(self.pgid)

    def _tail_text(self) -> str:
        """The end of the log (a long run may have logged a lot: read only its last 64 KiB)."""
        if self._log is None:
            return ""
        size = self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, size - LOG_TAIL_BYTES))
        return self._log.read().decode(errors="replace")

    def log_tail(self, lines: int = 3) -> str:
        """The last ``lines`` non-blank lines of the server's output, joined by " | "."""
        text = [line.strip() for line in self._tail_text().splitlines() if line.strip()]
        return " | ".join(text[-lines:])
