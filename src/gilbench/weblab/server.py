"""Serve the web lab's app with real Uvicorn processes.

``UvicornServer`` runs ``python -m uvicorn gilbench.weblab.app:app`` in its own process
group (``services._process.spawn``), with the event loop and HTTP parser pinned rather
than ``auto`` so that the result says what it measured. Life cycle:

    free port -> spawn -> ready (every worker logged startup and /health answers)
              -> measure (cpu_seconds() before/after) -> SIGTERM the group, wait, SIGKILL

A port taken between our probe and Uvicorn's bind shows up as an early exit with
"address already in use": we retry with another port. ``stop`` is idempotent and runs
from ``__exit__``, so no Uvicorn process outlives the ``with`` block, whatever is raised
(including KeyboardInterrupt: the group is in its own session, so a terminal Ctrl-C reaches
only gilbench, which then stops it here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from types import TracebackType
from typing import IO

import psutil

from gilbench.services import _process
from gilbench.weblab import app as app_module

APP = "gilbench.weblab.app:app"
STARTUP_LINE = b"Application startup complete."
BIND_RETRIES = 3
# Uvicorn waits this long for open connections at shutdown before closing them.
GRACEFUL_SHUTDOWN_S = 2
STOP_GRACE_S = GRACEFUL_SHUTDOWN_S + 3.0


def get_json(url: str, timeout: float) -> dict:
    """GET ``url`` and decode its JSON body (stdlib only: no event loop needed)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes in process group ``pgid``."""
    total = 0.0
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) != pgid:
                continue
            times = proc.cpu_times()
            total += times.user + times.system
        except (ProcessLookupError, psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class LoggedServer:
    """What a server process group with its log in a temporary file shares: reading the log,
    stopping the group (idempotent) and the ``with`` block (``start`` on enter, ``stop`` on
    exit). Subclasses set ``proc`` and ``_log`` in ``start``."""

    stop_grace: float = STOP_GRACE_S
    proc: subprocess.Popen | None = None
    _log: IO[bytes] | None = None

    def start(self):  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    def _log_text(self) -> bytes:
        if self._log is None:
            return b""
        self._log.seek(0)
        return self._log.read()

    def stop(self) -> None:
        """SIGTERM the whole group, wait for it, SIGKILL what is left. Idempotent."""
        self._stop(self.stop_grace)

    def _stop(self, grace: float) -> None:
        if self.proc is not None:
            _process.stop(self.proc, grace=grace)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class UvicornServer(LoggedServer):
    """The app under Uvicorn: ``with UvicornServer(...) as server: server.url``."""

    def __init__(
        self,
        *,
        slow_url: str,
        delay_s: float,
        workers: int = 1,
        threadpool: int = app_module.DEFAULT_THREADPOOL,
        cpu_count: int = app_module.DEFAULT_CPU_COUNT,
        loop: str = "uvloop",
        http: str = "httptools",
        python: str = sys.executable,
        startup_timeout: float = 30.0,
    ):
        self.slow_url = slow_url
        self.delay_s = delay_s
        self.workers = workers
        self.threadpool = threadpool
        self.cpu_count = cpu_count
        self.loop = loop
        self.http = http
        self.python = python
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.health: dict = {}
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; raises RuntimeError before :meth:`start`."""
        if self.port is None:
            raise RuntimeError("uvicorn not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pgid(self) -> int:
        """The process group of the supervisor and its workers; RuntimeError before start."""
        if self.proc is None:
            raise RuntimeError("uvicorn not started")
        return self.proc.pid  # the leader of its own session

    def argv(self, port: int) -> list[str]:
        """The Uvicorn command line for ``port`` (options as in Uvicorn's settings docs)."""
        return [
            self.python, "-m", "uvicorn", APP,
            "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(self.workers),
            "--loop", self.loop, "--http", self.http,
            "--no-access-log", "--log-level", "info",
            "--timeout-graceful-shutdown", str(GRACEFUL_SHUTDOWN_S),
            "--backlog", "4096",
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        """The workers' environment: the ``GILBENCH_*`` settings :mod:`.app` reads."""
        return _process.child_env(
            {
                app_module.SLOW_URL_ENV: self.slow_url,
                app_module.SLOW_DELAY_ENV: f"{self.delay_s:g}",
                app_module.CPU_COUNT_ENV: str(self.cpu_count),
                app_module.THREADPOOL_ENV: str(self.threadpool),
            }
        )

    def start(self) -> UvicornServer:
        """Start Uvicorn on a free port (up to ``BIND_RETRIES`` ports when one is taken) and
        wait up to ``startup_timeout`` seconds until every worker is up and ``/health`` reports
        the loop and thread limit asked for. Returns self; raises ServiceError (from
        ``services._process``) with the log's tail otherwise, after stopping what it started."""
        last_error = ""
        for _ in range(BIND_RETRIES):
            port = _process.free_port()
            self._log = tempfile.TemporaryFile()  # a file, not a pipe: nobody must drain it
            self.proc = _process.spawn(
                self.argv(port), env=self.env(), stdout=subprocess.DEVNULL, stderr=self._log
            )
            self.port = port
            try:
                self._wait_ready()
                return self
            except _process.ServiceError as exc:
                last_error = str(exc)
                self.stop()
                if "address already in use" not in last_error.lower():
                    break
            except BaseException:  # Ctrl-C while starting: ``__exit__`` will not run, so stop here
                self.stop()
                raise
        raise _process.ServiceError(f"uvicorn did not start: {last_error}")

    def _wait_ready(self) -> None:
        """Every worker logged startup, then ``/health`` answers with the settings we asked
        for."""
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise _process.ServiceError(
                    f"exited with code {self.proc.returncode}: {self.log_tail()}"
                )
            if self._log_text().count(STARTUP_LINE) >= self.workers:
                try:
                    self.health = get_json(f"{self.url}/health", timeout=2.0)
                except (OSError, urllib.error.URLError, ValueError):
                    pass
                else:
                    self._check_health()
                    return
            time.sleep(0.05)
        raise _process.ServiceError(
            f"not ready after {self.startup_timeout:.0f} s: {self.log_tail()}"
        )

    def _check_health(self) -> None:
        if self.health.get("loop") != self.loop or self.health.get("threadpool") != self.threadpool:
            raise _process.ServiceError(
                f"asked for loop={self.loop} threadpool={self.threadpool}, "
                f"got loop={self.health.get('loop')} threadpool={self.health.get('threadpool')}"
            )

    def is_responsive(self, timeout: float) -> bool:
        """Does ``/health`` answer within ``timeout``? False when a backlog blocks a loop."""
        try:
            get_json(f"{self.url}/health", timeout=timeout)
            return True
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the supervisor and every worker."""
        return group_cpu_seconds(self.pgid)

    def log_tail(self, lines: int = 3) -> str:
        """The last ``lines`` lines of Uvicorn's stderr, joined by " | "."""
        text = self._log_text().decode(errors="replace").strip().splitlines()
        return " | ".join(line.strip() for line in text[-lines:])
