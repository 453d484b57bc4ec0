"""A small FastAPI shop with the endpoints a backend has: which way of serving it is fastest?

    gilbench web --app shop_fastapi:app --path /cpu --path /io --path /async-io \\
        --path /async-blocking --path /db

gilbench starts a local slow service (a replica of httpbin's ``/delay/N``) and sets
``GILBENCH_SLOW_URL`` to it; to serve the app yourself, start one and set it::

    python -m gilbench.services.delay_server --port 8765 &
    GILBENCH_SLOW_URL=http://127.0.0.1:8765 uvicorn shop_fastapi:app

Endpoints (GET), and what the GIL does to each:

- ``/cpu`` (``def``): a pure-Python loop, ~25 ms; holds the GIL, so threads do not help it and
  only more processes (``--workers``) add throughput.
- ``/io`` (``def``): a blocking ``requests.get`` to the slow service, one session per thread;
  FastAPI runs it in its thread pool (40 threads), and the wait releases the GIL.
- ``/async-io`` (``async def``): the same call with one shared ``httpx.AsyncClient``: the event
  loop waits for all of them at once.
- ``/async-blocking`` (``async def``): the same blocking ``requests.get`` as ``/io``, inside
  ``async def``: the mistake. It blocks the event loop, so one worker serves one at a time.
- ``/db`` (``def``): an aggregate query on SQLite, which releases the GIL while it runs.

Settings (environment): ``EXAMPLE_CPU_ITERATIONS`` (the loop's length), ``EXAMPLE_DELAY_S``
(seconds the slow service takes per call, default 0.1).
"""

import os
import random
import sqlite3
import tempfile
import threading
from contextlib import asynccontextmanager

import httpx
import requests
from fastapi import FastAPI, Request

CPU_ITERATIONS = int(os.environ.get("EXAMPLE_CPU_ITERATIONS", "330000"))  # ~25 ms
DELAY_S = float(os.environ.get("EXAMPLE_DELAY_S", "0.1"))
ORDERS = 20_000
TIMEOUT_S = 30.0

_local = threading.local()  # per thread: a requests session and a database connection


def slow_url() -> str:
    """The slow service's URL for one call; RuntimeError when GILBENCH_SLOW_URL is unset."""
    base = os.environ.get("GILBENCH_SLOW_URL", "").rstrip("/")
    if not base:
        raise RuntimeError(
            "GILBENCH_SLOW_URL is not set: run this app with `gilbench web --app "
            "shop_fastapi:app ...`, or set it to a server answering GET /delay/{seconds} "
            "(python -m gilbench.services.delay_server)"
        )
    return f"{base}/delay/{DELAY_S:g}"


def create_database() -> str:
    """A new SQLite file of ORDERS orders (customer, amount); returns its path."""
    fd, path = tempfile.mkstemp(prefix="shop-", suffix=".sqlite")
    os.close(fd)
    rng = random.Random(42)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount REAL)")
        db.executemany(
            "INSERT INTO orders (customer, amount) VALUES (?, ?)",
            (
                (f"customer-{rng.randrange(500):03d}", round(rng.uniform(1, 500), 2))
                for _ in range(ORDERS)
            ),
        )
    db.close()
    return path


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Per worker process: the database file, and one HTTP client for the async endpoints."""
    db_path = create_database()
    # httpx allows 100 connections per client by default; the slow service is on loopback.
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=TIMEOUT_S, limits=limits) as client:
        try:
            yield {"client": client, "db_path": db_path}  # request.state.client, .db_path
        finally:
            os.remove(db_path)


app = FastAPI(title="shop", lifespan=lifespan)

# The `def` endpoints declare no return type on purpose: FastAPI validates a declared response
# model in the thread pool too, so each request would take two turns of the pool, and with one
# thread answers would come in bursts. (The async ones may: their validation runs on the loop.)


@app.get("/cpu")
def cpu():
    total = 0
    for i in range(CPU_ITERATIONS):
        total += i * i % 7
    return {"iterations": CPU_ITERATIONS, "total": total}


@app.get("/io")
def io():
    # One session per thread: requests.Session is not documented as thread-safe.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    response = session.get(slow_url(), timeout=TIMEOUT_S)
    response.raise_for_status()
    return {"status": response.status_code}


@app.get("/async-io")
async def async_io(request: Request) -> dict:
    response = await request.state.client.get(slow_url())
    response.raise_for_status()
    return {"status": response.status_code}


@app.get("/async-blocking")
async def async_blocking() -> dict:
    # The mistake: requests.get blocks, and in an async def it blocks the event loop itself,
    # so no other request of this worker runs until it returns. Use `def` (as /io does) or an
    # async client (as /async-io does).
    response = requests.get(slow_url(), timeout=TIMEOUT_S)
    response.raise_for_status()
    return {"status": response.status_code}


@app.get("/db")
def db(request: Request):
    # One connection per thread (sqlite3 connections belong to the thread that made them).
    path = request.state.db_path
    if getattr(_local, "db_path", None) != path:
        _local.db, _local.db_path = sqlite3.connect(path), path
    rows = _local.db.execute(
        "SELECT customer, SUM(amount) FROM orders GROUP BY customer ORDER BY 2 DESC LIMIT 5"
    ).fetchall()
    return {"top_customers": [{"customer": c, "total": round(t, 2)} for c, t in rows]}
