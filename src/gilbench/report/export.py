"""Export a results document or a comparison as JSON, CSV or GitHub-flavoured Markdown.

One function, :func:`export`, and one small writer per format. The document kind decides the
rows: ``results`` for run/bench documents, ``web_results`` for web documents, ``rows`` (plus the
rows found on one side only) for a comparison made by :func:`gilbench.report.compare.compare`.
The columns are ``gilbench.report.format``'s, the same as the terminal's and the HTML report's:
Markdown writes each cell's text, CSV each column's raw fields (fixed per kind, so spreadsheets
and scripts can rely on them; unknown fields in the input are ignored).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gilbench.documents import kind_of, load
from gilbench.report.format import (
    APP_COLUMNS,
    COMPARE_FIELDS,
    CROSS_RULE,
    MISSING,
    RECOMMENDATION_COLUMNS,
    RESULT_COLUMNS,
    WEB_COLUMNS,
    Column,
    cross_interpreter_columns,
    cross_interpreter_rows,
    csv_fields,
    fmt_seconds,
    pick,
    plain,
    shown_columns,
)

FORMATS = ("json", "csv", "md")  # the values ``export`` accepts for ``fmt``


def export(doc_or_compare: Mapping[str, Any], fmt: str) -> str:
    """Render a gilbench document (run, bench, web or compare) as ``fmt``: 'json', 'csv' or 'md'.

    Returns the whole file as one ``str`` ending in a newline. Times keep the document's units:
    CSV has raw seconds, Markdown the formatted cells (e.g. "12.3 ms").
    Raises ``ValueError`` for an unknown format or a value that is not a gilbench document
    (``gilbench.documents.load``).
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return writer(load(doc_or_compare, "export's input"))


def _json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _rows(value: Any) -> list[Mapping[str, Any]]:
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


def _compare_rows(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Matched rows, then rows found in only one document (verdict 'only in A' / 'only in B')."""
    rows = list(_rows(doc.get("rows")))
    for side, key in (("A", "only_in_a"), ("B", "only_in_b")):
        for r in _rows(doc.get(key)):
            rows.append(
                {
                    "workload": r.get("workload"),
                    "strategy": r.get("strategy"),
                    "workers": r.get("workers"),
                    f"python_{side.lower()}": r.get("python"),
                    f"{side.lower()}_median_s": r.get("median_s"),
                    "verdict": f"only in {side}",
                    "note": r.get("note"),
                }
            )
    return rows


def _csv(doc: Mapping[str, Any]) -> str:
    kind = kind_of(doc)
    if kind == "web":
        fields, rows = csv_fields(WEB_COLUMNS), _rows(doc.get("web_results"))
    elif kind == "web-app":
        fields, rows = csv_fields(APP_COLUMNS), _rows(doc.get("app_results"))
    elif kind == "compare":
        fields, rows = list(COMPARE_FIELDS), _compare_rows(doc)
    else:
        fields, rows = csv_fields(RESULT_COLUMNS), _rows(doc.get("results"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name, _ in fields])
    for row in rows:
        writer.writerow([_csv_cell(pick(row, path)) for _, path in fields])
    return out.getvalue()


def md_cell(value: Any) -> str:
    """Text safe inside a GFM table cell: whitespace runs collapsed to one space, ``\\`` and
    ``|`` backslash-escaped, ``& < >`` as HTML entities. ``None`` becomes ""."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def md_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()
) -> list[str]:
    """A GFM table as a list of lines (header, ``---`` rule, one line per row).

    Cells go through ``md_cell``; columns whose index is in ``right`` are right-aligned (``---:``).
    """
    lines = ["| " + " | ".join(md_cell(h) for h in header) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|")
    lines.extend("| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows)
    return lines


def md_columns(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """A GFM table (list of lines) of ``rows`` with the columns ``format.shown_columns`` keeps.

    Numeric columns are right-aligned; cells are the plain text of each ``Column.cell``.
    """
    shown = shown_columns(columns, rows)
    return md_table(
        [c.title for c in shown],
        [[plain(c.cell(r)) for c in shown] for r in rows],
        right=[i for i, c in enumerate(shown) if c.numeric],
    )


def _md_run(doc: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    recs = _rows(doc.get("recommendations"))
    if recs:
        lines += ["**Verdict**", "", *md_columns(RECOMMENDATION_COLUMNS, recs), ""]
    across = cross_interpreter_rows(doc)
    if across:
        lines += [
            "**Across interpreters**",
            "",
            *md_columns(cross_interpreter_columns(across), across),
            "",
            *(f"- {md_cell(r.get('workload'))}: {md_cell(r.get('why'))}" for r in across),
            "",
            md_cell(CROSS_RULE),
            "",
        ]
    return lines + md_columns(RESULT_COLUMNS, _rows(doc.get("results")))


def _md_web(doc: Mapping[str, Any]) -> list[str]:
    return md_columns(WEB_COLUMNS, _rows(doc.get("web_results")))


def _md_web_app(doc: Mapping[str, Any]) -> list[str]:
    from gilbench.report.webapp import verdict_lines

    lines = [
        f"  - {md_cell(line[5:])}" if line.startswith("  -> ") else f"- {md_cell(line)}"
        for line in verdict_lines(doc)
    ]
    return lines + [""] * bool(lines) + md_columns(APP_COLUMNS, _rows(doc.get("app_results")))


def _md_compare(doc: Mapping[str, Any]) -> list[str]:
    a, b = doc.get("a") or {}, doc.get("b") or {}
    lines = []
    if doc.get("summary_line"):
        lines += [f"**{md_cell(doc['summary_line'])}**", ""]
    lines += md_table(
        [
            "workload",
            "strategy",
            "workers",
            a.get("label") or "A",
            b.get("label") or "B",
            "change",
            "significant",
        ],
        [
            [
                r.get("workload"),
                r.get("strategy"),
                r.get("workers"),
                fmt_seconds(r.get("a_median_s")) if "a_median_s" in r else MISSING,
                fmt_seconds(r.get("b_median_s")) if "b_median_s" in r else MISSING,
                r.get("label") or r.get("verdict") or "",
                {True: "yes", False: "no"}.get(r.get("significant"), ""),
            ]
            for r in _compare_rows(doc)
        ],
        right=(2, 3, 4),
    )
    return lines


def _md(doc: Mapping[str, Any]) -> str:
    builders: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
        "web": _md_web,
        "web-app": _md_web_app,
        "compare": _md_compare,
    }
    lines = builders.get(kind_of(doc), _md_run)(doc)
    command = doc.get("command")
    if command:
        lines += ["", f"Command: {md_code(' '.join(str(command).split()))}"]
    return "\n".join(lines) + "\n"


def md_code(text: str) -> str:
    """``text`` as a GFM inline code span, fenced by one backtick more than its longest run.

    Code spans show their content literally, so nothing inside is escaped.
    """
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


_WRITERS: dict[str, Callable[[Mapping[str, Any]], str]] = {"json": _json, "csv": _csv, "md": _md}
