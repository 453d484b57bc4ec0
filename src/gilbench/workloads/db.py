"""Databases: SQLite in process, and a real PostgreSQL server.

SQLite runs each statement with the GIL released (``sqlite3_step``), so aggregate queries
over a table scale with threads like C code that releases the GIL. PostgreSQL work happens in
another process, and its waiting (``pg_sleep``) is pure I/O for the client: threads and
asyncio overlap it. Every worker keeps one connection, opened by its first task: per thread
(sequential, threads, and each process of a pool, keyed by pid so a fork never shares one),
per running task slot of the event loop (asyncio).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Iterator

from gilbench.workloads import Call, Knob, Need, Workload, register

# -- SQLite ------------------------------------------------------------------------------------
SQLITE_ROWS = 200_000
_local = threading.local()


@contextlib.contextmanager
def sqlite_database() -> Iterator[dict]:
    """A trial's database: a file of ``SQLITE_ROWS`` rows in a temporary directory, removed
    after. Yields the kwargs every task gets: ``{"path": <the file>}``."""
    with tempfile.TemporaryDirectory(prefix="gilbench-sqlite-") as directory:
        path = os.path.join(directory, "bench.db")
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.executescript(
                f"""
                CREATE TABLE events (id INTEGER PRIMARY KEY, grp INTEGER, val INTEGER, name TEXT);
                WITH RECURSIVE n(i) AS
                    (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {SQLITE_ROWS})
                INSERT INTO events
                    SELECT i, i % 16, (i * 7919) % 10007, printf('user-%05d', (i * 31) % 50000)
                    FROM n;
                """
            )
            conn.commit()
        yield {"path": path}


def _sqlite(path: str) -> sqlite3.Connection:
    conns = _local.__dict__.setdefault("sqlite", {})
    key = (os.getpid(), path)  # a forked process must not reuse its parent's connection
    if key not in conns:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.execute("PRAGMA mmap_size = 268435456")  # pages shared through the OS cache
        conns[key] = conn
    return conns[key]


def sqlite_queries(path: str, queries: int) -> list:
    """``queries`` aggregate queries, each a full scan done inside SQLite, on this worker's
    read-only connection to ``path``. One ``[query, groups, rows counted, sum of val]`` per
    query."""
    conn = _sqlite(path)
    out = []
    for q in range(queries):
        rows = conn.execute(
            "SELECT grp, count(*), sum(val), max(name) FROM events "
            "WHERE (val + ?) % 7 <> 0 GROUP BY grp ORDER BY grp",
            (q,),
        ).fetchall()
        out.append([q, len(rows), sum(r[1] for r in rows), sum(r[2] for r in rows)])
    return out


# -- PostgreSQL --------------------------------------------------------------------------------
PG_SLEEP_S = 0.1
PG_ROWS = 500
_PG_WAIT = "SELECT pg_sleep(%s)"
_PG_WORK = (
    "SELECT count(*), sum(ascii(h))::bigint, max(h) "
    "FROM (SELECT md5(i::text) AS h FROM generate_series(1, 2000 + %s) AS i) AS s"
)
_PG_ROWS = "SELECT i, md5(i::text) FROM generate_series(%s, %s + " + str(PG_ROWS - 1) + ") AS i"


def _pg(dsn: str):
    import psycopg

    conns = _local.__dict__.setdefault("postgres", {})
    key = (os.getpid(), dsn)
    if key not in conns or conns[key].closed:
        conns[key] = psycopg.connect(dsn, autocommit=True)
    return conns[key]


def _digest(r: int, work: tuple, rows: list) -> list:
    """What a round returns: the server's aggregate and a client-side summary of the rows."""
    return [r, work[0], work[1], work[2], len(rows), sum(i for i, h in rows if h.startswith("0"))]


def pg_queries(dsn: str, rounds: int) -> list:
    """Each round: wait on the server (pg_sleep, ``PG_SLEEP_S`` seconds), aggregate on the
    server, fetch ``PG_ROWS`` rows, on this worker's psycopg connection to ``dsn``. One
    ``[round, count, ascii sum, max md5, rows fetched, sum of ids whose md5 starts with 0]``
    per round; raises ``psycopg.Error`` when the server does."""
    conn = _pg(dsn)
    out = []
    for r in range(rounds):
        conn.execute(_PG_WAIT, (PG_SLEEP_S,))
        work = conn.execute(_PG_WORK, (r,)).fetchone()
        rows = conn.execute(_PG_ROWS, (r, r)).fetchall()
        out.append(_digest(r, work, rows))
    return out


# Idle connections per event loop: a task takes one (or opens one) and gives it back, so at most
# ``workers`` connections exist, one per concurrently running task.
_idle: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def pg_queries_async(dsn: str, rounds: int) -> list:
    """pg_queries with psycopg.AsyncConnection, one per running task of the event loop (kept
    idle between tasks, dropped when broken); the same rows."""
    import psycopg

    idle = _idle.setdefault(asyncio.get_running_loop(), {}).setdefault(dsn, [])
    conn = idle.pop() if idle else await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    try:
        out = []
        for r in range(rounds):
            await conn.execute(_PG_WAIT, (PG_SLEEP_S,))
            work = await (await conn.execute(_PG_WORK, (r,))).fetchone()
            rows = await (await conn.execute(_PG_ROWS, (r, r))).fetchall()
            out.append(_digest(r, work, rows))
        return out
    finally:
        if not conn.broken:
            idle.append(conn)


register(
    Workload(
        name="io.sqlite",
        family="io",
        summary=(
            f"aggregate queries over a {SQLITE_ROWS:,}-row SQLite file "
            "(GIL released inside SQLite), one connection per worker"
        ),
        make_call=lambda p, s: Call(
            "gilbench.workloads.db:sqlite_queries",
            kwargs={"queries": int(p["queries"])},
            fixture="gilbench.workloads.db:sqlite_database",
        ),
        knob=Knob("queries", None, "full-scan aggregate queries per task", calibrate_from=1),
    )
)

register(
    Workload(
        name="io.postgres",
        family="io",
        summary=(
            f"PostgreSQL: pg_sleep({PG_SLEEP_S:g}) + a server-side aggregate "
            f"+ {PG_ROWS:,} rows fetched, per round; one connection per worker"
        ),
        make_call=lambda p, s: Call(
            "gilbench.workloads.db:pg_queries",
            kwargs={"dsn": s["postgres"], "rounds": int(p["rounds"])},
            async_func="gilbench.workloads.db:pg_queries_async",
        ),
        default_tasks=8,
        default_workers=8,
        knob=Knob(
            "rounds", 4, "query rounds per task (each waits 0.1 s on the server)", quick_default=1
        ),
        needs=(
            Need("service", "postgres"),
            Need("package", "psycopg", "pip install 'psycopg[binary]==3.3.9'"),
        ),
    )
)
