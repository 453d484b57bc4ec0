"""Services by the name workloads use in their ``needs``: start one, get its address."""

from __future__ import annotations

from contextlib import ExitStack


def start(name: str, stack: ExitStack) -> str:
    """Start service ``name`` for the life of ``stack``; return its URL or DSN."""
    if name == "delay_server":
        from gilbench.services.delay_server import DelayServer

        return stack.enter_context(DelayServer()).url
    raise KeyError(f"unknown service {name!r}")
