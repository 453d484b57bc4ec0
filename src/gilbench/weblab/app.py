"""The web lab's FastAPI app: one endpoint per way of writing "call a slow service".

Served by ``python -m uvicorn gilbench.weblab.app:app``. Configured by environment
variables, read once in the lifespan (each Uvicorn worker process runs its own):

- ``GILBENCH_SLOW_URL``: base URL of the delay server (the slow service), required.
- ``GILBENCH_SLOW_DELAY``: seconds the slow service takes (default 0.5).
- ``GILBENCH_CPU_COUNT``: iterations of the seed's counting loop per CPU request.
- ``GILBENCH_THREADPOOL``: AnyIO's default thread limiter, which bounds how many
  ``def`` endpoints run at once (Starlette's default is 40).

Endpoints (``GET``):

- ``/sync-io``: ``def`` + ``requests.get`` — the blog post's ``/status``; runs in the pool.
- ``/async-blocking``: ``async def`` + ``requests.get`` — blocks the event loop.
- ``/async-io``: ``async def`` + one shared aiohttp session — truly concurrent.
- ``/sync-cpu``, ``/async-cpu``: the seed's pure-Python counting loop, holding the GIL.
- ``/noop``: nothing, for the load generator's ceiling.
- ``/health``: this worker's pid, event loop, thread limit and settings.

No endpoint declares a response model, so FastAPI does not validate the response in a
second thread-pool hop: a ``def`` endpoint costs exactly one limiter token.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass

import aiohttp
import anyio.to_thread
import requests
from fastapi import FastAPI, Request

from gilbench.workloads.cpu import count  # the seed's loop: pure Python, holds the GIL throughout

SLOW_URL_ENV = "GILBENCH_SLOW_URL"
SLOW_DELAY_ENV = "GILBENCH_SLOW_DELAY"
CPU_COUNT_ENV = "GILBENCH_CPU_COUNT"
THREADPOOL_ENV = "GILBENCH_THREADPOOL"

DEFAULT_DELAY_S = 0.5
DEFAULT_CPU_COUNT = 1_000_000
DEFAULT_THREADPOOL = 40
# The slow service never takes longer than 10 s (the delay server's cap).
DOWNSTREAM_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Settings:
    """What one worker was told by its environment."""

    slow_url: str
    delay_s: float
    cpu_count: int
    threadpool: int

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read the ``GILBENCH_*`` variables (module docstring) from ``env`` (default:
        ``os.environ``). Raises RuntimeError when ``GILBENCH_SLOW_URL`` is unset, ValueError
        when a number does not parse."""
        env = dict(os.environ if env is None else env)
        slow_url = env.get(SLOW_URL_ENV, "").rstrip("/")
        if not slow_url:
            raise RuntimeError(
                f"{SLOW_URL_ENV} is not set: the web lab app needs the delay server's URL"
            )
        return cls(
            slow_url=slow_url,
            delay_s=float(env.get(SLOW_DELAY_ENV, DEFAULT_DELAY_S)),
            cpu_count=int(env.get(CPU_COUNT_ENV, DEFAULT_CPU_COUNT)),
            threadpool=int(env.get(THREADPOOL_ENV, DEFAULT_THREADPOOL)),
        )

    @property
    def slow_endpoint(self) -> str:
        """The delay server's ``/delay/<delay_s>`` URL that the I/O endpoints call."""
        return f"{self.slow_url}/delay/{self.delay_s:g}"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Per worker process (FastAPI/Starlette lifespan): read the settings, set AnyIO's default
    thread limiter to ``threadpool`` tokens and open one aiohttp session for the worker's life."""
    settings = Settings.from_env()
    # The limiter is per event loop; the lifespan runs on the loop that serves requests.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threadpool
    # One session for the worker's life; limit=0 lifts aiohttp's default cap of 100
    # connections, which would otherwise be the bottleneck instead of the slow service.
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=DOWNSTREAM_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        app.state.settings = settings
        app.state.session = session
        yield


app = FastAPI(
    title="gilbench web lab", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


@app.get("/sync-io", response_model=None)
def sync_io(request: Request) -> dict[str, str]:
    """``def`` + ``requests.get``: runs in AnyIO's thread pool, one limiter token per request."""
    requests.get(_settings(request).slow_endpoint, timeout=DOWNSTREAM_TIMEOUT_S).raise_for_status()
    return {"status": "ok"}


@app.get("/async-blocking", response_model=None)
async def async_blocking(request: Request) -> dict[str, str]:
    """The classic mistake: a blocking ``requests.get`` inside ``async def`` stalls the whole
    event loop for the slow call's duration."""
    requests.get(_settings(request).slow_endpoint, timeout=DOWNSTREAM_TIMEOUT_S).raise_for_status()
    return {"status": "ok"}


@app.get("/async-io", response_model=None)
async def async_io(request: Request) -> dict[str, str]:
    """``async def`` + the worker's shared aiohttp session: waits without blocking the loop."""
    session: aiohttp.ClientSession = request.app.state.session
    async with session.get(_settings(request).slow_endpoint) as response:
        response.raise_for_status()
        await response.read()
    return {"status": "ok"}


@app.get("/sync-cpu", response_model=None)
def sync_cpu(request: Request) -> dict[str, int]:
    """The counting loop (``cpu_count`` iterations) in the thread pool, holding the GIL."""
    return {"x": count(_settings(request).cpu_count)}


@app.get("/async-cpu", response_model=None)
async def async_cpu(request: Request) -> dict[str, int]:
    """The counting loop on the event loop itself: blocks it while it runs."""
    return {"x": count(_settings(request).cpu_count)}


@app.get("/noop", response_model=None)
async def noop() -> dict[str, str]:
    """Nothing: the ceiling of the server and load generator."""
    return {"status": "ok"}


@app.get("/health", response_model=None)
async def health(request: Request) -> dict[str, object]:
    """This worker's ``pid``, event ``loop`` module (e.g. "uvloop", "asyncio"), ``threadpool``
    limit and settings; the server checks them at start-up."""
    loop = asyncio.get_running_loop()
    return {
        "ok": True,
        "pid": os.getpid(),
        "loop": type(loop).__module__.split(".")[0],
        "threadpool": anyio.to_thread.current_default_thread_limiter().total_tokens,
        **asdict(_settings(request)),
    }
