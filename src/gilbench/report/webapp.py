"""``gilbench web --app``'s document in the terminal: the sweep's table, then per endpoint its
diagnosis and the configuration to serve it with, then the one for the whole app.

Pure functions of a ``kind: web-app`` document (``gilbench.documents``); the columns come from
``gilbench.report.format.APP_COLUMNS``, like the HTML report's section.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from gilbench.report.format import APP_COLUMNS, shown_columns
from gilbench.report.terminal import rich_table

KIND_LABELS = {
    "cpu": "computes in Python",
    "cpu-releases-gil": "computes, releasing the GIL",
    "pool-capped": "I/O in a def handler",
    "async-blocking": "blocks the event loop",
    "async-ok": "async I/O",
    "failing": "failing",
    "undetermined": "undetermined",
}
"""Short names of ``weblab.diagnose``'s kinds."""


TERMINAL_LEAVES_OUT = ("Path", "p95 ms")
"""Columns the terminal does without: each path has a table of its own; p95 is in the JSON."""


def app_tables(doc: Mapping[str, Any]) -> list[Table]:
    """The sweep's rows as rich Tables, one per path (``APP_COLUMNS`` but the path and p95),
    the server, the handler and the window in each title."""
    cfg = doc["config"]
    app = doc.get("app") or {}
    served = "uvicorn" if app.get("interface") == "asgi" else "gunicorn"
    kinds = {p.get("path"): p.get("handler_kind") for p in app.get("paths") or []}
    tables = []
    for path in dict.fromkeys(r["path"] for r in doc["app_results"]):
        rows = [r for r in doc["app_results"] if r["path"] == path]
        shown = shown_columns(APP_COLUMNS, rows)
        columns = [c for c in shown if c.title not in TERMINAL_LEAVES_OUT]
        handler = f" ({kinds[path]})" if kinds.get(path) else ""
        tables.append(
            rich_table(
                f"{cfg.get('method', 'GET')} {path}{handler} under {served}, "
                f"{cfg['duration_s']:g} s windows",
                columns,
                rows,
            )
        )
    return tables


def verdict_lines(doc: Mapping[str, Any]) -> list[str]:
    """One line per endpoint (its diagnosis, then what to serve it with), then the whole app's
    configuration and the failure, if any. Plain text (no markup)."""
    lines = []
    for d in doc.get("diagnoses") or []:
        handler = f" ({d['handler_kind']})" if d.get("handler_kind") else ""
        lines.append(f"{d['path']}{handler}: {d['sentence']}")
        if d.get("recommended"):
            lines.append(f"  -> {d['recommended']['sentence']}")
    rec = doc.get("recommendation")
    if rec:
        lines.append(rec["sentence"])
    if doc.get("failure"):
        lines.append(f"failed: {doc['failure']}")
    return lines


def print_app(doc: Mapping[str, Any], console: Console) -> None:
    """Print a ``web-app`` document: table, verdicts, warnings."""
    for table in app_tables(doc):
        console.print(table)
    for line in verdict_lines(doc):
        console.print(line if line.startswith("  ") else f"- {line}", highlight=False, markup=False)
    for warning in doc.get("warnings") or []:
        console.print(
            f"[yellow]warning[/yellow] {warning['code']}: {warning['message']}", highlight=False
        )
