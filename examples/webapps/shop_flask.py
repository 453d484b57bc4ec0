"""The same shop in Flask (WSGI): which way of serving it with gunicorn is fastest?

    gilbench web --app shop_flask:app --path /cpu --path /io --path /db

gilbench starts a local slow service (a replica of httpbin's ``/delay/N``) and sets
``GILBENCH_SLOW_URL`` to it; to serve the app yourself, start one and set it::

    python -m gilbench.services.delay_server --port 8765 &
    GILBENCH_SLOW_URL=http://127.0.0.1:8765 gunicorn -k gthread --threads 4 shop_flask:app

Endpoints (GET), and what the GIL does to each:

- ``/cpu``: a pure-Python loop, ~25 ms; holds the GIL, so more threads (``--threads``) do not
  help it and only more processes (``--workers``) add throughput.
- ``/io``: a blocking ``requests.get`` to the slow service, one session per thread; the wait
  releases the GIL, so threads overlap the waits.
- ``/db``: an aggregate query on SQLite, which releases the GIL while it runs.

Settings (environment): ``EXAMPLE_CPU_ITERATIONS`` (the loop's length), ``EXAMPLE_DELAY_S``
(seconds the slow service takes per call, default 0.1).
"""

import atexit
import contextlib
import os
import random
import sqlite3
import tempfile
import threading

import requests
from flask import Flask

CPU_ITERATIONS = int(os.environ.get("EXAMPLE_CPU_ITERATIONS", "330000"))  # ~25 ms
DELAY_S = float(os.environ.get("EXAMPLE_DELAY_S", "0.1"))
ORDERS = 20_000
TIMEOUT_S = 30.0

app = Flask(__name__)

_local = threading.local()  # per thread: a requests session and a database connection
_db_lock = threading.Lock()
_db_paths: dict[int, str] = {}  # per process (gunicorn forks workers): pid -> database file


def slow_url() -> str:
    """The slow service's URL for one call; RuntimeError when GILBENCH_SLOW_URL is unset."""
    base = os.environ.get("GILBENCH_SLOW_URL", "").rstrip("/")
    if not base:
        raise RuntimeError(
            "GILBENCH_SLOW_URL is not set: run this app with `gilbench web --app "
            "shop_flask:app ...`, or set it to a server answering GET /delay/{seconds} "
            "(python -m gilbench.services.delay_server)"
        )
    return f"{base}/delay/{DELAY_S:g}"


def database_path() -> str:
    """This process's SQLite file of ORDERS orders (customer, amount), made at first use and
    removed when the process exits."""
    with _db_lock:
        path = _db_paths.get(os.getpid())
        if path is None:
            fd, path = tempfile.mkstemp(prefix="shop-", suffix=".sqlite")
            os.close(fd)
            rng = random.Random(42)
            with sqlite3.connect(path) as db:
                db.execute(
                    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount REAL)"
                )
                db.executemany(
                    "INSERT INTO orders (customer, amount) VALUES (?, ?)",
                    (
                        (f"customer-{rng.randrange(500):03d}", round(rng.uniform(1, 500), 2))
                        for _ in range(ORDERS)
                    ),
                )
            db.close()
            atexit.register(_remove, path)
            _db_paths[os.getpid()] = path
        return path


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


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


@app.get("/db")
def db():
    # One connection per thread (sqlite3 connections belong to the thread that made them).
    path = database_path()
    if getattr(_local, "db_path", None) != path:
        _local.db, _local.db_path = sqlite3.connect(path), path
    rows = _local.db.execute(
        "SELECT customer, SUM(amount) FROM orders GROUP BY customer ORDER BY 2 DESC LIMIT 5"
    ).fetchall()
    return {"top_customers": [{"customer": c, "total": round(t, 2)} for c, t in rows]}
