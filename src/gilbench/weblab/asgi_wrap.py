"""Serve the user's ASGI app under Uvicorn with a chosen thread limit for ``def`` endpoints.

Uvicorn has no option for the thread pool: Starlette and FastAPI run every ``def`` endpoint
(and sync dependencies, background tasks, file responses) through AnyIO's *default thread
limiter* (``anyio.to_thread.run_sync`` with no ``limiter``), a CapacityLimiter of 40 tokens
per event loop (AnyIO docs, "Working with threads": "adjusting the default maximum worker
thread count"; FastAPI docs, "Concurrency and async / await" and the advice to raise it via
``current_default_thread_limiter().total_tokens``). The limiter is created per event loop,
so it can only be set from inside the loop that serves requests, i.e. in the worker process.

``appserver.AppServer`` therefore runs ``uvicorn gilbench.weblab.asgi_wrap:app`` with two
environment variables:

- ``GILBENCH_USER_APP``: the user's app, ``module:attribute`` (``attribute`` may be dotted),
  imported from the user's directory (on ``sys.path`` thanks to Uvicorn's ``--app-dir``).
- ``GILBENCH_THREADPOOL``: the limiter's ``total_tokens`` (unset: leave AnyIO's default).

The user's app is imported when this module is (at worker startup), so an import error fails
the worker at startup as under ``uvicorn module:attribute``, with its traceback in the log; the
worker then exits with Uvicorn's startup-failure code (3) rather than with the exception. That
is what Uvicorn itself does when the module is missing, and what makes its multi-worker
supervisor stop: a worker that dies of any other exit code is restarted, so with ``--workers``
> 1 an app whose import raises would otherwise be restarted forever (Uvicorn 0.54,
``supervisors/multiprocess.py``) and never ready nor failed. On its first call in each worker
process (the lifespan scope, or the first request when the app has no lifespan) the wrapper
sets the limiter on the running loop, then hands every call, lifespan included, to the user's
app unchanged: one extra ``await`` per call and nothing else. A user lifespan that sets the
limiter itself runs after this, and wins.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import anyio.to_thread
from uvicorn.config import STARTUP_FAILURE
from uvicorn.importer import import_from_string

# Named in appserver.py too (it must not import this module, which imports the user's app).
USER_APP_ENV = "GILBENCH_USER_APP"
THREADPOOL_ENV = "GILBENCH_THREADPOOL"


def _load() -> tuple[Any, int | None]:
    """The user's app and the thread limit asked for; on any error, its traceback on stderr and
    exit with Uvicorn's startup-failure code (module docstring)."""
    try:
        target = os.environ.get(USER_APP_ENV, "")
        if not target:
            raise RuntimeError(f"{USER_APP_ENV} is not set: which app should gilbench serve?")
        tokens = int(os.environ[THREADPOOL_ENV]) if os.environ.get(THREADPOOL_ENV) else None
        if tokens is not None and tokens < 1:
            raise ValueError(f"{THREADPOOL_ENV} must be at least 1, got {tokens}")
        # Uvicorn's own importer: the "module:attribute" rules and messages of `uvicorn target`.
        return import_from_string(target), tokens
    except Exception:
        traceback.print_exc()
        sys.stderr.flush()
        sys.exit(STARTUP_FAILURE)


user_app, _tokens = _load()
_limited = _tokens is None  # nothing to set when no limit was asked for


async def app(scope: dict, receive: Any, send: Any) -> None:
    """The user's app, after setting this worker's thread limiter on its first call."""
    global _limited
    if not _limited:
        # One event loop per Uvicorn worker process: the first call runs on it.
        anyio.to_thread.current_default_thread_limiter().total_tokens = _tokens
        _limited = True
    await user_app(scope, receive, send)
