"""Terminal output as pure functions that build rich renderables from a results document."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from gilbench.analysis.recommend import task_table

STATUS_STYLE = {"ok": "green", "skipped": "yellow", "error": "red", "timeout": "red"}


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def speedup_text(row: dict) -> Text:
    s = row.get("speedup")
    if s is None:
        return Text("-")
    ci = row.get("speedup_ci95")
    style = "bold green" if s >= 1.5 else ("green" if s >= 1.1 else ("red" if s < 0.9 else ""))
    text = Text(f"{s:.2f}x", style=style)
    if ci:
        text.append(f" [{ci[0]:.2f}-{ci[1]:.2f}]", style="dim")
    return text


def results_table(doc: dict) -> Table:
    multi_python = len({r["python"] for r in doc["results"]}) > 1
    table = Table(title="Measurements", title_justify="left", header_style="bold")
    for col in ["workload", *(["python"] if multi_python else []), "strategy", "workers", "tasks", "median wall", "speedup [95% CI]", "CPU util", "GIL", "peak RSS", "status"]:
        table.add_column(col, justify="right" if col in ("workers", "tasks", "median wall", "CPU util", "GIL", "peak RSS") else "left")
    for r in doc["results"]:
        wall = r.get("wall_s")
        wall_text = "-" if not wall else f"{wall['median']:.3f} s ±{wall['stdev'] / wall['mean'] * 100 if wall['mean'] else 0:.0f}%"
        # An ok row's reason says why a metric is missing (e.g. GIL contention in processes).
        detail = r.get("error") or ("; ".join(filter(None, (r.get("note"), r.get("reason")))) if r["status"] == "ok" else r.get("reason")) or ""
        status = Text(r["status"], style=STATUS_STYLE.get(r["status"], ""))
        if detail:
            status.append(f" {detail}", style="dim")
        table.add_row(
            r["workload"],
            *([r["python"]] if multi_python else []),
            r["strategy"],
            str(r["workers"]),
            str(r["tasks"]),
            wall_text,
            speedup_text(r),
            _num(r.get("cpu_util"), ".2f"),
            _num(r.get("gil_contention"), ".2f"),
            "-" if r.get("max_rss_mb") is None else f"{r['max_rss_mb']:.0f} MB",
            status,
        )
    return table


def recommendations_table(doc: dict) -> Table:
    table = Table(title="Verdict", title_justify="left", header_style="bold")
    for col in ("workload", "python", "class", "use", "speedup", "why"):
        table.add_column(col, overflow="fold")
    for rec in doc["recommendations"]:
        table.add_row(
            rec["workload"], rec["python"], rec["classification"] or "-",
            Text(f"{rec['strategy']}" + (f" x{rec['workers']}" if rec["workers"] > 1 else ""), style="bold"),
            _num(rec["speedup"], ".2f") + "x", rec["why"],
        )
    return table


def task_type_table(doc: dict) -> Table:
    """The post's closing table, with this machine's numbers."""
    table = Table(title="The post's table, measured on this machine", title_justify="left", header_style="bold")
    table.add_column("Task type")
    table.add_column("Best tool", style="bold")
    table.add_column("Why", overflow="fold")
    for entry in task_table(doc["recommendations"]):
        table.add_row(entry["task_type"], entry["best_tool"], entry["why"])
    return table


def scaling_table(doc: dict) -> Table:
    """Speedup by worker count, the serial fraction, and Amdahl's extrapolation (labelled so)."""
    multi_python = len({e["python"] for e in doc.get("scaling", [])}) > 1
    table = Table(
        title="Scaling", title_justify="left", header_style="bold",
        caption="predicted = Amdahl's law fitted to the measured points (fit at): an extrapolation, not a measurement. "
                "It assumes the serial fraction stays the same at any scale, every worker gets a free core (CPU-bound work), "
                "as many tasks as workers, and that nothing else (memory bandwidth, I/O, a server) becomes the limit.",
        caption_justify="left",
    )
    for col in ["workload", *(["python"] if multi_python else []), "strategy", "speedup by workers", "Karp-Flatt", "serial fraction", "fit at", "predicted 8 / 16 / 64"]:
        table.add_column(col, overflow="fold", justify="right" if col in ("serial fraction",) else "left")
    for e in doc.get("scaling", []):
        points = "  ".join(f"{p['workers']}: {p['speedup']:.2f}x" for p in e["points"])
        # Above 1 only says "slower than one worker": the exact value is in the JSON.
        karp = "  ".join(f"{p['workers']}: {p['karp_flatt']:.2f}" if p["karp_flatt"] <= 1 else f"{p['workers']}: >1"
                         for p in e["points"] if p["karp_flatt"] is not None) or "-"
        predicted = e.get("predicted")
        table.add_row(
            e["workload"], *([e["python"]] if multi_python else []), e["strategy"], points, karp,
            _num(e.get("serial_fraction"), ".2f"), ", ".join(map(str, e.get("fit_workers") or [])) or "-",
            " / ".join(f"{predicted[k]:.1f}x" for k in ("8", "16", "64")) if predicted else "-",
        )
    return table


def warning_lines(doc: dict) -> list[str]:
    # With several interpreters, say which one a row's warning is about.
    multi_python = len({r["python"] for r in doc.get("results", [])}) > 1
    lines = []
    for w in doc.get("warnings", []):
        where = f"[{w['python']}] " if multi_python and w.get("python") else ""
        lines.append(f"warning: {where}{w['message']}")
    return lines
