"""Services by the name workloads use in their ``needs``: start one, get its address."""

from __future__ import annotations

from contextlib import ExitStack


def start(name: str, stack: ExitStack) -> str:
    """Start service ``name`` for the life of ``stack``; return its URL
    (``http://127.0.0.1:PORT``) or DSN. Raises KeyError for an unknown name, and whatever the
    service raises when it fails to start."""
    if name == "delay_server":
        from gilbench.services.delay_server import DelayServer

        return stack.enter_context(DelayServer()).url
    if name == "postgres":
        from gilbench.services.postgres import TempPostgres

        return stack.enter_context(TempPostgres()).dsn
    raise KeyError(f"unknown service {name!r}")


def missing(name: str) -> str | None:
    """Why gilbench cannot start service ``name`` on this machine, with the fix; else None."""
    if name == "postgres":
        from gilbench.services.postgres import INSTALL_HINT, find_pg_bindir

        if find_pg_bindir() is None:
            return (
                "needs PostgreSQL's server programs (initdb, postgres) "
                "to start a throwaway cluster; "
                f"fix: {INSTALL_HINT}, or give a server with --postgres-dsn DSN"
            )
    return None
