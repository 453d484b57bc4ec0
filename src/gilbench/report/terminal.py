"""Terminal output as pure functions that build rich renderables from a results document.

The columns and the text of every cell come from ``gilbench.report.format``; this module only
says how a cell looks in a terminal (:data:`TONE_STYLE`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from gilbench.analysis.recommend import task_table
from gilbench.analysis.scaling import MAX_SPREAD, PREDICT_AT
from gilbench.report.format import (
    MISSING,
    RECOMMENDATION_COLUMNS,
    RESULT_COLUMNS,
    Cell,
    Column,
    Span,
    as_number,
    fmt_ci,
    fmt_factor,
    fmt_num,
    shown_columns,
    text,
)

TONE_STYLE = {
    "dim": "dim",
    "strong": "bold",
    "error": "red",
    "ok": "green",
    "warn": "yellow",
    "bad": "red",
    "much-faster": "bold green",
    "faster": "green",
    "slower": "red",
}
"""A cell tone (``gilbench.report.format``) as a rich style; tones not listed are plain."""


def rich_cell(cell: Cell) -> Text:
    """A cell as rich ``Text``: data is never read as markup."""
    out = Text()
    for span in cell:
        out.append(span.text, style=TONE_STYLE.get(span.tone, ""))
    return out


def rich_table(
    title: str, columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], **options: Any
) -> Table:
    """A rich Table of ``rows`` with ``columns`` (``options`` go to ``Table``, e.g. caption).

    Numeric columns are right-aligned; long cells fold onto more lines rather than being cut.
    """
    table = Table(title=title, title_justify="left", header_style="bold", **options)
    for c in columns:
        # Folded, never cut: a long name or error stays whole.
        table.add_column(c.title, justify="right" if c.numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(rich_cell(c.cell(row)) for c in columns))
    return table


def results_table(doc: dict) -> Table:
    """Every measurement of a run or bench document (the Python column only with several).

    Raises KeyError when ``doc`` has no ``results``.
    """
    rows = doc["results"]
    return rich_table("Measurements", shown_columns(RESULT_COLUMNS, rows), rows)


def recommendations_table(doc: dict) -> Table:
    """The verdict: one recommendation per workload and interpreter."""
    return rich_table("Verdict", RECOMMENDATION_COLUMNS, doc["recommendations"])


def task_type_table(doc: dict) -> Table:
    """The post's closing table (task type, best tool, why), with this machine's numbers.

    Built by ``analysis.recommend.task_table`` from ``doc["recommendations"]``.
    """
    table = Table(
        title="The post's table, measured on this machine",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("Task type")
    table.add_column("Best tool", style="bold")
    table.add_column("Why", overflow="fold")
    for entry in task_table(doc["recommendations"]):
        table.add_row(entry["task_type"], entry["best_tool"], entry["why"])
    return table


def scaling_table(doc: dict) -> Table:
    """Speedup by worker count, the serial fraction, and Amdahl's extrapolation (labelled so).

    Reads ``doc["scaling"]`` (``analysis.scaling``): Karp-Flatt's experimentally determined
    serial fraction per point, Amdahl's law fitted to it, predicted speedups at 8/16/64 workers.
    """
    multi_python = len({e["python"] for e in doc.get("scaling", [])}) > 1
    table = Table(
        title="Scaling",
        title_justify="left",
        header_style="bold",
        caption="predicted = Amdahl's law fitted to the measured points (fit at): "
        "an extrapolation, not a measurement. "
        "It assumes the serial fraction stays the same at any scale, "
        "every worker gets a free core (CPU-bound work), "
        "as many tasks as workers, "
        "and that nothing else (memory bandwidth, I/O, a server) becomes the limit. "
        "The interval after each prediction: the fit through the ends of the points' 95% "
        "intervals (noise only, not whether the law holds). "
        f"{MISSING}: withheld (one fitted worker count, an interval wider than "
        f"{MAX_SPREAD:g}x, or no gain; the JSON's assumption says which).",
        caption_justify="left",
    )
    for col in [
        "workload",
        *(["python"] if multi_python else []),
        "strategy",
        "speedup by workers",
        "Karp-Flatt",
        "serial fraction",
        "fit at",
        "predicted 8 / 16 / 64",
    ]:
        table.add_column(
            col, overflow="fold", justify="right" if col in ("serial fraction",) else "left"
        )
    for e in doc.get("scaling", []):
        points = "  ".join(f"{p['workers']}: {p['speedup']:.2f}x" for p in e["points"])
        # Above 1 only says "slower than one worker": the exact value is in the JSON.
        karp = (
            "  ".join(
                f"{p['workers']}: {p['karp_flatt']:.2f}"
                if p["karp_flatt"] <= 1
                else f"{p['workers']}: >1"
                for p in e["points"]
                if p["karp_flatt"] is not None
            )
            or MISSING
        )
        table.add_row(
            e["workload"],
            *([e["python"]] if multi_python else []),
            e["strategy"],
            points,
            karp,
            fmt_num(e.get("serial_fraction")),
            ", ".join(map(str, e.get("fit_workers") or [])) or MISSING,
            rich_cell(predicted_cell(e)),
        )
    return table


PREDICTED_AT = tuple(str(n) for n in PREDICT_AT)
"""The keys a scaling entry's ``predicted`` may hold: "8", "16", "64"."""


def predicted_cell(entry: Mapping[str, Any]) -> Cell:
    """A scaling entry's predictions at 8 / 16 / 64 workers: '7.10x [6.50–7.90]' each (the
    interval from ``predicted_ci95``, dimmed; none in documents older than it), MISSING for a
    worker count withheld, and MISSING alone when nothing is predicted."""
    predicted = entry.get("predicted")
    if not isinstance(predicted, Mapping) or not predicted:
        return text(None)
    intervals = entry.get("predicted_ci95")
    intervals = intervals if isinstance(intervals, Mapping) else {}
    spans: list[Span] = []
    for n in PREDICTED_AT:
        if spans:
            spans.append(Span(" / "))
        value = predicted.get(n)
        spans.append(Span(fmt_factor(value)))
        ci = fmt_ci(intervals.get(n), "") if as_number(value) is not None else ""
        if ci:
            spans.append(Span(f" [{ci}]", "dim"))
    return tuple(spans)


def warning_lines(doc: dict) -> list[str]:
    """'warning: ...' lines, naming the interpreter when a document ran several."""
    multi_python = len({r["python"] for r in doc.get("results", [])}) > 1
    lines = []
    for w in doc.get("warnings", []):
        where = f"[{w['python']}] " if multi_python and w.get("python") else ""
        lines.append(f"warning: {where}{w['message']}")
    return lines
