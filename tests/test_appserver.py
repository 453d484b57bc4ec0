"""The user's app under real servers (``weblab.appserver``): Uvicorn and Gunicorn on loopback.

The apps are in tests/serverapps/ (the "user's directory"). Assertions are relations that hold
on any machine (a limit of 3 threads makes 6 sleeps of 0.2 s take at least two rounds; a sync
worker never serves two requests at once), not absolute timings. After every test, no process
of any server group it started may be alive.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from gilbench.services._process import ServiceError, live_members
from gilbench.weblab import appserver
from gilbench.weblab.appserver import AppServer, PortInUse, ServerConfig

pytestmark = pytest.mark.timeout(60)

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serverapps")
SLEEP_S = 0.2


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def get_all(url: str, n: int) -> list[dict]:
    """``n`` concurrent GETs, one connection each."""
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(get, [url] * n))


@pytest.fixture
def make(no_leftovers) -> Iterator[Callable[..., AppServer]]:
    """Build AppServers on the test apps; afterwards stop them and check their groups are gone."""
    made: list[AppServer] = []

    def build(target: str, config: ServerConfig, **kwargs) -> AppServer:
        kwargs.setdefault("ready_path", "/")
        server = AppServer(target, config, cwd=APPS, **kwargs)
        made.append(server)
        return server

    yield build
    for server in made:
        server.stop()
        server.stop()  # idempotent
        try:
            pgid = server.pgid
        except RuntimeError:
            continue  # never spawned
        assert live_members(pgid) == [], f"{server.config.label()} left processes"


def test_config_labels_and_validation() -> None:
    assert ServerConfig("uvicorn", "uvicorn", 2, 40).label() == "uvicorn 2 workers x 40 threads"
    assert ServerConfig("gunicorn", "sync", 2, 1).label() == "gunicorn sync 2 workers"
    gthread = ServerConfig("gunicorn", "gthread", 2, 4)
    assert gthread.label() == "gunicorn gthread 2 workers x 4 threads"
    assert ServerConfig.from_dict(gthread.to_dict()) == gthread
    # Gunicorn's sync worker with threads > 1 silently becomes gthread: refuse it.
    with pytest.raises(ValueError, match="sync"):
        ServerConfig("gunicorn", "sync", 2, 2)
    with pytest.raises(ValueError):
        ServerConfig("gunicorn", "uvicorn", 1, 1)
    with pytest.raises(ValueError):
        ServerConfig("uvicorn", "uvicorn", 0, 40)


def test_argv_binds_loopback_and_disables_gunicorn_control_socket(make) -> None:
    uv = make("asgi_app:app", ServerConfig("uvicorn", "uvicorn", 2, 3)).argv(8123)
    assert uv[uv.index("--host") + 1] == "127.0.0.1" and uv[uv.index("--app-dir") + 1] == APPS
    gu = make("wsgi_app:app", ServerConfig("gunicorn", "sync", 2, 1)).argv(8123)
    assert gu[gu.index("--bind") + 1] == "127.0.0.1:8123" and "--threads" not in gu
    assert "--no-control-socket" in gu and gu[-1] == "wsgi_app:app"


def test_uvicorn_sets_the_thread_limit_of_def_endpoints(make) -> None:
    config = ServerConfig("uvicorn", "uvicorn", workers=1, threads=3)
    with make("asgi_app:app", config, ready_path="/info") as server:
        assert server.first_status == 200
        assert get(f"{server.url}/info")["tokens"] == 3
        start = time.monotonic()
        get_all(f"{server.url}/sleep", 6)
        # 6 sleeps through 3 tokens: at least two rounds (Starlette's default 40 would be one).
        assert time.monotonic() - start >= 2 * SLEEP_S * 0.95
        assert server.cpu_seconds() > 0
    assert live_members(server.pgid) == []


def test_uvicorn_workers_are_separate_processes(make) -> None:
    config = ServerConfig("uvicorn", "uvicorn", workers=2, threads=40)
    with make("asgi_app:app", config, ready_path="/info") as server:
        pids: set[int] = set()
        # Each request blocks its worker's loop briefly, so the other worker accepts meanwhile.
        for _ in range(50):
            pids.update(r["pid"] for r in get_all(f"{server.url}/block", 4))
            if len(pids) >= 2:
                break
        assert len(pids) == 2
        assert {get(f"{server.url}/info")["tokens"] for _ in range(4)} == {40}


def test_uvicorn_app_without_lifespan_is_ready_and_limited(make) -> None:
    # Uvicorn logs "ASGI 'lifespan' protocol appears unsupported." then startup complete.
    config = ServerConfig("uvicorn", "uvicorn", workers=2, threads=5)
    with make("raw_asgi_app:app", config, ready_path="/") as server:
        assert server.first_status == 200
        assert {get(server.url)["tokens"] for _ in range(4)} == {5}


def test_gunicorn_sync_serves_one_request_at_a_time_per_worker(make) -> None:
    config = ServerConfig("gunicorn", "sync", workers=2, threads=1)
    with make("wsgi_app:app", config, ready_path="/pid") as server:
        assert server.first_status == 200
        replies = get_all(f"{server.url}/sleep", 4)
        assert {r["max"] for r in replies} == {1}
        # While one worker sleeps, the other one accepts: both serve.
        assert len({r["pid"] for r in replies}) == 2


def test_gunicorn_gthread_runs_threads_concurrently_up_to_its_limit(make) -> None:
    config = ServerConfig("gunicorn", "gthread", workers=2, threads=4)
    with make("wsgi_app:app", config, ready_path="/pid") as server:
        replies = get_all(f"{server.url}/sleep", 8)
        most = max(r["max"] for r in replies)
        assert 2 <= most <= 4  # concurrent threads in one process, never more than --threads
        assert len({r["pid"] for r in replies}) <= 2
        assert len({(r["pid"], r["thread"]) for r in replies}) >= 2


@pytest.mark.parametrize("server_kind", ["uvicorn", "gunicorn"])
def test_import_error_names_the_users_exception(make, server_kind: str) -> None:
    config = (
        ServerConfig("uvicorn", "uvicorn", 2, 40)
        if server_kind == "uvicorn"
        else ServerConfig("gunicorn", "sync", 2, 1)
    )
    server = make("broken_app:app", config)
    with pytest.raises(ServiceError, match="exited with code") as info:
        server.start()
    assert "No module named 'nope'" in str(info.value)


def test_never_ready_is_stopped_after_the_timeout(make) -> None:
    server = make("hanging_app:app", ServerConfig("uvicorn", "uvicorn", 1, 40), startup_timeout=3)
    with pytest.raises(ServiceError, match="not ready after 3 s"):
        server.start()


def test_a_500_still_means_ready(make) -> None:
    config = ServerConfig("gunicorn", "gthread", 1, 2)
    with make("wsgi_app:app", config, ready_path="/boom") as server:
        assert server.first_status == 500
        assert get(f"{server.url}/pid")["pid"] > 0


def test_explicit_port_in_use_names_its_owner(make) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = make("wsgi_app:app", ServerConfig("gunicorn", "sync", 1, 1), port=port)
        with pytest.raises(PortInUse, match=f"port {port} is in use") as info:
            server.start()
        assert f"pid {os.getpid()}" in str(info.value)  # our own socket: visible to psutil
    with pytest.raises(RuntimeError):
        server.pgid  # noqa: B018 - nothing was spawned


def test_interrupt_during_start_stops_the_group(make, monkeypatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(appserver, "ready_status", interrupted)
    server = make("wsgi_app:app", ServerConfig("gunicorn", "sync", 2, 1), ready_path="/pid")
    with pytest.raises(KeyboardInterrupt):
        server.start()
    assert live_members(server.pgid) == []


def test_failure_detail_puts_the_apps_own_error_first() -> None:
    gunicorn_log = "\n".join(
        [
            "[2026-01-31 12:00:00 +0000] [10] [INFO] Booting worker with pid: 11",
            "Failed to find attribute 'app' in 'main'.",
            "[2026-01-31 12:00:00 +0000] [11] [INFO] Worker exiting (pid: 11)",
            "[2026-01-31 12:00:00 +0000] [10] [ERROR] Worker (pid:11) exited with code 4.",
            "[2026-01-31 12:00:00 +0000] [10] [ERROR] Shutting down: Master",
            "[2026-01-31 12:00:00 +0000] [10] [ERROR] Reason: App failed to load.",
        ]
    )
    detail = appserver.failure_detail(gunicorn_log, "gunicorn")
    assert detail.startswith("Failed to find attribute 'app' in 'main'. | [ERROR] Worker")
    chained = "\n".join(
        [
            "Traceback (most recent call last):",
            '  File "main.py", line 1, in <module>',
            "ImportError: cannot import name 'x' from 'y'",
            "Traceback (most recent call last):",
            '  File "gunicorn/arbiter.py", line 683, in reap_workers',
            "gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>",
        ]
    )
    assert appserver.error_line(chained) == "ImportError: cannot import name 'x' from 'y'"
