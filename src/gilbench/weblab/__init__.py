"""The web lab (``gilbench web``): does a sync FastAPI endpoint scale under Uvicorn?

Serves one FastAPI app (``app``) with endpoint variants that call a slow service (the
delay server) or burn CPU, under real Uvicorn processes (``server``), drives it with a
closed- or open-loop load generator in its own process (``loadgen``), and compares the
throughput with queueing theory (``lab``). ``command`` is the CLI glue.
"""

from __future__ import annotations

from gilbench.errors import UsageError as _UsageError


class UsageError(_UsageError):
    """A bad ``gilbench web`` argument; the CLI prints it as one line and exits 2."""


VARIANTS: tuple[str, ...] = (
    "sync-io",
    "async-blocking",
    "async-io",
    "sync-cpu",
    "async-cpu",
    "noop",
)
"""Endpoint variants, each served at ``/<name>``."""

__all__ = ["UsageError", "VARIANTS"]
