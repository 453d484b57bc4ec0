"""The web lab's document in the terminal: its table and the verdict on the post's claim.

Pure functions of a ``kind: web`` document (``gilbench.documents``); the columns and their text
come from ``gilbench.report.format.WEB_COLUMNS``, like the HTML report's web table.
"""

from __future__ import annotations

from rich.table import Table

from gilbench.report.format import WEB_COLUMNS, plural, shown_columns
from gilbench.report.terminal import rich_table


def web_table(doc: dict) -> Table:
    """The results as a rich Table: one row per measurement, the settings in the title.

    Columns are ``WEB_COLUMNS`` (RPS, latency percentiles in ms, CPU seconds, a CPU cell's gain
    over 1 worker with its 95% interval, "undecided" when that does not settle the 10% margin);
    the caption gives the load generator's ceiling in RPS when the document measured it, and
    how many CPU comparisons are undecided. Raises KeyError without ``config`` or
    ``web_results``.
    """
    ceiling = doc.get("generator_ceiling_rps")
    cfg = doc["config"]
    rows = doc["web_results"]
    notes = [] if ceiling is None else [f"load generator ceiling {ceiling:.0f} RPS"]
    open_ = [r for r in rows if r.get("decided") is False]
    if open_:
        notes.append(
            f"{plural(len(open_), 'gain')} over 1 worker undecided (the 95% interval holds the 10% "
            "margin or rests on too few runs): a quieter machine or more runs (--repeat) decide it"
        )
    return rich_table(
        f"gilbench web: {cfg['delay_s']:g} s slow service, thread pool {cfg['threadpool']}, "
        f"{cfg['duration_s']:g} s windows",
        shown_columns(WEB_COLUMNS, rows),
        rows,
        caption="; ".join(notes) or None,
    )


def verdict(doc: dict) -> str | None:
    """What the numbers say about the post's claim, as one sentence.

    Uses the sync-io rows at the highest concurrency and compares their RPS with the thread
    pool's bound from Little's law, ``threadpool · server_workers / delay_s`` requests per
    second. None without such rows. Raises KeyError/TypeError on a document without
    ``config`` or with malformed rows.
    """
    rows = [
        r
        for r in doc["web_results"]
        if r.get("mode", "closed") == "closed" and not r.get("error") and r.get("rps") is not None
    ]
    sync = [r for r in rows if r["variant"] == "sync-io"]
    if not sync:
        return None
    top = max(r["concurrency"] for r in sync)
    by_workers = {r["server_workers"]: r for r in sync if r["concurrency"] == top}
    tp, delay = doc["config"]["threadpool"], doc["config"]["delay_s"]
    first = by_workers[min(by_workers)]
    slots = tp * first["server_workers"]
    text = (
        f"Claim check: a def endpoint calling a slow service scales with users only up to the "
        f"thread pool: {first['rps']:.0f} RPS at {top} users with "
        f"{plural(first['server_workers'], 'worker')}, "
        f"at most {slots}/{delay:g} s = {slots / delay:.0f}"
    )
    if len(by_workers) > 1:
        last = by_workers[max(by_workers)]
        text += f"; {last['server_workers']} workers: {last['rps']:.0f} RPS"
    async_io = [r for r in rows if r["variant"] == "async-io" and r["concurrency"] == top]
    if async_io:
        text += (
            f"; async def + an async client: {async_io[0]['rps']:.0f} RPS with no pool to exhaust"
        )
    return text + "."
