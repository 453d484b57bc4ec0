"""One self-contained HTML report from gilbench documents: inline CSS, inline SVG, no JavaScript.

Layout, top to bottom: the verdict table (every recommendation, then the verdicts across
interpreters), then per run/bench document: when it ran several interpreters, the interpreters
side by side (per workload a grouped bar chart of median wall time and a table, under the verdict
across interpreters); then per workload a speedup-versus-workers chart (one line per strategy,
the ideal y = x line) beside CPU-utilisation and GIL-contention charts and the results table;
per web document RPS and p99 latency versus concurrency (one pair of charts per server-workers
value) and its table; any comparison; finally the environment, every warning and the exact
command behind each document.

Every string from a document goes through :func:`_e` (``html.escape``) or through the SVG
builders, which escape their own text. A Content-Security-Policy forbidding scripts is a second
line of defence, not the first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from gilbench import strategies as strategy_registry
from gilbench._version import __version__
from gilbench.documents import kind_of as doc_kind
from gilbench.documents import load
from gilbench.report.format import (
    APP_COLUMNS,
    CROSS_RULE,
    MISSING,
    RECOMMENDATION_COLUMNS,
    RESULT_COLUMNS,
    WEB_COLUMNS,
    Cell,
    Column,
    Span,
    as_number,
    classification_help,
    cross_interpreter_columns,
    cross_interpreter_rows,
    fmt_ci,
    fmt_factor,
    fmt_num,
    fmt_pct,
    fmt_seconds,
    interpreter_kinds,
    short_config,
    shown_columns,
    speedup_band,
    status_cell,
    use_cell,
)
from gilbench.report.svg import (
    DASHES,
    MARKERS,
    PALETTE,
    BarSeries,
    RefLine,
    Series,
    bar_chart,
    line_chart,
    tint,
)

TIMES = "\u00d7"  # the multiplication sign after a factor: 1.93×

# The marker shape of each strategy on line charts (one of ``svg.MARKERS``); others: circle.
STRATEGY_MARKERS = {
    "sequential": "square",
    "threads": "triangle",
    "processes": "circle",
    "asyncio": "diamond",
}
IDEAL_COLOR = "#9aa0a6"  # the grey of the ideal y = x speedup line

CSS = """
:root{--ink:#1f2328;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa;--accent:#0969da}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#fff;color:var(--ink);
 font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:28px 32px 72px}
h1{font-size:28px;line-height:1.2;margin:0 0 6px;letter-spacing:-.01em}
h2{font-size:21px;margin:44px 0 14px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:17px;margin:30px 0 8px}
h4{font-size:14px;margin:18px 0 6px;color:var(--muted);text-transform:uppercase;
 letter-spacing:.04em}
h4.mono{text-transform:none;letter-spacing:0;color:var(--ink)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
p{margin:6px 0 10px}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;
 font-size:13px}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:10px 12px;
 margin:6px 0 14px;white-space:pre-wrap;overflow-wrap:anywhere}
.lede{color:var(--muted);margin:0 0 12px}
nav.toc{font-size:14px;color:var(--muted);margin:8px 0 0}
nav.toc a{margin-right:14px}
.alert{background:#fff8c5;border:1px solid #d4a72c66;border-radius:6px;padding:8px 12px;
 margin:14px 0;font-size:14px}
.table-wrap{overflow-x:auto;margin:8px 0 10px}
table{border-collapse:collapse;width:100%;font-size:13.5px;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
td:last-child{min-width:12em;overflow-wrap:anywhere}
table.results th,table.web th{white-space:normal}
th{background:var(--soft);font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap}
tbody tr:nth-child(even){background:#fbfcfd}
tr.row-skipped td,tr.row-pending td,tr.row-error td,tr.row-timeout td{color:var(--muted)}
table.verdict{font-size:14.5px}
.why{color:var(--muted)}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;
 line-height:1.6;white-space:nowrap;background:#ddf4ff;color:#0a3069;vertical-align:1px}
.status-ok{background:#dafbe1;color:#116329}
.status-error,.status-timeout{background:#ffebe9;color:#a40e26}
.status-skipped{background:#eaeef2;color:#424a53}
.verdict-faster{background:#dafbe1;color:#116329}
.verdict-slower{background:#ffebe9;color:#a40e26}
.verdict-unchanged,.verdict-not{background:#eaeef2;color:#424a53}
.speedup-much-faster{color:#116329;font-weight:600}.speedup-faster{color:#116329}
.speedup-slower{color:#a40e26}
.err{color:#a40e26}
.note{color:var(--muted);font-size:13px}
.rec{background:var(--soft);border-left:4px solid var(--accent);padding:8px 12px;margin:6px 0 12px;
 border-radius:0 6px 6px 0}
.charts{display:grid;grid-template-columns:minmax(0,1.6fr) minmax(0,1fr);gap:16px;
 align-items:start;margin:10px 0}
.charts.two{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}
.side{display:grid;gap:16px}
svg.chart{display:block;width:100%;height:auto;border:1px solid var(--line);border-radius:8px;
 background:#fff}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:6px 0 14px;
 font-size:14px}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;overflow-wrap:anywhere}
details summary{cursor:pointer;color:var(--muted)}
.nowrap{white-space:nowrap}
footer{margin-top:48px;color:var(--muted);font-size:13px}
@media (max-width:920px){.charts,.charts.two{grid-template-columns:1fr}
 main{padding:20px 16px 48px}}
@media print{main{max-width:none;padding:0}.charts{break-inside:avoid}
 h2,h3{break-after:avoid}}
"""

# No script may run in a report, whatever a document contains.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _e(value: object) -> str:
    """Escape anything for HTML text or a quoted attribute."""
    return escape("" if value is None else str(value), quote=True)


def _value(value: object) -> str:
    """A scalar or structure as readable escaped text."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return _e(json.dumps(value, ensure_ascii=False))
    return _e(value)


def _rows(value: object) -> list[Mapping[str, Any]]:
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


_strategy_key = strategy_registry.sort_key


def _strategy_color(name: str, others: list[str]) -> str:
    """The registry's colour; a name it does not know (an old document) gets one of its own."""
    if strategy_registry.traits(name):
        return strategy_registry.colour(name)
    if name not in others:
        others.append(name)
    return PALETTE[(others.index(name) + 4) % len(PALETTE)]


def _workers_key(value: object) -> float:
    v = as_number(value)
    return v if v is not None else float("inf")


def _table(
    header: Sequence[tuple[str, bool]],
    rows: Iterable[tuple[str, Sequence[str]]],
    css_class: str = "",
) -> str:
    """An HTML table. ``header``: (escaped label, numeric?); rows: (tr class, escaped cells)."""
    head = "".join(f'<th class="num">{h}</th>' if num else f"<th>{h}</th>" for h, num in header)
    body = []
    for tr_class, cells in rows:
        tds = "".join(
            f'<td class="num">{c}</td>' if num else f"<td>{c}</td>"
            for c, (_, num) in zip(cells, header, strict=False)
        )
        body.append(f'<tr class="{_e(tr_class)}">{tds}</tr>' if tr_class else f"<tr>{tds}</tr>")
    cls = f' class="{_e(css_class)}"' if css_class else ""
    return (
        f'<div class="table-wrap"><table{cls}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _badge(text: object, css: str = "", title: str | None = None) -> str:
    tip = f' title="{_e(title)}"' if title else ""
    return f'<span class="badge {_e(css)}"{tip}>{_e(text)}</span>'


def _long_text(text: str, css: str = "") -> str:
    """Escaped text; a multi-line message shows its first line and folds the rest."""
    cls = f' class="{css}"' if css else ""
    first, _, rest = text.strip().partition("\n")
    if not rest:
        return f"<span{cls}>{_e(first)}</span>"
    return (
        f"<details><summary><span{cls}>{_e(first)}</span></summary><pre>{_e(text)}</pre></details>"
    )


# A tone of ``gilbench.report.format`` as a badge's class, or as a span's class.
_BADGE = {"ok": "status-ok", "warn": "status-skipped", "bad": "status-error"}
_CLASS = {
    "dim": "note",
    "error": "err",
    "mono": "mono",
    "much-faster": "speedup-much-faster",
    "faster": "speedup-faster",
    "slower": "speedup-slower",
}


def _span(span: Span) -> str:
    if not span.text:
        return ""
    if span.tone in _BADGE:
        return _badge(span.text, _BADGE[span.tone])
    if span.tone == "tag" and span.text != MISSING:
        return _badge(span.text, title=classification_help(span.text) or None)
    if span.tone == "strong":
        return f"<b>{_e(span.text)}</b>"
    if span.tone == "doc":  # the number of a document in this report
        return f'<a href="#doc-{_e(span.text)}">#{_e(span.text)}</a>'
    css = _CLASS.get(span.tone, "")
    if "\n" in span.text.strip():
        return _long_text(span.text, css)
    return f'<span class="{css}">{_e(span.text)}</span>' if css else _e(span.text)


def _cell(cell: Cell) -> str:
    """A cell of ``gilbench.report.format`` as escaped HTML."""
    return "".join(_span(span) for span in cell)


def _columns_table(
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    css_class: str,
    tr_class: Callable[[Mapping[str, Any]], str] = lambda r: "",
) -> str:
    """An HTML table of ``rows`` with ``columns``; ``tr_class(row)`` classes each row."""
    return _table(
        [(_e(c.title), c.numeric) for c in columns],
        [(tr_class(r), [_cell(c.cell(r)) for c in columns]) for r in rows],
        css_class,
    )


def _created(doc: Mapping[str, Any]) -> str:
    created = doc.get("created")
    if not isinstance(created, str):
        return ""
    try:
        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return created
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _doc_title(i: int, doc: Mapping[str, Any]) -> str:
    kind = doc_kind(doc)
    name = {
        "run": "Run",
        "bench": "Bench",
        "web": "Web lab",
        "web-app": "Your app",
        "compare": "Comparison",
    }[kind]
    return f"{name} #{i}"


# -- verdict -------------------------------------------------------------------------------------


def _web_claim(doc: Mapping[str, Any]) -> str | None:
    """The web lab's check of the post's claim, or None when the document cannot say it."""
    from gilbench.report.web import verdict

    try:
        return verdict(doc)  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError, AttributeError):  # a hand-edited or partial document
        return None


def _verdict_section(docs: Sequence[Mapping[str, Any]]) -> str:
    recs = [(i, r) for i, d in enumerate(docs, 1) for r in _rows(d.get("recommendations"))]
    several = len({i for i, _ in recs}) > 1
    parts = ['<section id="verdict"><h2>Verdict</h2>']
    if recs:
        doc_column = Column("Doc", lambda r: (Span(str(r["doc"]), "doc"),), numeric=True)
        columns = [doc_column] * several + list(RECOMMENDATION_COLUMNS)
        parts.append(_columns_table(columns, [{**r, "doc": i} for i, r in recs], "verdict"))
        parts.append(
            '<p class="note">Speedup is against <code>sequential</code> on the same tasks and '
            "interpreter. A difference counts only when it is significant and at least 10%; "
            "otherwise the simpler strategy is recommended.</p>"
        )
    across = [{**r, "doc": i} for i, d in enumerate(docs, 1) for r in cross_interpreter_rows(d)]
    if across:
        doc_column = Column("Doc", lambda r: (Span(str(r["doc"]), "doc"),), numeric=True)
        several_docs = len({r["doc"] for r in across}) > 1
        columns = [doc_column] * several_docs + cross_interpreter_columns(across)
        parts.append("<h3>Across interpreters: fastest in absolute time</h3>")
        parts.append(_columns_table(columns, across, "verdict"))
        parts.append(f'<p class="note">{_e(CROSS_RULE)}</p>')
    claims = [
        (i, text) for i, d in enumerate(docs, 1) if doc_kind(d) == "web" and (text := _web_claim(d))
    ]
    apps = [
        (i, str(d["recommendation"]["sentence"]))
        for i, d in enumerate(docs, 1)
        if doc_kind(d) == "web-app" and isinstance(d.get("recommendation"), Mapping)
    ]
    if not recs and not claims and not apps:
        parts.append('<p class="note">These documents carry no recommendations.</p>')
    for i, text in claims:
        parts.append(f'<p class="rec"><a href="#doc-{i}">Web lab #{i}</a>: {_e(text)}</p>')
    for i, text in apps:
        parts.append(f'<p class="rec"><a href="#doc-{i}">Your app #{i}</a>: {_e(text)}</p>')
    for i, d in enumerate(docs, 1):
        if doc_kind(d) == "compare" and d.get("summary_line"):
            parts.append(
                f'<p class="rec"><a href="#doc-{i}">Comparison #{i}</a>: '
                f"{_e(d['summary_line'])}</p>"
            )
    parts.append("</section>")
    return "".join(parts)


# -- run / bench -----------------------------------------------------------------------------------


def _series_key(row: Mapping[str, Any], several_pythons: bool) -> tuple[str, str]:
    return (str(row.get("strategy")), str(row.get("python")) if several_pythons else "")


def _series_label(key: tuple[str, str]) -> str:
    strategy, python = key
    return f"{strategy} · {python}" if python else strategy


def _usable_cores(doc: Mapping[str, Any]) -> float | None:
    env = doc.get("environment") if isinstance(doc.get("environment"), Mapping) else {}
    affinity = env.get("cpu_affinity")
    if isinstance(affinity, list) and affinity:
        return float(len(affinity))
    return as_number(env.get("cpu_count"))


def _workload_charts(
    i: int, j: int, workload: str, rows: Sequence[Mapping[str, Any]], doc: Mapping[str, Any]
) -> str:
    pythons = list(dict.fromkeys(str(r.get("python")) for r in rows))
    several = len(pythons) > 1
    others: list[str] = []
    ok = [r for r in rows if (r.get("status") or "ok") == "ok"]
    keys = sorted(
        {_series_key(r, several) for r in ok},
        key=lambda k: (_strategy_key(k[0]), pythons.index(k[1]) if k[1] in pythons else 0),
    )
    workers = sorted({w for r in rows if (w := as_number(r.get("workers"))) is not None})
    cores = _usable_cores(doc)
    core_ref = [RefLine(cores, f"{fmt_num(cores, 0)} usable cores")] if cores else []

    def style(key: tuple[str, str]) -> tuple[str, str | None]:
        color = _strategy_color(key[0], others)
        dash = (
            DASHES[pythons.index(key[1]) % len(DASHES)] if several and key[1] in pythons else None
        )
        return color, dash

    def by_key(key: tuple[str, str]) -> list[Mapping[str, Any]]:
        return sorted(
            (r for r in ok if _series_key(r, several) == key),
            key=lambda r: _workers_key(r.get("workers")),
        )

    series = []
    if workers:
        series.append(
            Series(
                "ideal (y = x)",
                [(w, w) for w in workers],
                IDEAL_COLOR,
                dash="5 4",
                width=1.5,
                markers=False,
            )
        )
    for key in keys:
        pts = by_key(key)
        color, dash = style(key)
        series.append(
            Series(
                _series_label(key),
                [(as_number(r.get("workers")) or 0.0, as_number(r.get("speedup"))) for r in pts],
                color,
                dash=dash,
                marker=STRATEGY_MARKERS.get(key[0], "circle"),
                errors=[
                    tuple(r["speedup_ci95"])
                    if isinstance(r.get("speedup_ci95"), list) and len(r["speedup_ci95"]) == 2
                    else None
                    for r in pts
                ],
                tooltips=[
                    (
                        f"{_series_label(key)}, {r.get('workers')} workers: "
                        f"{fmt_factor(r.get('speedup'), TIMES)} "
                        f"{fmt_ci(r.get('speedup_ci95'), TIMES)}"
                    ).rstrip()
                    for r in pts
                ],
            )
        )
    speedup = line_chart(
        f"{i}/speedup/{workload}",
        f"{workload}: speedup vs workers",
        series,
        x_label="workers",
        y_label=f"speedup vs sequential ({TIMES})",
        x_ticks=workers or None,
        y_min=0.0,
        ref_lines=core_ref,
        y_format=lambda v: f"{v:g}{TIMES}",
    )

    categories = [fmt_num(w, 0) for w in workers]

    def bars(field: str) -> list[BarSeries]:
        fmt = fmt_pct if field == "gil_contention" else fmt_num
        out = []
        for key in keys:
            values = {as_number(r.get("workers")): as_number(r.get(field)) for r in by_key(key)}
            if all(v is None for v in values.values()):
                continue
            # Bars cannot be dashed: a second or third interpreter gets a lighter shade instead.
            shade = (pythons.index(key[1]) % 3) * 0.4 if several and key[1] in pythons else 0.0
            out.append(
                BarSeries(
                    _series_label(key),
                    [values.get(w) for w in workers],
                    tint(style(key)[0], shade),
                    tooltips=[
                        f"{_series_label(key)}, {fmt_num(w, 0)} workers: {fmt(values.get(w))}"
                        for w in workers
                    ],
                )
            )
        return out

    cpu_bars = bars("cpu_util")
    cpu = bar_chart(
        f"{i}/cpu-util/{workload}",
        "CPU utilisation (CPU s / wall s)",
        categories,
        cpu_bars,
        x_label="workers",
        y_label="cores busy",
        ref_lines=core_ref,
        plot_height=120,
    )
    gil_bars = bars("gil_contention")
    unmeasured = [
        _series_label(k) for k in keys if _series_label(k) not in {b.label for b in gil_bars}
    ]
    gil = bar_chart(
        f"{i}/gil/{workload}",
        "GIL contention",
        categories,
        gil_bars,
        x_label="workers",
        y_label="waiting for the GIL",
        y_max=1.0,
        plot_height=120,
        y_format=lambda v: f"{v * 100:.0f}%",
        footnote=f"not measurable: {', '.join(unmeasured)}" if unmeasured else None,
    )

    missing = [r for r in rows if (r.get("status") or "ok") != "ok"]
    note = ""
    if missing:
        items = "; ".join(
            f"{_e(r.get('strategy'))} {TIMES}{_e(r.get('workers'))} {_e(r.get('status'))}"
            + (
                f" ({_e(str(r.get('reason') or r.get('error') or '').splitlines()[0])})"
                if r.get("reason") or r.get("error")
                else ""
            )
            for r in missing
        )
        note = f'<p class="note">Not plotted: {items}.</p>'
    return (
        f'<div class="charts"><div class="main">{speedup}{note}</div>'
        f'<div class="side">{cpu}{gil}</div></div>'
    )


def _results_table(rows: Sequence[Mapping[str, Any]]) -> str:
    # One workload per table: its name is the section's heading.
    columns = [c for c in shown_columns(RESULT_COLUMNS, rows) if c.title != "Workload"]
    return _columns_table(columns, rows, "results", lambda r: f"row-{r.get('status') or 'ok'}")


def _run_section(i: int, doc: Mapping[str, Any]) -> str:
    rows = _rows(doc.get("results"))
    recs = _rows(doc.get("recommendations"))
    workloads = list(dict.fromkeys(str(r.get("workload")) for r in rows))
    pythons = list(dict.fromkeys(str(r.get("python")) for r in rows))
    parts = [
        f'<section class="doc" id="doc-{i}"><h2>{_e(_doc_title(i, doc))}: '
        f"{_e(', '.join(workloads) or 'no results')}</h2>",
        f'<p class="lede">Python {_e(", ".join(pythons))} · {_e(_created(doc))} · '
        f"{_e(len(rows))} result rows</p>",
    ]
    if len(pythons) > 1:
        parts.append(_interpreters_section(i, doc, rows, workloads))
    for j, workload in enumerate(workloads, 1):
        w_rows = sorted(
            (r for r in rows if str(r.get("workload")) == workload),
            key=lambda r: (
                pythons.index(str(r.get("python"))),
                _strategy_key(r.get("strategy")),
                _workers_key(r.get("workers")),
            ),
        )
        classes = dict.fromkeys(
            str(r["classification"])
            for r in recs
            if str(r.get("workload")) == workload and r.get("classification")
        )
        badges = "".join(" " + _span(Span(c, "tag")) for c in classes)
        parts.append(
            f'<section class="workload" id="d{i}-w{j}">'
            f'<h3><span class="mono">{_e(workload)}</span>{badges}</h3>'
        )
        for r in recs:
            if str(r.get("workload")) == workload:
                use = ("use " if r.get("decided", True) is not False else "") + _cell(use_cell(r))
                parts.append(
                    f'<p class="rec">Python {_e(r.get("python"))}: {use} '
                    f"with {_value(r.get('workers'))} workers, "
                    f"{_e(fmt_factor(r.get('speedup'), TIMES))} "
                    f'<span class="why">— {_e(r.get("why"))}</span></p>'
                )
        parts.append(_workload_charts(i, j, workload, w_rows, doc))
        parts.append(_results_table(w_rows))
        parts.append("</section>")
    parts.append("</section>")
    return "".join(parts)


# -- interpreters side by side ---------------------------------------------------------------------


def _python_label(python: str, kinds: Mapping[str, str]) -> str:
    """'3.13.15t (free-threaded, GIL off)'; a default build's label alone."""
    kind = kinds.get(python)
    return f"{python} ({kind})" if kind else python


def _interpreters_section(
    i: int, doc: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], workloads: list[str]
) -> str:
    """Per workload, each interpreter's median wall time and speedup for every (strategy,
    workers), as a grouped bar chart and a table, under the sentence of the verdict across
    interpreters (``cross_interpreter``; documents older than it show the measurements alone)."""
    kinds = interpreter_kinds(doc)
    parts = [
        f'<section class="workload" id="d{i}-pythons"><h3>Interpreters side by side</h3>',
        '<p class="note">Median wall time of one pass over the same tasks on each interpreter '
        "(bold: the fastest, leaving out rows past a physical limit, which are marked); the "
        "factor is the speedup against that interpreter's own sequential run.</p>",
    ]
    by_workload = {str(v.get("workload")): v for v in cross_interpreter_rows(doc)}
    for workload in workloads:
        w_rows = [r for r in rows if str(r.get("workload")) == workload]
        pythons = list(dict.fromkeys(str(r.get("python")) for r in w_rows))
        if len(pythons) < 2:
            continue
        verdict = by_workload.get(workload, {})
        parts.append(f'<h4 class="mono">{_e(workload)}</h4>')
        if verdict.get("why"):
            parts.append(f'<p class="rec">{_e(verdict["why"])}</p>')
        for ft in _rows(verdict.get("free_threaded")):
            if ft.get("limited_by"):
                parts.append(f'<p class="note">{_e(ft.get("python"))}: {_e(ft["limited_by"])}</p>')
        parts.append(_interpreters_chart(f"{i}/pythons/{workload}", workload, w_rows, kinds))
        parts.append(_interpreters_table(w_rows, pythons, kinds, verdict))
    parts.append("</section>")
    return "".join(parts)


def _cells(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, Any], dict[str, Any]]:
    """(strategy, workers) -> python -> row, in strategy order, then workers."""
    cells: dict[tuple[str, Any], dict[str, Any]] = {}
    ordered = sorted(
        rows, key=lambda r: (_strategy_key(r.get("strategy")), _workers_key(r.get("workers")))
    )
    for r in ordered:
        cells.setdefault((str(r.get("strategy")), r.get("workers")), {})[str(r.get("python"))] = r
    return cells


def _median(row: Mapping[str, Any] | None) -> float | None:
    ok = row is not None and (row.get("status") or "ok") == "ok"
    wall = row.get("wall_s") if ok and row is not None else None
    return as_number(wall.get("median")) if isinstance(wall, Mapping) else None


def _interpreters_chart(
    chart_id: str,
    workload: str,
    rows: Sequence[Mapping[str, Any]],
    kinds: Mapping[str, str],
) -> str:
    cells = _cells(rows)
    pythons = list(dict.fromkeys(str(r.get("python")) for r in rows))
    categories = [f"{strategy} {TIMES}{workers}" for strategy, workers in cells]
    series = []
    for n, python in enumerate(pythons):
        values = [_median(by_python.get(python)) for by_python in cells.values()]
        series.append(
            BarSeries(
                _python_label(python, kinds),
                values,
                PALETTE[n % len(PALETTE)],
                tooltips=[
                    f"{_python_label(python, kinds)}, {c}: {fmt_seconds(v)}"
                    for c, v in zip(categories, values, strict=True)
                ],
            )
        )
    return bar_chart(
        chart_id,
        f"{workload}: median wall time by interpreter (lower is faster)",
        categories,
        series,
        x_label="strategy and workers",
        y_label="median wall, s",
        width=960,
        plot_height=180,
    )


def _row_key(item: Mapping[str, Any]) -> tuple[str, str, str]:
    """(python, strategy, workers) of a row, a timing or a ``left_out`` item, as text."""
    return (str(item.get("python")), str(item.get("strategy")), str(item.get("workers")))


def _left_out_reasons(verdict: Mapping[str, Any]) -> dict[tuple[str, str, str], str]:
    """The rows a ``cross_interpreter`` entry (or its ``free_threaded`` items) left out past a
    physical limit: (python, strategy, workers) -> their flags' reasons, one line."""
    out: dict[tuple[str, str, str], str] = {}
    for entry in [verdict, *_rows(verdict.get("free_threaded"))]:
        for item in _rows(entry.get("left_out")):
            flags = _rows(item.get("flags"))
            out[_row_key(item)] = " and ".join(str(f.get("reason")) for f in flags)
    return out


def _interpreters_table(
    rows: Sequence[Mapping[str, Any]],
    pythons: list[str],
    kinds: Mapping[str, str],
    verdict: Mapping[str, Any],
) -> str:
    """The side-by-side table: bold, the verdict's fastest (its ``fastest``, a row within the
    physical limits; documents older than the verdict: the lowest median); a badge on each
    row the verdict left out past a physical limit, its reasons in the badge's title."""
    cells = _cells(rows)
    named = verdict.get("fastest")
    if isinstance(named, Mapping):
        fastest = next((r for r in rows if _row_key(r) == _row_key(named)), None)
    else:
        lowest = min((m for r in rows if (m := _median(r)) is not None), default=None)
        fastest = next((r for r in rows if lowest is not None and _median(r) == lowest), None)
    left_out = _left_out_reasons(verdict)
    header = [("Strategy", False), ("Workers", True)] + [
        (_e(p) + (f'<br><span class="note">{_e(kinds[p])}</span>' if kinds.get(p) else ""), True)
        for p in pythons
    ]
    body = []
    for (strategy, workers), by_python in cells.items():
        body.append(
            (
                "",
                [_e(strategy), _value(workers)]
                + [_side_cell(by_python.get(p), fastest, left_out) for p in pythons],
            )
        )
    return _table(header, body, "interpreters")


def _side_cell(
    row: Mapping[str, Any] | None,
    fastest: Mapping[str, Any] | None,
    left_out: Mapping[tuple[str, str, str], str],
) -> str:
    """A row's median wall (bold when it is the workload's ``fastest`` row) and speedup, with a
    badge when the verdict left it out past a physical limit (``left_out``: reasons by
    (python, strategy, workers)), or its status and reason."""
    if row is None:
        return MISSING
    median = _median(row)
    if median is None:
        reason = str(row.get("reason") or row.get("error") or "").splitlines()
        return _cell(status_cell(row)) + (
            f' <span class="note">{_e(reason[0])}</span>' if reason else ""
        )
    time = _e(fmt_seconds(median))
    out = f"<b>{time}</b>" if row is fastest else time
    speedup = row.get("speedup")
    if as_number(speedup) is not None and row.get("strategy") != "sequential":
        out += " " + _span(Span(fmt_factor(speedup, TIMES), speedup_band(speedup)))
    if (reasons := left_out.get(_row_key(row))) is not None:
        out += " " + _badge("past a physical limit", _BADGE["warn"], title=f"left out: {reasons}")
    return out


# -- web -------------------------------------------------------------------------------------------


def _runs(row: Mapping[str, Any]) -> list[float]:
    """The RPS of each run of a web cell (several when CPU-bound cells were repeated)."""
    runs = row.get("rps_runs")
    return (
        [x for x in (as_number(v) for v in runs) if x is not None] if isinstance(runs, list) else []
    )


def _cell_rows(
    rows: Sequence[Mapping[str, Any]], sw: object, variant: str
) -> list[Mapping[str, Any]]:
    """A variant's rows at one server-worker count, by concurrency (its chart points' order)."""
    return sorted(
        (r for r in rows if r.get("server_workers") == sw and str(r.get("variant")) == variant),
        key=lambda r: _workers_key(r.get("concurrency")),
    )


def _web_section(i: int, doc: Mapping[str, Any]) -> str:
    rows = _rows(doc.get("web_results"))
    config = doc.get("config") if isinstance(doc.get("config"), Mapping) else {}
    variants = list(
        dict.fromkeys(
            [str(v) for v in config.get("variants", []) if isinstance(config.get("variants"), list)]
            + [str(r.get("variant")) for r in rows]
        )
    )
    variants = [v for v in variants if any(str(r.get("variant")) == v for r in rows)]
    colors = {v: PALETTE[k % len(PALETTE)] for k, v in enumerate(variants)}
    server_workers = sorted({r.get("server_workers") for r in rows}, key=_workers_key)
    facts = [
        f"delay {_e(fmt_seconds(config.get('delay_s')))}"
        if config.get("delay_s") is not None
        else "",
        f"{_e(fmt_seconds(config.get('duration_s')))} per point"
        if config.get("duration_s") is not None
        else "",
        f"threadpool {_value(config.get('threadpool'))}"
        if config.get("threadpool") is not None
        else "",
        f"load generator ceiling {_e(fmt_num(doc.get('generator_ceiling_rps'), 0))} RPS"
        if doc.get("generator_ceiling_rps") is not None
        else "",
        _e(_created(doc)),
    ]
    for k in ("threadpool", "mode"):
        values = {str(r.get(k)) for r in rows if r.get(k) is not None}
        if len(values) == 1 and not (k == "threadpool" and config.get("threadpool") is not None):
            facts.insert(-1, f"{k} {_e(values.pop())}")
    parts = [
        f'<section class="doc" id="doc-{i}">'
        f"<h2>{_e(_doc_title(i, doc))}: requests per second and latency</h2>",
        f'<p class="lede">{" · ".join(f for f in facts if f)}</p>',
    ]

    # Per variant one lesson: closed loop first, then the most users, then the most workers
    # (the row a CPU lesson's scaling claim rests on, with "undecided" when it is).
    def lesson_key(r: Mapping[str, Any]) -> tuple[bool, float, float]:
        users, workers = as_number(r.get("concurrency")), as_number(r.get("server_workers"))
        return (r.get("mode", "closed") == "closed", users or 0.0, workers or 0.0)

    lessons: dict[str, Mapping[str, Any]] = {}
    for v in variants:
        mine = [r for r in rows if str(r.get("variant")) == v and r.get("lesson")]
        if mine:
            lessons[v] = max(mine, key=lesson_key)
    if lessons:
        parts.append(
            "<ul>"
            + "".join(
                f'<li><b class="mono">{_e(v)}</b>: '
                + (
                    _badge("undecided", "status-skipped") + " "
                    if lessons[v].get("decided") is False
                    else ""
                )
                + f"{_e(lessons[v].get('lesson'))}</li>"
                for v in variants
                if v in lessons
            )
            + "</ul>"
        )

    def points(
        sw: object, variant: str, pick: Callable[[Mapping[str, Any]], object]
    ) -> list[tuple[float, float | None]]:
        return [
            (as_number(r.get("concurrency")) or 0.0, as_number(pick(r)))
            for r in _cell_rows(rows, sw, variant)
        ]

    def p99(r: Mapping[str, Any]) -> object:
        lat = r.get("latency_ms")
        return lat.get("p99") if isinstance(lat, Mapping) else None

    for sw in server_workers:
        label = f"{sw} server worker{'s' if sw != 1 else ''}"
        rps_series, lat_series = [], []
        for v in variants:
            measured = points(sw, v, lambda r: r.get("rps"))
            if not measured:
                continue
            runs = [_runs(r) for r in _cell_rows(rows, sw, v)]
            spans = [(min(rs), max(rs)) if len(rs) > 1 else None for rs in runs]
            tips = [
                f"{v}, {fmt_num(c, 0)} users: {fmt_num(y, 1)} RPS"
                + (
                    f" (median of {len(rs)} runs, {fmt_num(min(rs), 1)}-{fmt_num(max(rs), 1)})"
                    if len(rs) > 1
                    else ""
                )
                for (c, y), rs in zip(measured, runs, strict=True)
            ]
            marker = MARKERS[variants.index(v) % len(MARKERS)]
            rps_series.append(
                Series(
                    v,
                    measured,
                    colors[v],
                    tooltips=tips,
                    marker=marker,
                    errors=spans if any(spans) else None,
                )
            )
            expected = points(sw, v, lambda r: r.get("expected_rps"))
            if any(y is not None for _, y in expected):
                rps_series.append(
                    Series(
                        f"{v} (expected)",
                        expected,
                        colors[v],
                        dash="4 4",
                        width=1.25,
                        markers=False,
                        in_legend=False,
                    )
                )
            lat = points(sw, v, p99)
            lat_series.append(
                Series(
                    v,
                    lat,
                    colors[v],
                    marker=marker,
                    tooltips=[
                        f"{v}, {fmt_num(c, 0)} users: p99 {fmt_num(y, 1)} ms" for c, y in lat
                    ],
                )
            )
        has_expected = any(not s.in_legend for s in rps_series)
        parts.append(f"<h3>{_e(label)}</h3>")
        parts.append(
            '<div class="charts two">'
            + line_chart(
                f"{i}/web-rps/sw{sw}",
                f"Throughput, {label}",
                rps_series,
                x_label="concurrent users (log scale)",
                y_label="requests / s (log scale)",
                width=560,
                plot_height=280,
                x_log=True,
                y_log=True,
                footnote="dashed: expected from queueing (min(users, capacity) / delay)"
                if has_expected
                else None,
            )
            + line_chart(
                f"{i}/web-p99/sw{sw}",
                f"p99 latency, {label}",
                lat_series,
                x_label="concurrent users (log scale)",
                y_label="p99 latency, ms (log scale)",
                width=560,
                plot_height=280,
                x_log=True,
                y_log=True,
            )
            + "</div>"
        )

    # Columns that hold one value for every row (threadpool, mode) are stated once, above.
    ordered = sorted(
        rows,
        key=lambda r: (
            variants.index(str(r.get("variant"))),
            _workers_key(r.get("server_workers")),
            _workers_key(r.get("concurrency")),
        ),
    )
    parts.append(_columns_table(shown_columns(WEB_COLUMNS, rows), ordered, "web"))
    parts.append("</section>")
    return "".join(parts)


# -- web --app -------------------------------------------------------------------------------------


def _web_app_section(i: int, doc: Mapping[str, Any]) -> str:
    """The user's app: per endpoint its diagnosis, the configuration to serve it with and a bar
    chart of RPS by server configuration at the most users; the whole app's configuration;
    every row."""
    from gilbench.report.webapp import KIND_LABELS

    rows = _rows(doc.get("app_results"))
    config = doc.get("config") if isinstance(doc.get("config"), Mapping) else {}
    app = doc.get("app") if isinstance(doc.get("app"), Mapping) else {}
    facts = [
        f'<span class="mono">{_e(str(config.get("target", "?")))}</span>',
        _e(str(app.get("interface", "?")).upper()),
        f"{_e(fmt_seconds(config.get('duration_s')))} per point"
        if config.get("duration_s") is not None
        else "",
        _e(_created(doc)),
    ]
    parts = [
        f'<section class="doc" id="doc-{i}"><h2>{_e(_doc_title(i, doc))}: how to serve it</h2>',
        f'<p class="lede">{" · ".join(f for f in facts if f)}</p>',
    ]
    rec = doc.get("recommendation")
    if isinstance(rec, Mapping) and rec.get("sentence"):
        parts.append(f'<p class="rec">{_e(str(rec["sentence"]))}</p>')
    if doc.get("failure"):
        parts.append(f'<p class="alert">{_e(str(doc["failure"]))}</p>')
    for k, d in enumerate(_rows(doc.get("diagnoses"))):
        path = str(d.get("path"))
        kind = KIND_LABELS.get(str(d.get("kind")), str(d.get("kind")))
        handler = f" ({d['handler_kind']})" if d.get("handler_kind") else ""
        parts.append(
            f'<h3><span class="mono">{_e(path)}</span>{_e(handler)}: {_e(kind)}</h3>'
            f"<p>{_e(str(d.get('sentence', '')))}</p>"
        )
        chosen = d.get("recommended")
        if isinstance(chosen, Mapping) and chosen.get("sentence"):
            parts.append(f'<p class="rec">{_e(str(chosen["sentence"]))}</p>')
        closed = [r for r in rows if r.get("path") == path and r.get("mode") == "closed"]
        tops = [as_number(r.get("concurrency")) or 0 for r in closed]
        top = [r for r in closed if tops and (as_number(r.get("concurrency")) or 0) == max(tops)]
        if len(top) > 1:
            # On the axis, gthread is implied by threads; sync keeps its name.
            labels = [short_config(r).replace("gthread ", "").replace(" x ", "\u00d7") for r in top]
            tips = [
                f"{c}: {fmt_num(r.get('rps'), 1)} RPS" for c, r in zip(labels, top, strict=True)
            ]
            series = [BarSeries("RPS", [as_number(r.get("rps")) for r in top], PALETTE[0], tips)]
            if any(r.get("expected_rps") is not None for r in top):
                series.append(
                    BarSeries(
                        "workers x threads / latency",
                        [as_number(r.get("expected_rps")) for r in top],
                        IDEAL_COLOR,
                    )
                )  # fmt: skip
            parts.append(
                '<div class="charts">'
                + bar_chart(
                    f"{i}/app-rps/{k}",
                    f"{path}: RPS at {fmt_num(max(tops), 0)} users",
                    labels,
                    series,
                    x_label="server configuration",
                    y_label="requests / s",
                    width=max(420, 95 * len(labels)),
                )
                + "</div>"
            )
    ordered = sorted(
        rows,
        key=lambda r: (
            str(r.get("path")),
            str(r.get("mode")),
            _workers_key(r.get("workers")),
            _workers_key(r.get("threads")),
            _workers_key(r.get("concurrency")),
        ),
    )
    if ordered:
        parts.append(_columns_table(shown_columns(APP_COLUMNS, rows), ordered, "web"))
    parts.append("</section>")
    return "".join(parts)


# -- compare ---------------------------------------------------------------------------------------


def _compare_section(i: int, doc: Mapping[str, Any]) -> str:
    a = doc.get("a") if isinstance(doc.get("a"), Mapping) else {}
    b = doc.get("b") if isinstance(doc.get("b"), Mapping) else {}
    parts = [
        f'<section class="doc" id="doc-{i}"><h2>{_e(_doc_title(i, doc))}: '
        f"{_e(b.get('label', 'B'))} vs {_e(a.get('label', 'A'))}</h2>",
        f'<p class="rec">{_e(doc.get("summary_line"))}</p>',
    ]
    header = [
        ("Workload", False),
        ("Strategy", False),
        ("Workers", True),
        ("A median", True),
        ("B median", True),
        ("Change", False),
        ("Notes", False),
    ]
    rows = []
    for r in _rows(doc.get("rows")):
        verdict = str(r.get("verdict") or "")
        rows.append(
            (
                "",
                [
                    f'<span class="mono">{_e(r.get("workload"))}</span>',
                    _e(r.get("strategy")),
                    _value(r.get("workers")),
                    _e(fmt_seconds(r.get("a_median_s"))),
                    _e(fmt_seconds(r.get("b_median_s"))),
                    _badge(r.get("label"), f"verdict-{verdict.split()[0] if verdict else 'not'}"),
                    f'<span class="note">{_e(r.get("note") or "")}</span>',
                ],
            )
        )
    for side, key in (("A", "only_in_a"), ("B", "only_in_b")):
        for r in _rows(doc.get(key)):
            median = _e(fmt_seconds(r.get("median_s")))
            rows.append(
                (
                    "row-skipped",
                    [
                        f'<span class="mono">{_e(r.get("workload"))}</span>',
                        _e(r.get("strategy")),
                        _value(r.get("workers")),
                        median if side == "A" else MISSING,
                        median if side == "B" else MISSING,
                        _badge(f"only in {side}", "verdict-not"),
                        f'<span class="note">{_e(r.get("note") or "")}</span>',
                    ],
                )
            )
    parts.append(_table(header, rows, "compare"))
    parts.append("</section>")
    return "".join(parts)


# -- provenance ------------------------------------------------------------------------------------


def _kv(mapping: Mapping[str, Any]) -> str:
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_value(v)}</dd>" for k, v in mapping.items())
    return f'<dl class="kv">{items}</dl>' if items else '<p class="note">none recorded</p>'


def _environment_section(docs: Sequence[Mapping[str, Any]]) -> str:
    parts = ['<section id="environment"><h2>Environment</h2>']
    seen: dict[str, tuple[int, str]] = {}
    for i, doc in enumerate(docs, 1):
        if doc_kind(doc) == "compare":
            continue
        parts.append(f"<h3>{_e(_doc_title(i, doc))}</h3>")
        env = doc.get("environment")
        if not isinstance(env, Mapping):
            parts.append('<p class="note">none recorded</p>')
        elif (same := seen.get(json.dumps(env, sort_keys=True, default=str))) is not None:
            parts.append(
                f'<p class="note">Same environment as '
                f'<a href="#doc-{same[0]}">{_e(same[1])}</a>.</p>'
            )
        else:
            seen[json.dumps(env, sort_keys=True, default=str)] = (i, _doc_title(i, doc))
            parts.append(_kv(env))
        interpreters = _rows(doc.get("interpreters"))
        if interpreters:
            header = [
                ("Label", False),
                ("Path", False),
                ("Version", False),
                ("Implementation", False),
                ("Free-threaded build", False),
                ("GIL enabled", False),
            ]
            parts.append(
                "<h4>Interpreters</h4>"
                + _table(
                    header,
                    [
                        (
                            "",
                            [
                                _e(p.get("label")),
                                f'<span class="mono">{_e(p.get("path"))}</span>',
                                _e(p.get("version")),
                                _e(p.get("implementation")),
                                _value(p.get("free_threaded_build")),
                                _value(p.get("gil_enabled")),
                            ],
                        )
                        for p in interpreters
                    ],
                )
            )
        config = doc.get("config")
        if isinstance(config, Mapping):
            parts.append("<h4>Configuration</h4>" + _kv(config))
    parts.append("</section>")
    return "".join(parts)


def _all_warnings(docs: Sequence[Mapping[str, Any]]) -> list[tuple[int, object]]:
    return [
        (i, w)
        for i, d in enumerate(docs, 1)
        for w in (d.get("warnings") if isinstance(d.get("warnings"), list) else [])
    ]


def _warnings_section(docs: Sequence[Mapping[str, Any]]) -> str:
    warnings = _all_warnings(docs)
    parts = ['<section id="warnings"><h2>Warnings</h2>']
    if not warnings:
        parts.append('<p class="note">No warnings.</p></section>')
        return "".join(parts)
    header = [("Doc", True), ("Code", False), ("Message", False), ("Applies to", False)]
    rows = []
    for i, w in warnings:
        if isinstance(w, Mapping):
            scope = " · ".join(
                f"{k} {w[k]}"
                for k in ("workload", "strategy", "workers", "python", "variant")
                if w.get(k) is not None
            )
            rows.append(
                (
                    "",
                    [
                        f'<a href="#doc-{i}">#{i}</a>',
                        f'<span class="mono nowrap">{_e(w.get("code"))}</span>',
                        _e(w.get("message")),
                        _e(scope),
                    ],
                )
            )
        else:
            rows.append(("", [f'<a href="#doc-{i}">#{i}</a>', "", _e(w), ""]))
    parts.append(_table(header, rows, "warnings"))
    parts.append("</section>")
    return "".join(parts)


def _commands_section(docs: Sequence[Mapping[str, Any]]) -> str:
    parts = ['<section id="commands"><h2>Commands</h2>']
    for i, doc in enumerate(docs, 1):
        meta = " · ".join(
            x
            for x in (
                _created(doc),
                f"gilbench {doc['gilbench_version']}" if doc.get("gilbench_version") else "",
            )
            if x
        )
        command = doc.get("command")
        parts.append(
            f'<p><a href="#doc-{i}">{_e(_doc_title(i, doc))}</a> '
            f'<span class="note">{_e(meta)}</span></p>'
        )
        parts.append(
            f"<pre><code>{_e(command)}</code></pre>"
            if command
            else '<p class="note">no command recorded</p>'
        )
    parts.append("</section>")
    return "".join(parts)


# -- page ------------------------------------------------------------------------------------------


def _check(docs: object) -> list[Mapping[str, Any]]:
    if not isinstance(docs, Sequence) or isinstance(docs, (str, bytes)) or not docs:
        raise ValueError("render_html needs a non-empty list of gilbench documents")
    return [load(doc, f"document {n}") for n, doc in enumerate(docs, 1)]


def render_html(docs: Sequence[Mapping[str, Any]]) -> str:
    """Render run, bench, web and compare documents as one self-contained HTML page.

    Returns the whole page as a ``str`` (inline CSS and SVG, a CSP meta tag that forbids
    scripts); times are shown in seconds, latencies in ms, factors with ``TIMES``.

    Raises ``ValueError`` when ``docs`` is empty or holds something that is not a gilbench
    document (``gilbench.documents.load``'s one-line message).
    """
    docs = _check(docs)
    sections = {
        "run": _run_section,
        "bench": _run_section,
        "web": _web_section,
        "web-app": _web_app_section,
        "compare": _compare_section,
    }
    toc = " ".join(
        ['<a href="#verdict">Verdict</a>']
        + [f'<a href="#doc-{i}">{_e(_doc_title(i, d))}</a>' for i, d in enumerate(docs, 1)]
        + [
            '<a href="#environment">Environment</a>',
            '<a href="#warnings">Warnings</a>',
            '<a href="#commands">Commands</a>',
        ]
    )
    hosts = sorted(
        {
            str(d["environment"].get("hostname"))
            for d in docs
            if isinstance(d.get("environment"), Mapping) and d["environment"].get("hostname")
        }
    )
    lede = f"{len(docs)} document{'s' if len(docs) != 1 else ''}" + (
        f" from {', '.join(hosts)}" if hosts else ""
    )
    n_warn = len(_all_warnings(docs))
    alert = (
        (
            f'<p class="alert"><b>{n_warn} warning{"s" if n_warn != 1 else ""}</b> '
            "about these measurements "
            f'— read them in <a href="#warnings">Warnings</a> before trusting a number.</p>'
        )
        if n_warn
        else ""
    )
    body = [
        f'<header><h1>gilbench report</h1><p class="lede">{_e(lede)}</p>'
        f'<nav class="toc">{toc}</nav></header>',
        alert,
        _verdict_section(docs),
        *(sections[doc_kind(d)](i, d) for i, d in enumerate(docs, 1)),
        _environment_section(docs),
        _warnings_section(docs),
        _commands_section(docs),
        f"<footer>Generated by gilbench {_e(__version__)}. "
        "Self-contained: no scripts, no network.</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="gilbench {_e(__version__)}">'
        f"<title>gilbench report</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
