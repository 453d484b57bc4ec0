"""Export a results document or a comparison as JSON, CSV or GitHub-flavoured Markdown.

One function, :func:`export`, and one small writer per format. The document kind decides the
rows: ``results`` for run/bench documents, ``web_results`` for web documents, ``rows`` (plus the
rows found on one side only) for a comparison made by :func:`gilbench.report.compare.compare`.
CSV columns are fixed per kind so spreadsheets and scripts can rely on them; unknown fields in
the input are ignored. The number formatters used by every text report live here too.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

FORMATS = ("json", "csv", "md")

# CSV column -> path into a result row (a key, or a (key, subkey / index) pair).
RUN_COLUMNS: dict[str, tuple[Any, ...]] = {
    "workload": ("workload",),
    "strategy": ("strategy",),
    "workers": ("workers",),
    "tasks": ("tasks",),
    "python": ("python",),
    "status": ("status",),
    "wall_s_median": ("wall_s", "median"),
    "wall_s_mean": ("wall_s", "mean"),
    "wall_s_stdev": ("wall_s", "stdev"),
    "wall_s_min": ("wall_s", "min"),
    "wall_s_max": ("wall_s", "max"),
    "wall_s_n": ("wall_s", "n"),
    "cpu_s": ("cpu_s",),
    "cpu_util": ("cpu_util",),
    "speedup": ("speedup",),
    "speedup_ci95_low": ("speedup_ci95", 0),
    "speedup_ci95_high": ("speedup_ci95", 1),
    "gil_contention": ("gil_contention",),
    "max_rss_mb": ("max_rss_mb",),
    "startup_s": ("startup_s",),
    "error": ("error",),
    "reason": ("reason",),
    "note": ("note",),
}

WEB_COLUMNS: dict[str, tuple[Any, ...]] = {
    "variant": ("variant",),
    "concurrency": ("concurrency",),
    "server_workers": ("server_workers",),
    "threadpool": ("threadpool",),
    "mode": ("mode",),
    "rps": ("rps",),
    "expected_rps": ("expected_rps",),
    "requests": ("requests",),
    "errors": ("errors",),
    "timeouts": ("timeouts",),
    "latency_ms_p50": ("latency_ms", "p50"),
    "latency_ms_p95": ("latency_ms", "p95"),
    "latency_ms_p99": ("latency_ms", "p99"),
    "latency_ms_max": ("latency_ms", "max"),
    "server_cpu_s": ("server_cpu_s",),
    "generator_cpu_s": ("generator_cpu_s",),
    "other_cpu_s": ("other_cpu_s",),
    "attempts": ("attempts",),
    "above_half_ceiling": ("above_half_ceiling",),
    "lesson": ("lesson",),
    "error": ("error",),
}

COMPARE_COLUMNS: dict[str, tuple[Any, ...]] = {
    "workload": ("workload",),
    "strategy": ("strategy",),
    "workers": ("workers",),
    "python_a": ("python_a",),
    "python_b": ("python_b",),
    "a_median_s": ("a_median_s",),
    "b_median_s": ("b_median_s",),
    "a_ci95_low": ("a_ci95", 0),
    "a_ci95_high": ("a_ci95", 1),
    "b_ci95_low": ("b_ci95", 0),
    "b_ci95_high": ("b_ci95", 1),
    "ratio": ("ratio",),
    "factor": ("factor",),
    "direction": ("direction",),
    "significant": ("significant",),
    "verdict": ("verdict",),
    "label": ("label",),
    "note": ("note",),
}


# -- number formatting shared by the text and HTML reports ---------------------------------

def as_number(value: object) -> float | None:
    """``value`` as a float, or ``None`` when missing, not numeric (bools count as not), NaN or inf."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def fmt_seconds(value: object) -> str:
    """1.42 -> '1.42 s', 0.74 -> '740 ms', 0.0021 -> '2.1 ms', None -> '—'."""
    v = as_number(value)
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:.0f} s"
    if abs(v) >= 1:
        return f"{v:.2f} s"
    if abs(v) >= 1e-3 or v == 0:
        return f"{v * 1e3:.3g} ms"
    return f"{v * 1e6:.3g} µs"


def fmt_factor(value: object, sign: str = "x") -> str:
    """0.953 -> '0.95x'."""
    v = as_number(value)
    return "—" if v is None else f"{v:.2f}{sign}"


def fmt_pct(value: object) -> str:
    """0.48 -> '48%'."""
    v = as_number(value)
    return "—" if v is None else f"{v * 100:.0f}%"


def fmt_num(value: object, digits: int = 2) -> str:
    """A plain number with ``digits`` decimals (integers stay integers); None -> '—'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    v = as_number(value)
    return "—" if v is None else f"{v:,.{digits}f}"


def fmt_ci(value: object, sign: str = "x") -> str:
    """A [low, high] pair -> '0.91–0.99x', anything else -> ''."""
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        low, high = as_number(value[0]), as_number(value[1])
        if low is not None and high is not None:
            return f"{low:.2f}–{high:.2f}{sign}"
    return ""


def doc_kind(doc: Mapping[str, Any]) -> str:
    """'run', 'bench', 'web' or 'compare' (inferred from the content when ``kind`` is absent)."""
    kind = doc.get("kind")
    if kind in ("run", "bench", "web", "compare"):
        return str(kind)
    if "web_results" in doc:
        return "web"
    if "rows" in doc and "summary" in doc:
        return "compare"
    return "run"


def row_note(row: Mapping[str, Any]) -> str:
    """The text explaining a result row: its error, skip reason and note, joined."""
    parts = [str(row[k]) for k in ("error", "reason", "note") if row.get(k) not in (None, "")]
    return "; ".join(parts)


# -- export ----------------------------------------------------------------------------------

def export(doc_or_compare: Mapping[str, Any], fmt: str) -> str:
    """Render a results document or comparison as ``fmt`` ('json', 'csv' or 'md')."""
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not isinstance(doc_or_compare, Mapping):
        raise ValueError("export needs a gilbench document (a JSON object)")
    return writer(doc_or_compare)


def _json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _pick(row: Mapping[str, Any], path: tuple[Any, ...]) -> Any:
    value: Any = row
    for key in path:
        if isinstance(key, int):
            ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) > key
            value = value[key] if ok else None
        else:
            value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _table(doc: Mapping[str, Any]) -> tuple[dict[str, tuple[Any, ...]], list[Mapping[str, Any]]]:
    kind = doc_kind(doc)
    if kind == "web":
        return WEB_COLUMNS, _rows(doc.get("web_results"))
    if kind == "compare":
        return COMPARE_COLUMNS, _compare_rows(doc)
    return RUN_COLUMNS, _rows(doc.get("results"))


def _rows(value: Any) -> list[Mapping[str, Any]]:
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


def _compare_rows(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Matched rows, then rows found in only one document (verdict 'only in A' / 'only in B')."""
    rows = list(_rows(doc.get("rows")))
    for side, key in (("A", "only_in_a"), ("B", "only_in_b")):
        for r in _rows(doc.get(key)):
            rows.append({
                "workload": r.get("workload"),
                "strategy": r.get("strategy"),
                "workers": r.get("workers"),
                f"python_{side.lower()}": r.get("python"),
                f"{side.lower()}_median_s": r.get("median_s"),
                "verdict": f"only in {side}",
                "note": r.get("note"),
            })
    return rows


def _csv(doc: Mapping[str, Any]) -> str:
    columns, rows = _table(doc)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(_pick(row, path)) for path in columns.values()])
    return out.getvalue()


def md_cell(value: Any) -> str:
    """Text safe inside a GFM table cell: no pipes, newlines or raw HTML."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return (
        text.replace("\\", "\\\\").replace("|", "\\|")
        .replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    )


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> list[str]:
    """A GFM table; columns whose index is in ``right`` are right-aligned."""
    lines = ["| " + " | ".join(md_cell(h) for h in header) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|")
    lines.extend("| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows)
    return lines


def _md_run(doc: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    recs = _rows(doc.get("recommendations"))
    if recs:
        lines += ["**Verdict**", ""]
        lines += md_table(
            ["workload", "python", "classification", "use", "workers", "speedup", "why"],
            [[r.get("workload"), r.get("python"), r.get("classification"), r.get("strategy"),
              r.get("workers"), fmt_factor(r.get("speedup")), r.get("why")] for r in recs],
            right=(4, 5),
        )
        lines.append("")
    lines += md_table(
        ["workload", "python", "strategy", "workers", "status", "wall (median)", "speedup",
         "CPU util", "GIL contention", "note"],
        [[r.get("workload"), r.get("python"), r.get("strategy"), r.get("workers"), r.get("status"),
          fmt_seconds(_pick(r, ("wall_s", "median"))), fmt_factor(r.get("speedup")),
          fmt_num(r.get("cpu_util")), fmt_pct(r.get("gil_contention")), row_note(r)]
         for r in _rows(doc.get("results"))],
        right=(3, 5, 6, 7, 8),
    )
    return lines


def _md_web(doc: Mapping[str, Any]) -> list[str]:
    return md_table(
        ["variant", "server workers", "concurrency", "RPS", "expected RPS", "p50 ms", "p99 ms",
         "errors", "timeouts"],
        [[r.get("variant"), r.get("server_workers"), r.get("concurrency"), fmt_num(r.get("rps"), 1),
          fmt_num(r.get("expected_rps"), 1), fmt_num(_pick(r, ("latency_ms", "p50")), 1),
          fmt_num(_pick(r, ("latency_ms", "p99")), 1), r.get("errors"), r.get("timeouts")]
         for r in _rows(doc.get("web_results"))],
        right=(1, 2, 3, 4, 5, 6, 7, 8),
    )


def _md_compare(doc: Mapping[str, Any]) -> list[str]:
    a, b = doc.get("a") or {}, doc.get("b") or {}
    lines = []
    if doc.get("summary_line"):
        lines += [f"**{md_cell(doc['summary_line'])}**", ""]
    lines += md_table(
        ["workload", "strategy", "workers", a.get("label") or "A", b.get("label") or "B",
         "change", "significant"],
        [[r.get("workload"), r.get("strategy"), r.get("workers"),
          fmt_seconds(r.get("a_median_s")) if "a_median_s" in r else "—",
          fmt_seconds(r.get("b_median_s")) if "b_median_s" in r else "—",
          r.get("label") or r.get("verdict") or "",
          {True: "yes", False: "no"}.get(r.get("significant"), "")]
         for r in _compare_rows(doc)],
        right=(2, 3, 4),
    )
    return lines


def _md(doc: Mapping[str, Any]) -> str:
    kind = doc_kind(doc)
    builders: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
        "web": _md_web, "compare": _md_compare,
    }
    lines = builders.get(kind, _md_run)(doc)
    command = doc.get("command")
    if command:
        lines += ["", f"Command: {md_code(' '.join(str(command).split()))}"]
    return "\n".join(lines) + "\n"


def md_code(text: str) -> str:
    """``text`` as an inline code span (shown literally, so no escaping), fenced by enough backticks."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


_WRITERS: dict[str, Callable[[Mapping[str, Any]], str]] = {"json": _json, "csv": _csv, "md": _md}
