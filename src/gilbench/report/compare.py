"""Compare two run/bench documents row by row: is B faster than A, by how much, and is it real.

Matching: rows pair up on (workload, strategy, workers), plus python when the documents share
interpreter labels. When each document ran exactly one interpreter and the two differ (the usual
"3.11 vs 3.14" question), python is ignored so that the same row on both interpreters pairs up.
Rows found on one side only are listed, never dropped.

Significance: a pair is a real change when both hold

* the 95% intervals of the two medians do not overlap. A median's interval is estimated from
  ``wall_s`` as ``median ± 1.96 · stdev / √n · 1.2533``: the standard error of the median of a
  normal sample is √(π/2) ≈ 1.2533 times that of the mean;
* the medians differ by at least ``MIN_CHANGE`` (10%) of A's median.

Otherwise the pair counts as "no significant change" (the simpler reading wins). Pairs where a
side did not produce a time (error, timeout, skipped) or ran a different number of tasks are
"not comparable". Factors are always >= 1 and read "1.40x faster" / "1.20x slower" (B vs A).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from gilbench.documents import RESULT_KINDS, SCHEMA, kind_of, load
from gilbench.report.format import MISSING, as_number, fmt_seconds, row_note
from gilbench.report.terminal import TONE_STYLE

Z95 = 1.96  # two-sided 95% quantile of the standard normal distribution
MEDIAN_SE_FACTOR = 1.2533  # sqrt(pi / 2): SE(median) / SE(mean) for a normal sample
MIN_CHANGE = 0.10  # smallest relative change of the median (fraction of A's) that counts
SIGNIFICANT_MARK = "*"  # appended to a significant row's change in text output

Key = tuple[Any, ...]


def median_ci95(wall_s: object) -> tuple[float, float] | None:
    """The 95% interval ``(low, high)`` of a median, in the units of ``wall_s`` (seconds).

    ``wall_s`` is a ``{median, stdev, n}`` mapping; the half-width is
    ``Z95 · stdev / √n · MEDIAN_SE_FACTOR`` (normal approximation). Returns ``None`` when the
    interval is unknowable: not a mapping, a field missing, ``n < 2`` or a negative stdev.
    """
    if not isinstance(wall_s, Mapping):
        return None
    median, stdev, n = (as_number(wall_s.get(k)) for k in ("median", "stdev", "n"))
    if median is None or stdev is None or n is None or n < 2 or stdev < 0:
        return None
    half = Z95 * stdev / math.sqrt(n) * MEDIAN_SE_FACTOR
    return (median - half, median + half)


def compare(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    *,
    label_a: str | None = None,
    label_b: str | None = None,
) -> dict[str, Any]:
    """Compare results document ``b`` against baseline ``a``; returns a ``kind: compare`` dict.

    The dict holds ``a``/``b`` (label, pythons, command, created), ``rows`` (one per matched
    pair: medians in seconds, 95% intervals, ``ratio`` = B/A, ``factor`` >= 1, ``verdict``),
    ``only_in_a``/``only_in_b``, ``summary`` counts and a one-sentence ``summary_line``.
    ``label_a``/``label_b`` default to "A (<pythons>)" / "B (<pythons>)".

    Raises ``ValueError`` when either input is not a run or bench document
    (``gilbench.documents.load``'s one-line message, or which kind it is instead).
    """
    a, b = _check(a, "A"), _check(b, "B")
    rows_a, rows_b = _results(a), _results(b)
    pythons_a, pythons_b = _pythons(a, rows_a), _pythons(b, rows_b)
    match_python = not (len(pythons_a) == 1 and len(pythons_b) == 1 and pythons_a != pythons_b)
    label_a = label_a or _default_label("A", pythons_a)
    label_b = label_b or _default_label("B", pythons_b)

    index_a, dup_a = _index(rows_a, match_python)
    index_b, dup_b = _index(rows_b, match_python)
    pairs = [_pair(ra, index_b[key]) for key, ra in index_a.items() if key in index_b]
    only_a = [_one_side(r) for key, r in index_a.items() if key not in index_b] + dup_a
    only_b = [_one_side(r) for key, r in index_b.items() if key not in index_a] + dup_b

    summary = _summary(pairs, len(only_a), len(only_b))
    return {
        "schema": SCHEMA,
        "kind": "compare",
        "a": _side(a, label_a, pythons_a),
        "b": _side(b, label_b, pythons_b),
        "match_python": match_python,
        "min_change": MIN_CHANGE,
        "rows": pairs,
        "only_in_a": only_a,
        "only_in_b": only_b,
        "summary": summary,
        "summary_line": _summary_line(label_b, summary),
    }


def _check(doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    checked = load(doc, name)
    if kind_of(checked) not in RESULT_KINDS:
        raise ValueError(
            f"{name} is a {kind_of(checked)} document; compare needs run or bench results"
        )
    return checked


def _results(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows = doc.get("results")
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def _pythons(doc: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    labels = [str(r["python"]) for r in rows if r.get("python") is not None]
    if not labels:
        interpreters = doc.get("interpreters")
        if isinstance(interpreters, list):
            labels = [
                str(i["label"]) for i in interpreters if isinstance(i, Mapping) and i.get("label")
            ]
    return list(dict.fromkeys(labels))


def _default_label(name: str, pythons: Sequence[str]) -> str:
    return f"{name} ({', '.join(pythons)})" if pythons else name


def _side(doc: Mapping[str, Any], label: str, pythons: Sequence[str]) -> dict[str, Any]:
    return {
        "label": label,
        "pythons": list(pythons),
        "command": doc.get("command"),
        "created": doc.get("created"),
    }


def _index(
    rows: Sequence[Mapping[str, Any]], match_python: bool
) -> tuple[dict[Key, Mapping[str, Any]], list[dict[str, Any]]]:
    """Rows by key; a repeated key keeps its first row and lists the rest as unmatched."""
    index: dict[Key, Mapping[str, Any]] = {}
    duplicates: list[dict[str, Any]] = []
    for row in rows:
        key: Key = (row.get("workload"), row.get("strategy"), row.get("workers"))
        if match_python:
            key += (row.get("python"),)
        if key in index:
            duplicates.append({**_one_side(row), "note": "duplicate row, not matched"})
        else:
            index[key] = row
    return index, duplicates


def _one_side(row: Mapping[str, Any]) -> dict[str, Any]:
    wall = row.get("wall_s")
    return {
        "workload": row.get("workload"),
        "strategy": row.get("strategy"),
        "workers": row.get("workers"),
        "python": row.get("python"),
        "status": row.get("status"),
        "median_s": as_number(wall.get("median")) if isinstance(wall, Mapping) else None,
        "note": row_note(row) or None,
    }


def _median(row: Mapping[str, Any]) -> float | None:
    wall = row.get("wall_s")
    median = as_number(wall.get("median")) if isinstance(wall, Mapping) else None
    return median if median is not None and median > 0 else None


def _pair(ra: Mapping[str, Any], rb: Mapping[str, Any]) -> dict[str, Any]:
    a_med, b_med = _median(ra), _median(rb)
    ci_a, ci_b = median_ci95(ra.get("wall_s")), median_ci95(rb.get("wall_s"))
    row: dict[str, Any] = {
        "workload": ra.get("workload"),
        "strategy": ra.get("strategy"),
        "workers": ra.get("workers"),
        "python_a": ra.get("python"),
        "python_b": rb.get("python"),
        "a_median_s": a_med,
        "b_median_s": b_med,
        "a_ci95": list(ci_a) if ci_a else None,
        "b_ci95": list(ci_b) if ci_b else None,
        "ratio": None,
        "factor": None,
        "direction": None,
        "significant": False,
        "verdict": "not comparable",
        "label": "not comparable",
        "note": None,
    }
    problems = [
        f"{side}: {r.get('status') or 'no time'}"
        + (f" ({row_note(r).splitlines()[0]})" if row_note(r) else "")
        for side, r, med in (("A", ra, a_med), ("B", rb, b_med))
        if r.get("status", "ok") != "ok" or med is None
    ]
    if ra.get("tasks") != rb.get("tasks"):
        problems.append(f"tasks differ: {ra.get('tasks')} vs {rb.get('tasks')}")
    if problems or a_med is None or b_med is None:
        row["note"] = "; ".join(problems)
        return row

    ratio = b_med / a_med
    direction = "faster" if ratio < 1 else "slower" if ratio > 1 else "same"
    factor = 1 / ratio if ratio < 1 else ratio
    big_enough = abs(b_med - a_med) / a_med >= MIN_CHANGE - 1e-12
    if ci_a is None or ci_b is None:
        significant, why = False, "too few samples to judge"
    elif ci_a[0] <= ci_b[1] and ci_b[0] <= ci_a[1]:
        significant, why = False, "95% intervals overlap"
    elif not big_enough:
        significant, why = False, f"change below {MIN_CHANGE:.0%}"
    else:
        significant, why = True, None
    text = "same" if direction == "same" else f"{factor:.2f}x {direction}"
    row.update(
        ratio=ratio,
        factor=factor,
        direction=direction,
        significant=significant,
        verdict=direction if significant else "unchanged",
        label=text if significant else f"{text} (not significant)",
        note=why,
    )
    return row


def _geomean(values: Sequence[float]) -> float | None:
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def _summary(pairs: Sequence[Mapping[str, Any]], only_a: int, only_b: int) -> dict[str, Any]:
    by = {
        v: [p for p in pairs if p["verdict"] == v]
        for v in ("faster", "slower", "unchanged", "not comparable")
    }
    comparable = [p["ratio"] for p in pairs if p["ratio"] is not None]
    overall = _geomean([1 / r for r in comparable])
    return {
        "matched": len(pairs),
        "faster": len(by["faster"]),
        "slower": len(by["slower"]),
        "unchanged": len(by["unchanged"]),
        "not_comparable": len(by["not comparable"]),
        "only_in_a": only_a,
        "only_in_b": only_b,
        # Geometric means of the factors among the significantly faster / slower rows.
        "faster_factor": _geomean([p["factor"] for p in by["faster"]]),
        "slower_factor": _geomean([p["factor"] for p in by["slower"]]),
        # A's time / B's time over every comparable row (> 1: B is faster overall).
        "overall_speed_ratio": overall,
    }


def _summary_line(label_b: str, s: Mapping[str, Any]) -> str:
    extra = []
    if s["only_in_a"] or s["only_in_b"]:
        extra.append(f"{s['only_in_a']} rows only in A, {s['only_in_b']} only in B")
    if not s["matched"]:
        return "; ".join([f"no rows in common between A and {label_b}", *extra])
    faster = f"{s['faster_factor']:.2f}x faster" if s["faster"] else "faster"
    slower = f"{s['slower_factor']:.2f}x slower" if s["slower"] else "slower"
    line = (
        f"{label_b} is {faster} on {s['faster']} of {s['matched']} rows, "
        f"{slower} on {s['slower']}, "
        f"no significant change on {s['unchanged']}"
    )
    if s["not_comparable"]:
        line += f", not comparable on {s['not_comparable']}"
    return "; ".join([line, *extra])


# -- presentation ------------------------------------------------------------------------------


def _workers(value: object) -> str:
    return "" if value is None else str(value)


VERDICT_TONE = {
    "faster": "faster",
    "slower": "slower",
    "unchanged": "dim",
    "not comparable": "warn",
}
"""The tone (``gilbench.report.format``) of a compared row, by verdict."""


def _columns(result: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["workload", "strategy", "workers", "A median", "B median", "change"]
    body = [
        [
            str(r.get("workload")),
            str(r.get("strategy")),
            _workers(r.get("workers")),
            fmt_seconds(r.get("a_median_s")),
            fmt_seconds(r.get("b_median_s")),
            str(r.get("label"))
            + (f" {SIGNIFICANT_MARK}" if r.get("significant") else "")
            + (
                f"  [{r['note']}]" if r.get("verdict") == "not comparable" and r.get("note") else ""
            ),
        ]
        for r in result.get("rows", [])
    ]
    return header, body


def _only_line(side: str, rows: Sequence[Mapping[str, Any]]) -> str:
    items = ", ".join(
        f"{r.get('workload')} {r.get('strategy')} x{_workers(r.get('workers'))}"
        + (f" ({r['python']})" if r.get("python") else "")
        for r in rows
    )
    return f"only in {side}: {items}"


def format_compare_lines(result: Mapping[str, Any]) -> list[str]:
    """The comparison as plain text lines: sides, an aligned table, unmatched rows, the summary.

    ``result`` is what ``compare`` returns; medians are shown with ``fmt_seconds``.
    """
    a, b = result.get("a", {}), result.get("b", {})
    lines = [
        f"A: {a.get('label', 'A')}  {a.get('command') or ''}".rstrip(),
        f"B: {b.get('label', 'B')}  {b.get('command') or ''}".rstrip(),
        "",
    ]
    header, body = _columns(result)
    if body:
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
        right = {2, 3, 4}
        for row in [header, *body]:
            cells = [
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
        lines.append(
            f"{SIGNIFICANT_MARK} significant: the medians' 95% intervals do not overlap "
            f"and they differ by >= {result.get('min_change', MIN_CHANGE):.0%}"
        )
    for side, key in (("A", "only_in_a"), ("B", "only_in_b")):
        if result.get(key):
            lines.append(_only_line(side, result[key]))
    lines += ["", str(result.get("summary_line", ""))]
    return lines


def compare_table(result: Mapping[str, Any]) -> Table:
    """A rich Table of the comparison; data goes in as ``Text`` so it is never read as markup."""
    a, b = result.get("a", {}), result.get("b", {})
    table = Table(
        title=Text(f"{b.get('label', 'B')} vs {a.get('label', 'A')}"),
        caption=Text(str(result.get("summary_line", ""))),
    )
    for name, justify in (
        ("workload", "left"),
        ("strategy", "left"),
        ("workers", "right"),
        ("A median", "right"),
        ("B median", "right"),
        ("change", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    header, body = _columns(result)
    for r, cells in zip(result.get("rows", []), body, strict=True):
        style = TONE_STYLE.get(VERDICT_TONE.get(r.get("verdict"), ""), "")
        table.add_row(*(Text(c) for c in cells), style=style)
    for side, key in (("A", "only_in_a"), ("B", "only_in_b")):
        for r in result.get(key, []):
            median = fmt_seconds(r.get("median_s"))
            table.add_row(
                Text(str(r.get("workload"))),
                Text(str(r.get("strategy"))),
                Text(_workers(r.get("workers"))),
                Text(median if side == "A" else MISSING),
                Text(median if side == "B" else MISSING),
                Text(f"only in {side}"),
                style="dim",
            )
    return table
