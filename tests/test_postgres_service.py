"""The throwaway PostgreSQL cluster: starts, serves queries on loopback only, cleans up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

psutil = pytest.importorskip("psutil")
psycopg = pytest.importorskip("psycopg")

from gilbench.services import _process  # noqa: E402
from gilbench.services.postgres import (  # noqa: E402
    READY_PREFIX,
    PostgresUnavailable,
    TempPostgres,
    find_pg_bindir,
    resolve_dsn,
)

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(find_pg_bindir() is None, reason="PostgreSQL server binaries not installed"),
]


def _cluster_processes(tmpdir: str) -> list:
    """Live processes whose command line names the cluster's temp dir.

    The postmaster's has ``-D <tmpdir>/data``; every child's title has the cluster
    name, which TempPostgres sets to the temp dir's basename.
    """
    tag = os.path.basename(tmpdir)
    found = []
    for p in psutil.process_iter(["pid", "name", "cmdline", "status"]):
        cmd = " ".join(p.info["cmdline"] or ())
        if tag in cmd and p.info["name"] == "postgres" and p.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(p)
    return found


def test_cluster_serves_queries_and_cleans_up():
    pg = TempPostgres()
    with pg:
        tmpdir = pg.tmpdir
        assert tmpdir and os.path.isdir(tmpdir)
        assert pg.dsn.startswith("host=127.0.0.1 ")
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            assert conn.execute("select pg_sleep(0.1), 1").fetchone() == ("", 1)
            assert conn.execute(
                "select sum(i) from generate_series(1, 100000) as i"
            ).fetchone() == (5000050000,)
            conn.execute("create table t (id int primary key, v text)")
            conn.execute("insert into t select i, md5(i::text) from generate_series(1, 1000) i")
            assert conn.execute("select count(*) from t").fetchone() == (1000,)
            assert conn.execute("show listen_addresses").fetchone() == ("127.0.0.1",)
            assert conn.execute("show unix_socket_directories").fetchone() == (tmpdir,)
            assert conn.execute("show fsync").fetchone() == ("off",)
            assert conn.execute("show max_connections").fetchone() == ("200",)
            assert conn.execute("select current_user").fetchone() == ("postgres",)
        # The unix socket in the temp dir works too.
        with psycopg.connect(pg.socket_dsn) as conn:
            assert conn.execute("select 1").fetchone() == (1,)

        # Listening sockets of the postmaster: TCP on 127.0.0.1 only.
        inet = [
            c
            for c in psutil.Process(pg.pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        ]
        assert inet and {c.laddr.ip for c in inet} == {"127.0.0.1"}
        assert {c.laddr.port for c in inet} == {pg.port}

        procs = _cluster_processes(tmpdir)
        assert any(p.pid == pg.pid for p in procs)
        if os.geteuid() == 0:
            assert all(p.username() == "postgres" for p in procs)

    assert pg.stop_seconds is not None
    assert not os.path.exists(tmpdir)
    assert _cluster_processes(tmpdir) == []
    pg.stop()  # a second stop is harmless


def test_exception_inside_with_still_cleans_up():
    class Boom(Exception):
        pass

    seen = {}
    with pytest.raises(Boom):
        with TempPostgres() as pg:
            seen["tmpdir"] = pg.tmpdir
            seen["pid"] = pg.pid
            # An open connection at shutdown must not hold the fast shutdown up.
            conn = psycopg.connect(pg.dsn)
            conn.execute("select 1")
            raise Boom()
    conn.close()
    assert not os.path.exists(seen["tmpdir"])
    assert (
        not psutil.pid_exists(seen["pid"])
        or psutil.Process(seen["pid"]).status() == psutil.STATUS_ZOMBIE
    )
    assert _cluster_processes(seen["tmpdir"]) == []


def test_resolve_dsn_passes_a_given_dsn_through():
    with resolve_dsn("host=db.example port=5432 dbname=x") as dsn:
        assert dsn == "host=db.example port=5432 dbname=x"


def test_missing_binaries_raise_a_clear_error(tmp_path):
    with pytest.raises(PostgresUnavailable, match="apt-get install postgresql"):
        TempPostgres(bindir=str(tmp_path)).start()


def test_cli_prints_dsn_and_stops_on_sigterm():
    proc = _process.spawn(
        [sys.executable, "-m", "gilbench.services.postgres"],
        stdout=subprocess.PIPE,
        env=_process.child_env(),
    )
    try:
        dsn = _process.read_ready_line(proc, READY_PREFIX, timeout=30)
        with psycopg.connect(dsn) as conn:
            assert conn.execute("select 2").fetchone() == (2,)
        server = [p for p in psutil.Process(proc.pid).children() if p.name() == "postgres"]
        assert len(server) == 1
        tmpdir = next(
            a for a in server[0].cmdline() if a.startswith("unix_socket_directories=")
        ).split("=", 1)[1]
        proc.terminate()
        assert proc.wait(timeout=15) == 0
    finally:
        _process.stop(proc)
    assert not os.path.exists(tmpdir)
    assert _cluster_processes(tmpdir) == []
