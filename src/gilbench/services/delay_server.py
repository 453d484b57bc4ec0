"""A local replica of httpbin's ``/delay/N``: the seed's "slow API", on loopback.

Runs as its own process (``python -m gilbench.services.delay_server``), asynchronous
(aiohttp), so one process holds thousands of concurrent delayed requests. Endpoints:

- ``GET /delay/{seconds}``: waits ``seconds`` (float, capped at 10), then echoes
  ``url``, ``args``, ``headers`` and ``origin`` as httpbin does.
- ``GET /doc?items=N&seed=S&delay=D``: a deterministic nested JSON document (for parse
  workloads), sent after waiting ``D`` seconds (default 0, capped like ``/delay``).
- ``GET /health``: ``{"ok": true}``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import resource
import subprocess
import sys
from types import TracebackType

MAX_DELAY_S = 10.0
READY_PREFIX = "GILBENCH-DELAY-SERVER-PORT"


def make_document(items: int, seed: int = 0) -> dict:
    """A nested document of ``items`` records, the same for the same (items, seed):
    ``{"items": [{"id", "name", "price", "tags", "stock": {"warehouse", "store"}}, ...]}``,
    prices in 1-1000 with 2 decimals."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    return {
        "items": [
            {
                "id": i,
                "name": " ".join(rng.choice(words) for _ in range(3)),
                "price": round(rng.uniform(1, 1000), 2),
                "tags": [rng.choice(words) for _ in range(4)],
                "stock": {"warehouse": rng.randrange(100), "store": rng.randrange(20)},
            }
            for i in range(items)
        ]
    }


def _seconds(text: str) -> float | None:
    """A delay from a URL, clamped to [0, MAX_DELAY_S]; None when it is not a finite number."""
    try:
        seconds = float(text)
    except ValueError:
        return None
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_DELAY_S)


def _build_app():
    from aiohttp import web

    def bad(message: str) -> web.Response:
        return web.json_response({"error": message}, status=400)

    async def delay(request: web.Request) -> web.Response:
        seconds = _seconds(request.match_info["seconds"])
        if seconds is None:
            return bad("delay must be a number")
        await asyncio.sleep(seconds)
        return web.json_response(
            {
                "args": dict(request.query),
                "headers": dict(request.headers),
                "origin": request.remote,
                "url": str(request.url),
            }
        )

    async def doc(request: web.Request) -> web.Response:
        try:
            items = min(max(int(request.query.get("items", "100")), 0), 100_000)
            seed = int(request.query.get("seed", "0"))
        except ValueError:
            return bad("items and seed must be whole numbers")
        seconds = _seconds(request.query.get("delay", "0"))
        if seconds is None:
            return bad("delay must be a number")
        await asyncio.sleep(seconds)
        return web.json_response(make_document(items, seed))

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/delay/{seconds}", delay)
    app.router.add_get("/doc", doc)
    app.router.add_get("/health", health)
    return app


def raise_fd_limit() -> None:
    """Lift the soft open-files limit to the hard one: 1,000 sockets exceed the usual 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _serve(host: str, port: int) -> None:
    from aiohttp import web

    raise_fd_limit()
    runner = web.AppRunner(_build_app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096, reuse_address=True)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"{READY_PREFIX} {bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Serve on ``--host``/``--port`` (0: any free port) until SIGTERM or SIGINT; the bound
    port is printed first as ``GILBENCH-DELAY-SERVER-PORT <port>``. Uses uvloop if installed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:  # uvloop accepts and answers 1,000 connections noticeably faster than the default loop
        import uvloop

        uvloop.run(_serve(args.host, args.port))
    except ImportError:
        asyncio.run(_serve(args.host, args.port))


class DelayServer:
    """The delay server as a context manager: ``with DelayServer() as s: s.url``."""

    def __init__(self, python: str = sys.executable, startup_timeout: float = 20.0):
        self.python = python
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; raises RuntimeError before :meth:`start`."""
        if self.port is None:
            raise RuntimeError("delay server not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DelayServer:
        """Start the server process and wait up to ``startup_timeout`` seconds for its port.
        Raises ServiceError (from ``services._process``) when it exits or does not answer in
        time; the process is stopped on any failure. Returns self."""
        from gilbench.services import _process

        self.proc = _process.spawn(
            [
                self.python,
                "-m",
                "gilbench.services.delay_server",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            env=_process.child_env(),
        )
        try:
            self.port = int(_process.read_ready_line(self.proc, READY_PREFIX, self.startup_timeout))
        except _process.ServiceError as exc:
            self.stop()
            raise _process.ServiceError(f"delay server {exc}") from None
        except BaseException:  # Ctrl-C while it starts: leave nothing behind
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server's process group (SIGTERM, SIGKILL after 2 s); idempotent."""
        from gilbench.services import _process

        if self.proc is not None:
            _process.stop(self.proc)
            self.proc = None

    def __enter__(self) -> DelayServer:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


if __name__ == "__main__":
    main()
