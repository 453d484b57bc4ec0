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


def app_table(doc: Mapping[str, Any]) -> Table:
    """The sweep's rows as a rich Table (``APP_COLUMNS``), the settings in the title."""
    cfg = doc["config"]
    rows = doc["app_results"]
    app = doc.get("app") or {}
    served = "uvicorn" if app.get("interface") == "asgi" else "gunicorn"
    return rich_table(
        f"gilbench web --app {cfg['target']}: {app.get('interface', '?').upper()} under "
        f"{served}, {cfg['duration_s']:g} s windows",
        shown_columns(APP_COLUMNS, rows),
        rows,
    )


def verdict_lines(doc: Mapping[str, Any]) -> list[str]:
    """One line per endpoint (its diagnosis, then what to serve it with), then the whole app's
    configuration and the failure, if any. Plain text (no markup)."""
    lines = []
    for d in doc.get("diagnoses") or []:
        handler = f" ({d['handler_kind']})" if d.get("handler_kind") else ""
        kind = KIND_LABELS.get(d["kind"], d["kind"])
        lines.append(f"{d['path']}{handler}: {kind}: {d['sentence']}")
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
    if doc.get("app_results"):
        console.print(app_table(doc))
    for line in verdict_lines(doc):
        console.print(line if line.startswith("  ") else f"- {line}", highlight=False, markup=False)
    for warning in doc.get("warnings") or []:
        console.print(
            f"[yellow]warning[/yellow] {warning['code']}: {warning['message']}", highlight=False
        )
