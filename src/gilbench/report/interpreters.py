"""Terminal output about interpreters, as pure functions: found here, provisioned, side by side,
and the verdict across them."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from gilbench.engine.venvs import requirement_name, requirements
from gilbench.report.format import (
    CROSS_RULE,
    MISSING,
    cross_interpreter_columns,
    cross_interpreter_rows,
    fmt_factor,
    fmt_seconds,
    interpreter_kinds,
    speedup_band,
    status_cell,
)
from gilbench.report.terminal import TONE_STYLE, rich_cell, rich_table


def found_table(rows: list[tuple[str, dict | None, str, str]]) -> Table:
    """The table ``gilbench list`` prints, one line per interpreter.

    Each row is ``(path, probe dict or None, support summary or error, venv path or "")``;
    the probe needs ``label``, ``free_threaded_build`` and ``gil_enabled`` (KeyError otherwise).
    """
    table = Table(title="Interpreters", title_justify="left", header_style="bold")
    for col in ("label", "path", "build", "GIL", "strategies", "venv"):
        table.add_column(col, overflow="fold")
    for path, info, support, venv in rows:
        if info is None:
            table.add_row("?", path, Text(support, style="red"), "", "", "")
            continue
        style = "red" if support.startswith("none") else ""
        table.add_row(
            info["label"],
            path,
            "free-threaded" if info["free_threaded_build"] else "GIL",
            "on" if info["gil_enabled"] else "off",
            Text(support, style=style),
            venv or "-",
        )
    return table


def venvs_table(venvs: list[dict]) -> Table:
    """``gilbench list --pythons``: the venvs gilbench provisioned, what is in them, what failed.

    Each venv dict needs ``label``, ``base``, ``path``, ``packages`` (name -> version) and
    ``failed`` (requirement -> reason); only the worker requirements are named, the rest counted.
    """
    table = Table(
        title="Provisioned venvs (gilbench run --python)", title_justify="left", header_style="bold"
    )
    for col in ("label", "base", "path", "packages", "failed to install"):
        table.add_column(col, overflow="fold")
    direct = {_normalise(requirement_name(r)) for r in requirements()}
    for v in venvs:
        # The worker requirements themselves; their dependencies only counted.
        mine = {
            name: version for name, version in v["packages"].items() if _normalise(name) in direct
        }
        packages = ", ".join(
            f"{name} {version}"
            for name, version in sorted(mine.items(), key=lambda kv: kv[0].lower())
        )
        if len(v["packages"]) > len(mine):
            packages += f" (+{len(v['packages']) - len(mine)} dependencies)"
        failed = "; ".join(f"{req}: {why}" for req, why in v["failed"].items())
        table.add_row(
            v["label"],
            v["base"],
            v["path"],
            packages or "-",
            Text(failed or "-", style="red" if failed else ""),
        )
    return table


def side_by_side_table(doc: dict) -> Table | None:
    """One row per (workload, strategy, workers), one column per interpreter.

    Each cell is the median wall time (``fmt_seconds``) and the speedup factor against that
    Python's sequential run, or the status and reason. None with a single interpreter.
    """
    pythons = list(dict.fromkeys(r["python"] for r in doc["results"]))
    if len(pythons) < 2:
        return None
    table = Table(
        title="Side by side: median wall, speedup vs that Python's sequential",
        title_justify="left",
        header_style="bold",
    )
    for col in ("workload", "strategy", "workers"):
        table.add_column(col, justify="right" if col == "workers" else "left")
    kinds = interpreter_kinds(doc)
    for python in pythons:
        # A long skip reason wraps, not widens.
        kind = kinds.get(python)
        table.add_column(f"{python}\n({kind})" if kind else python, overflow="fold", max_width=36)
    cells: dict[tuple, dict[str, dict]] = {}
    for r in doc["results"]:
        cells.setdefault((r["workload"], r["strategy"], r["workers"]), {})[r["python"]] = r
    for (workload, strategy, workers), by_python in cells.items():
        table.add_row(workload, strategy, str(workers), *(_cell(by_python.get(p)) for p in pythons))
    return table


def cross_interpreter_table(doc: dict) -> Table | None:
    """ "Across interpreters": per workload the fastest interpreter and strategy in absolute
    time, its lead over another interpreter's best, and a free-threaded build's single-thread
    cost and best against its default build, from ``doc["cross_interpreter"]``
    (``analysis.interpreters``), each entry's why sentence under it. Rows left out past a
    physical limit (an entry's ``left_out``) are named in the Notes with their reasons, and a
    verdict they keep open reads "not decided". None when the document has no such entries."""
    rows = cross_interpreter_rows(doc)
    if not rows:
        return None
    sentences = [f"{r.get('workload')}: {r['why']}" for r in rows if r.get("why")]
    return rich_table(
        "Across interpreters: fastest in absolute time (median wall)",
        cross_interpreter_columns(rows),
        rows,
        caption="\n".join([*sentences, CROSS_RULE]),
        caption_justify="left",
    )


def _cell(row: dict | None) -> Text:
    if row is None:
        return Text(MISSING)
    if row["status"] != "ok" or not row.get("wall_s"):
        text = rich_cell(status_cell(row))
        detail = row.get("error") or row.get("reason") or ""
        if detail:
            text.append(f": {detail}", style="dim")
        return text
    text = Text(fmt_seconds(row["wall_s"]["median"]))
    speedup = row.get("speedup")
    if speedup is not None and row["strategy"] != "sequential":
        text.append(f"  {fmt_factor(speedup)}", style=TONE_STYLE.get(speedup_band(speedup), ""))
    return text


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def venv_event_text(e: dict) -> str:
    """A provisioning event from the session, as the progress line says it.

    ``e`` needs ``step`` and ``python``, plus the step's own keys (``path``, ``packages``,
    ``requirement``, ``failed``); an unknown step reads as "venv ready".
    """
    step, label = e["step"], e["python"]
    if step == "wait":
        return f"{label}: waiting for another gilbench that is making its venv"
    if step == "create":
        return f"{label}: making a venv at {e['path']} (first time only)"
    if step == "install":
        return (
            f"{label}: pip install of {e['packages']} worker packages "
            "(a minute or so, first time only)"
        )
    if step == "install-one":
        return f"{label}: retrying one by one: {e['requirement']}"
    if step == "removed-stale":
        return f"{label}: removed {e['path']}, made for older worker requirements"
    failed = e.get("failed") or {}
    return f"{label}: venv ready" + (f"; could not install: {', '.join(failed)}" if failed else "")
