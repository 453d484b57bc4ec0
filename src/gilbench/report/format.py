"""How gilbench writes a number or a row, in one place: every report formats through here.

Pure functions and data, no rich and no HTML: the terminal tables, the HTML report, CSV and
Markdown export, ``gilbench compare`` and the web lab's table all take their text from here.

Numbers: :data:`MISSING` for anything absent, seconds (:func:`fmt_seconds`), milliseconds of
latency (:func:`fmt_ms`), factors with their 95% interval (:func:`fmt_factor`,
:func:`fmt_ci`), percentages (:func:`fmt_pct`) and signed changes (:func:`fmt_change`,
:func:`fmt_change_ci`), the speedup band that decides good/bad colouring
(:func:`speedup_band`), the classification labels (from ``analysis.recommend``), and what build
an interpreter entry is (:func:`interpreter_kind`: free-threaded, GIL off or PYTHON_GIL=1).

Rows (hyperfine's ``export/markup.rs`` idea): a table is a tuple of :class:`Column`; a column
turns a row into a :data:`Cell`, a few :class:`Span` of text, each with a *tone* (``""``,
``"dim"``, ``"strong"``, ``"mono"``, ``"tag"`` (a classification), ``"error"`` (an error
message), the badges ``"ok"``, ``"warn"``, ``"bad"``, and the speedup bands ``"much-faster"``,
``"faster"``, ``"same"``, ``"slower"``). Each output differs only in how it writes a cell:
the terminal as a styled ``rich.text.Text``, HTML as ``<span class=...>``, Markdown and plain
text as :func:`plain`; CSV writes the column's raw ``fields`` instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gilbench.analysis.recommend import GIL_FACTS, TASK_TYPES

MISSING = "—"
"""What every report shows for a value that is absent, null or not a finite number."""

TIMES = "x"
"""The factor sign after a speedup: ``1.93x``."""

SPEEDUP_BANDS: tuple[tuple[float, str], ...] = (
    (1.5, "much-faster"),
    (1.1, "faster"),
    (0.9, "same"),
)
"""Speedup thresholds, highest first: at or above the value, that band; below all: ``slower``.
1.1 and 0.9 are the 10% that ``analysis.recommend`` calls a real difference."""

STATUS_TONE = {
    "ok": "ok",
    "skipped": "warn",
    "pending": "warn",
    "error": "bad",
    "timeout": "bad",
}
"""The tone of a result row's status."""


# -- numbers -------------------------------------------------------------------------------------


def as_number(value: object) -> float | None:
    """``value`` as a float, or None when missing, not numeric (bools count as not), NaN or inf."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def fmt_seconds(value: object) -> str:
    """Seconds as text: 1.42 -> '1.420 s', 0.7 -> '0.700 s', 0.0021 -> '2.1 ms', None -> '—'.

    From 0.1 s up, seconds with three decimals (below 10 s) so a column of them lines up;
    below, milliseconds or microseconds with three significant digits.
    """
    v = as_number(value)
    if v is None:
        return MISSING
    if v == 0:
        return "0 s"
    if abs(v) >= 100:
        return f"{v:.0f} s"
    if abs(v) >= 10:
        return f"{v:.1f} s"
    if abs(v) >= 0.1:
        return f"{v:.3f} s"
    if abs(v) >= 1e-3:
        return f"{v * 1e3:.3g} ms"
    return f"{v * 1e6:.3g} µs"


def fmt_ms(value: object) -> str:
    """A latency already in milliseconds, without unit: whole from 10 up ('1,011'), else '4.5'.

    None or a non-finite value -> '—'.
    """
    v = as_number(value)
    if v is None:
        return MISSING
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.1f}"


def fmt_factor(value: object, sign: str = TIMES) -> str:
    """A factor (ratio, unitless) with two decimals and ``sign``: 0.953 -> '0.95x'; None -> '—'."""
    v = as_number(value)
    return MISSING if v is None else f"{v:.2f}{sign}"


def fmt_ci(value: object, sign: str = TIMES) -> str:
    """A ``[low, high]`` interval of factors -> '0.91–0.99x' (en dash); anything else -> ''."""
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        low, high = as_number(value[0]), as_number(value[1])
        if low is not None and high is not None:
            return f"{low:.2f}–{high:.2f}{sign}"
    return ""


def fmt_pct(value: object) -> str:
    """A share 0..1 as a percentage: 0.48 -> '48%'; None -> '—'."""
    v = as_number(value)
    return MISSING if v is None else f"{v * 100:.0f}%"


def fmt_change(value: object) -> str:
    """A relative change, signed, as a percentage: 0.24 -> '+24%', -0.05 -> '-5%'; None -> '—'."""
    v = as_number(value)
    return MISSING if v is None else f"{v * 100:+.0f}%"


def fmt_change_ci(value: object) -> str:
    """A ``[low, high]`` interval of changes -> '+5% to +28%'; anything else -> ''."""
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        low, high = as_number(value[0]), as_number(value[1])
        if low is not None and high is not None:
            return f"{fmt_change(low)} to {fmt_change(high)}"
    return ""


def fmt_num(value: object, digits: int = 2) -> str:
    """A number with ``digits`` decimals and thousands separators (ints stay whole).

    None -> '—'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    v = as_number(value)
    return MISSING if v is None else f"{v:,.{digits}f}"


def plural(n: int, noun: str) -> str:
    """'1 worker', '2 workers'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def speedup_band(value: object) -> str:
    """The band of a speedup (see :data:`SPEEDUP_BANDS`): 'much-faster', 'faster', 'same',
    'slower', or '' when there is no number."""
    v = as_number(value)
    if v is None:
        return ""
    return next((band for low, band in SPEEDUP_BANDS if v >= low), "slower")


def classification_label(code: object) -> str:
    """'cpu-python' -> 'CPU-bound (Python code)' (``analysis.recommend.TASK_TYPES``)."""
    return TASK_TYPES.get(str(code), str(code)) if code else MISSING


def classification_help(code: object) -> str:
    """What the classification means for the GIL, in one sentence (for a tooltip)."""
    if not code or str(code) not in TASK_TYPES:
        return ""
    return f"{TASK_TYPES[str(code)]}: {GIL_FACTS[str(code)]}"


def interpreter_kind(entry: Mapping[str, Any]) -> str:
    """What build an ``interpreters`` entry runs, to label it: 'free-threaded, GIL off',
    'free-threaded, PYTHON_GIL=1' (or 'free-threaded, GIL on' when not set that way), or ''
    for a default (GIL) build."""
    if not entry.get("free_threaded_build"):
        return ""
    if entry.get("gil_enabled") is False:
        return "free-threaded, GIL off"
    env = entry.get("env") if isinstance(entry.get("env"), Mapping) else {}
    return f"free-threaded, {'PYTHON_GIL=1' if env.get('PYTHON_GIL') == '1' else 'GIL on'}"


def interpreter_kinds(doc: Mapping[str, Any]) -> dict[str, str]:
    """label -> :func:`interpreter_kind` for every entry of ``doc["interpreters"]`` (labels of
    default builds map to '')."""
    entries = doc.get("interpreters") if isinstance(doc.get("interpreters"), list) else []
    return {
        str(e.get("label")): interpreter_kind(e)
        for e in entries
        if isinstance(e, Mapping) and e.get("label") is not None
    }


def row_note(row: Mapping[str, Any]) -> str:
    """The text explaining a result row: its error, skip reason and note, joined by '; '."""
    return "; ".join(
        str(row[k]) for k in ("error", "reason", "note") if row.get(k) not in (None, "")
    )


def pick(row: object, path: Sequence[Any]) -> Any:
    """The value at ``path`` (keys, or int indexes into lists) inside ``row``.

    None when any step is absent or of the wrong type; never raises.
    """
    value: Any = row
    for key in path:
        if isinstance(key, int):
            ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) > key
            value = value[key] if ok else None
        else:
            value = value.get(key) if isinstance(value, Mapping) else None
    return value


# -- cells and columns -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A run of text in one tone (see the module doc for the tones)."""

    text: str
    tone: str = ""


Cell = tuple[Span, ...]
Row = Mapping[str, Any]


def plain(cell: Cell) -> str:
    """A cell's text without tones."""
    return "".join(span.text for span in cell)


def text(value: object, tone: str = "") -> Cell:
    """A one-span cell of ``value`` as text (MISSING for None)."""
    return (Span(MISSING if value is None else str(value), tone),)


@dataclass(frozen=True)
class Column:
    """One column of a table, for every output.

    ``title`` heads it; ``cell(row)`` writes it; ``numeric`` right-aligns it; ``fields`` are
    the raw ``(CSV name, path into the row)`` pairs CSV exports for it; ``optional`` columns
    are left out when every row holds the same value in them (the report states it once);
    ``shown`` False: CSV only.
    """

    title: str
    cell: Callable[[Row], Cell]
    fields: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    numeric: bool = False
    optional: bool = False
    shown: bool = True


def field(name: str, *path: Any) -> tuple[str, tuple[Any, ...]]:
    """A CSV field: its column name and its path into the row (the name itself by default)."""
    return (name, path or (name,))


def interval_fields(name: str) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """The CSV fields ``<name>_ci95_low`` and ``<name>_ci95_high``: the two ends of the row's
    ``<name>_ci95`` list."""
    return (
        field(f"{name}_ci95_low", f"{name}_ci95", 0),
        field(f"{name}_ci95_high", f"{name}_ci95", 1),
    )


def shown_columns(columns: Sequence[Column], rows: Sequence[Row]) -> list[Column]:
    """The columns a table shows for ``rows``: not CSV-only, and optional ones only if they vary."""
    return [
        c
        for c in columns
        if c.shown and not (c.optional and len({plain(c.cell(r)) for r in rows}) <= 1)
    ]


def csv_fields(columns: Sequence[Column]) -> list[tuple[str, tuple[Any, ...]]]:
    """Every raw field of ``columns``, in order: the CSV header and where each value comes from."""
    return [f for c in columns for f in c.fields]


def _wall(row: Row) -> Cell:
    wall = row.get("wall_s")
    if not isinstance(wall, Mapping) or as_number(wall.get("median")) is None:
        return text(None)
    mean, stdev = as_number(wall.get("mean")), as_number(wall.get("stdev"))
    spread = f" ±{stdev / mean * 100:.0f}%" if mean and stdev is not None else ""
    return (Span(fmt_seconds(wall["median"])), Span(spread, "dim"))


def speedup_cell(row: Row) -> Cell:
    """'1.93x' in its band's tone, then its 95% interval dimmed."""
    speedup = row.get("speedup")
    if as_number(speedup) is None:
        return text(None)
    ci = fmt_ci(row.get("speedup_ci95"), "")
    return (Span(fmt_factor(speedup), speedup_band(speedup)), Span(f" [{ci}]" if ci else "", "dim"))


def status_cell(row: Row) -> Cell:
    """The row's status in its tone."""
    status = str(row.get("status") or "ok")
    return (Span(status, STATUS_TONE.get(status, "")),)


def note_cell(row: Row) -> Cell:
    """Error (tone error), skip reason and note (dim), joined by '; '."""
    parts = [
        (row.get(k), tone) for k, tone in (("error", "error"), ("reason", "dim"), ("note", "dim"))
    ]
    spans = [Span(str(v), tone) for v, tone in parts if v not in (None, "")]
    joined: list[Span] = []
    for span in spans:
        joined += [Span("; ", "dim"), span] if joined else [span]
    return tuple(joined)


def _value(
    key: str,
    fmt: Callable[[object], str] = lambda v: MISSING if v is None else str(v),
    tone: str = "",
) -> Callable[[Row], Cell]:
    return lambda row: (Span(fmt(row.get(key)), tone),)


RESULT_COLUMNS: tuple[Column, ...] = (
    Column("Workload", _value("workload", tone="mono"), (field("workload"),)),
    Column("Python", _value("python"), (field("python"),), optional=True),
    Column("Strategy", _value("strategy"), (field("strategy"),)),
    Column("Workers", _value("workers"), (field("workers"),), numeric=True),
    Column("Tasks", _value("tasks"), (field("tasks"),), numeric=True),
    Column("Status", status_cell, (field("status"),)),
    Column(
        "Wall median",
        _wall,
        tuple(
            field(f"wall_s_{k}", "wall_s", k)
            for k in ("median", "mean", "stdev", "min", "max", "n")
        ),
        numeric=True,
    ),
    Column(
        "CPU util", _value("cpu_util", fmt_num), (field("cpu_s"), field("cpu_util")), numeric=True
    ),
    Column(
        "Speedup [95% CI]",
        speedup_cell,
        (
            field("speedup"),
            *interval_fields("speedup"),
        ),
        numeric=True,
    ),
    Column("GIL", _value("gil_contention", fmt_pct), (field("gil_contention"),), numeric=True),
    Column(
        "Peak RSS",
        _value("max_rss_mb", lambda v: MISSING if as_number(v) is None else f"{v:.0f} MB"),
        (field("max_rss_mb"),),
        numeric=True,
    ),
    Column("Startup", _value("startup_s", fmt_seconds), (field("startup_s"),), numeric=True),
    Column("Notes", note_cell, (field("error"), field("reason"), field("note"))),
)
"""The results table of a run or bench document (one row per measurement)."""


def use_cell(rec: Row) -> Cell:
    """A verdict's strategy: bold when decided; 'inconclusive, best guess X' when the
    recommendation says it is not (``decided`` false; documents older than the field are
    decided)."""
    strategy = MISSING if rec.get("strategy") is None else str(rec["strategy"])
    if rec.get("decided", True) is False:
        return (Span("inconclusive", "warn"), Span(", best guess "), Span(strategy, "strong"))
    return (Span(strategy, "strong"),)


RECOMMENDATION_COLUMNS: tuple[Column, ...] = (
    Column("Workload", _value("workload", tone="mono"), (field("workload"),)),
    Column("Python", _value("python"), (field("python"),)),
    Column("Classification", _value("classification", tone="tag"), (field("classification"),)),
    Column("Use", lambda r: use_cell(r), (field("strategy"), field("decided"))),
    Column("Workers", _value("workers"), (field("workers"),), numeric=True),
    Column(
        "Speedup",
        lambda r: (Span(fmt_factor(r.get("speedup")), "strong"),),
        (field("speedup"),),
        numeric=True,
    ),
    Column("Why", _value("why", tone="dim"), (field("why"),)),
)
"""The verdict table: one recommendation per workload and interpreter."""


def cross_interpreter_rows(doc: Mapping[str, Any]) -> list[dict]:
    """``doc["cross_interpreter"]`` (``analysis.interpreters``; [] when absent, as in documents
    older than it), each entry with ``kinds`` (:func:`interpreter_kinds`) added for its cells."""
    entries = doc.get("cross_interpreter")
    kinds = interpreter_kinds(doc)
    return [
        {**e, "kinds": kinds}
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, Mapping)
    ]


def _timing(timing: object, kinds: Mapping[str, str], with_python: bool = True) -> Cell:
    """A ``cross_interpreter`` timing: '3.13.15t (free-threaded, GIL off) threads x2 0.595 s'."""
    if not isinstance(timing, Mapping):
        return text(None)
    how = Span(
        f"{timing.get('strategy')} x{timing.get('workers')} {fmt_seconds(timing.get('wall_s'))}"
    )
    if not with_python:
        return (how,)
    python = str(timing.get("python"))
    kind = kinds.get(python, "")
    return (Span(python, "strong"), Span(f" ({kind})" if kind else "", "dim"), Span(" "), how)


def _factor_ci(value: object, interval: object) -> Cell:
    ci = fmt_ci(interval)
    return (Span(fmt_factor(value)), Span(f" [{ci}]" if ci else "", "dim"))


def _lead(row: Row) -> Cell:
    if as_number(row.get("lead")) is None:
        return text(None)
    decided = bool(row.get("decided"))
    # A row left out past a physical limit may be what keeps it open (the Notes say which).
    word = " real" if decided else " not decided" if _left_out(row) else " within noise"
    return (
        *_factor_ci(row.get("lead"), row.get("lead_ci95")),
        Span(word, "strong" if decided else "dim"),
    )


def _left_out(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A ``cross_interpreter`` entry's or ``free_threaded`` item's ``left_out`` rows (rows past
    a physical limit it did not name; [] in documents older than it)."""
    items = entry.get("left_out")
    return [x for x in items if isinstance(x, Mapping)] if isinstance(items, list) else []


def _left_out_cells(entry: Mapping[str, Any], seen: set[str]) -> list[Cell]:
    """'3.13.1t threads x2 left out: above the physical limit of 2x on 2 usable cores', once per
    row (``seen``: the rows already said, updated)."""
    cells: list[Cell] = []
    for x in _left_out(entry):
        what = f"{x.get('python')} {x.get('strategy')} x{x.get('workers')}"
        if what in seen:
            continue
        seen.add(what)
        flags = x.get("flags") if isinstance(x.get("flags"), list) else []
        reasons = " and ".join(str(f.get("reason")) for f in flags if isinstance(f, Mapping))
        cells.append((Span(f"{what} left out: "), Span(reasons or MISSING, "error")))
    return cells


def _free_threaded(row: Row) -> list[Mapping[str, Any]]:
    entries = row.get("free_threaded")
    return [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []


def _joined(cells: Sequence[Cell]) -> Cell:
    """Cells one after another, '; ' between them; empty when there are none."""
    out: list[Span] = []
    for cell in cells:
        out += [Span("; ", "dim"), *cell] if out else list(cell)
    return tuple(out)


def _cost(entry: Mapping[str, Any]) -> Cell:
    cost = entry.get("single_thread_cost")
    ci = fmt_change_ci(entry.get("single_thread_cost_ci95"))
    baseline = entry.get("baseline")
    return (
        Span(f"{entry.get('python')}: "),
        Span(fmt_change(cost), "slower" if (as_number(cost) or 0) > 0 else "faster"),
        Span(f" [{ci}]" if ci else "", "dim"),
        Span(f" vs {baseline}" if baseline else " (no default build)"),
    )


BEATS_BASELINE = {True: ("faster", "faster"), False: ("slower", "slower")}
"""A ``beats_baseline`` value -> (word, tone); None: 'within noise', or 'ran with the GIL'."""


def _vs_baseline(entry: Mapping[str, Any]) -> Cell:
    if as_number(entry.get("vs_baseline_best")) is None:
        return (Span(f"{entry.get('python')}: "), Span(str(entry.get("reason") or MISSING), "dim"))
    word, tone = BEATS_BASELINE.get(entry.get("beats_baseline"), ("within noise", "dim"))
    if entry.get("beats_baseline") is None and _left_out(entry):
        word = "not decided"  # a row left out past a physical limit (see the Notes)
    if entry.get("gil_reenabled_by"):
        word, tone = "ran with the GIL", "error"
    return (
        Span(f"{entry.get('python')}: "),
        *_factor_ci(entry.get("vs_baseline_best"), entry.get("vs_baseline_best_ci95")),
        Span(f" {word}", tone),
        Span(", "),
        *_timing(entry.get("best"), {}, with_python=False),
        Span(f" vs {entry.get('baseline')} "),
        *_timing(entry.get("baseline_best"), {}, with_python=False),
    )


def _cross_notes(row: Row) -> Cell:
    """The rows left out past a physical limit, why a free-threaded build's figures ran with
    the GIL, or what limited its threads."""
    seen: set[str] = set()
    cells: list[Cell] = _left_out_cells(row, seen)
    for e in _free_threaded(row):
        cells += _left_out_cells(e, seen)
        if e.get("gil_reenabled_by"):
            cells.append((Span(f"{e.get('python')}: "), Span(str(e.get("reason")), "error")))
        elif e.get("limited_by"):
            cells.append((Span(f"{e.get('python')}: "), Span(str(e["limited_by"]))))
    return _joined(cells)


CROSS_INTERPRETER_COLUMNS: tuple[Column, ...] = (
    Column("Workload", _value("workload", tone="mono"), (field("workload"),)),
    Column(
        "Fastest (any interpreter)",
        lambda r: _timing(r.get("fastest"), r.get("kinds") or {}),
        tuple(
            field(f"fastest_{k}", "fastest", k) for k in ("python", "strategy", "workers", "wall_s")
        ),
    ),
    Column(
        "Best on another interpreter",
        lambda r: _timing(r.get("runner_up"), r.get("kinds") or {}),
        tuple(
            field(f"runner_up_{k}", "runner_up", k)
            for k in ("python", "strategy", "workers", "wall_s")
        ),
    ),
    Column(
        "Lead [95% CI]",
        _lead,
        (
            field("lead"),
            *interval_fields("lead"),
            field("decided"),
        ),
    ),
    Column(
        "Free-threaded: sequential cost [95% CI]",
        lambda r: _joined([_cost(e) for e in _free_threaded(r)]),
    ),
    Column(
        "Free-threaded best vs default build's best",
        lambda r: _joined([_vs_baseline(e) for e in _free_threaded(r)]),
    ),
    Column("Notes", _cross_notes),
    Column("Why", _value("why"), (field("why"),), shown=False),
)
"""The verdict across interpreters: one row per workload measured on several
(:func:`cross_interpreter_rows`). Show them through :func:`cross_interpreter_columns`."""


CROSS_RULE = (
    "A lead is real when it is at least 10% and its 95% interval lies above 1. Sequential cost: "
    "the free-threaded build's sequential median over the default build's, minus 1 (+24% = 24% "
    "slower on one thread)."
)
"""The note under every table across interpreters."""


def cross_interpreter_columns(rows: Sequence[Row]) -> list[Column]:
    """The columns of :data:`CROSS_INTERPRETER_COLUMNS` a table of ``rows`` shows: not CSV-only,
    and not empty in every row (the free-threaded ones without such a build, Notes without
    notes)."""
    return [c for c in CROSS_INTERPRETER_COLUMNS if c.shown and any(c.cell(r) for r in rows)]


def _latency(key: str) -> Callable[[Row], Cell]:
    return lambda row: (Span(fmt_ms(pick(row, ("latency_ms", key)))),)


def _latency_columns(*keys: str) -> tuple[Column, ...]:
    """One column per latency percentile key (``p50``, ``max``...) of a row's ``latency_ms``."""
    return tuple(
        Column(
            f"{key} ms",
            _latency(key),
            (field(f"latency_ms_{key}", "latency_ms", key),),
            numeric=True,
        )
        for key in keys
    )


def _rps(row: Row) -> Cell:
    return (Span("failed", "bad"),) if row.get("error") else (Span(fmt_num(row.get("rps"), 1)),)


def _failures(row: Row) -> Cell:
    errors, timeouts = row.get("errors"), row.get("timeouts")
    bad = bool(as_number(errors) or as_number(timeouts))
    return (Span(f"{fmt_num(errors)} / {fmt_num(timeouts)}", "bad" if bad else ""),)


def _cpu(key: str) -> Callable[[Row], Cell]:
    return lambda row: (Span(fmt_num(row.get(key))),)


def _flags(row: Row) -> Cell:
    flags = []
    if row.get("above_half_ceiling"):
        flags.append(Span("near generator ceiling", "bad"))
    if row.get("error"):
        flags.append(Span("failed", "bad"))
    return tuple(flags)


def _gain(row: Row) -> Cell:
    """A web row's gain over 1 worker with its interval, and "undecided" when its interval
    does not settle the 10% margin (``weblab.theory.scaling``)."""
    if as_number(row.get("gain")) is None:
        return text(None)
    undecided = row.get("decided") is False
    return (
        *_factor_ci(row.get("gain"), row.get("gain_ci95")),
        *((Span(" "), Span("undecided", "warn")) if undecided else ()),
    )


EXPECTED_RPS_COLUMN = Column(
    "Expected RPS",
    _value("expected_rps", lambda v: fmt_num(v, 1)),
    (field("expected_rps"),),
    numeric=True,
)
"""Queueing theory's throughput for a row (web lab and web --app)."""


WEB_COLUMNS: tuple[Column, ...] = (
    Column("Variant", _value("variant", tone="mono"), (field("variant"),)),
    Column("Server workers", _value("server_workers"), (field("server_workers"),), numeric=True),
    Column("Users", _value("concurrency"), (field("concurrency"),), numeric=True),
    Column("Threadpool", _value("threadpool"), (field("threadpool"),), numeric=True, optional=True),
    Column("Mode", _value("mode"), (field("mode"),), optional=True),
    Column("RPS", _rps, (field("rps"),), numeric=True),
    EXPECTED_RPS_COLUMN,
    Column(
        "Gain vs 1 worker",
        _gain,
        (
            field("gain"),
            *interval_fields("gain"),
            field("decided"),
        ),
        numeric=True,
        optional=True,
    ),
    Column("Requests", _value("requests", fmt_num), (field("requests"),), numeric=True),
    Column("Errors / timeouts", _failures, (field("errors"), field("timeouts")), numeric=True),
    *_latency_columns("p50", "p95", "p99", "max"),
    Column("Server CPU s", _cpu("server_cpu_s"), (field("server_cpu_s"),), numeric=True),
    Column("Generator CPU s", _cpu("generator_cpu_s"), (field("generator_cpu_s"),), numeric=True),
    Column("Other CPU s", _cpu("other_cpu_s"), (field("other_cpu_s"),), numeric=True),
    Column("Flags", _flags, (field("attempts"), field("above_half_ceiling"))),
    Column("Lesson", _value("lesson"), (field("lesson"), field("error")), shown=False),
)
"""The web lab's table: one row per variant x users x server workers (x loop mode)."""


FEW_REQUESTS = 100
"""Fewer answers than this in a window make its p99 a rough figure (the worst of a few)."""


def _app_flags(row: Row) -> Cell:
    flags = []
    if row.get("generator_bound"):
        flags.append(Span("generator-bound", "bad"))
    if row.get("noisy"):
        flags.append(Span("busy machine", "bad"))
    if not row.get("error") and 0 < (as_number(row.get("requests")) or 0) < FEW_REQUESTS:
        flags.append(Span(f"{row['requests']} requests: rough p99", "warn"))
    if row.get("error"):
        flags.append(Span(str(row["error"]), "bad"))
    kinds = row.get("error_kinds") or {}
    if kinds:
        flags.append(Span(", ".join(f"{k} x{n}" for k, n in kinds.items()), "bad"))
    return tuple(flags)


def short_config(row: Row) -> str:
    """A server configuration in a few characters: "2w x 40t" (uvicorn), "sync 2w",
    "gthread 2w x 4t" (gunicorn)."""
    w, t = row.get("workers"), row.get("threads")
    kind = row.get("worker_class")
    if kind == "sync":
        return f"sync {w}w"
    return f"{'gthread ' if kind == 'gthread' else ''}{w}w x {t}t"


APP_COLUMNS: tuple[Column, ...] = (
    Column("Path", _value("path", tone="mono"), (field("path"), field("method"))),
    Column(
        "Server",
        lambda row: (Span(short_config(row)),),
        (
            field("config"),
            field("server"),
            field("worker_class"),
            field("workers"),
            field("threads"),
        ),
    ),  # fmt: skip
    Column("Users", _value("concurrency"), (field("concurrency"),), numeric=True),
    Column("Mode", _value("mode"), (field("mode"), field("offered_rps")), optional=True),
    Column("RPS", _rps, (field("rps"),), numeric=True),
    EXPECTED_RPS_COLUMN,
    Column("Errors / timeouts", _failures, (field("errors"), field("timeouts")), numeric=True),
    *_latency_columns("p50", "p95", "p99"),
    Column(
        "CPU ms / request",
        _value("cpu_ms_per_request", lambda v: fmt_num(v, 2)),
        (field("cpu_ms_per_request"), field("server_cpu_s")),
        numeric=True,
    ),
    Column(
        "Server CPU/wall",
        _value("server_cpu_util", lambda v: fmt_num(v, 2)),
        (field("server_cpu_util"),),
        numeric=True,
    ),
    Column(
        "Generator CPU",
        _value("generator_cpu_util", lambda v: MISSING if v is None else f"{v:.0%}"),
        (field("generator_cpu_util"), field("other_cpu_s")),
        numeric=True,
    ),
    Column("Flags", _app_flags, (field("generator_bound"), field("error"))),
)
"""``gilbench web --app``'s table: one row per path x server configuration x users (x loop
mode). CPU/wall is the server's busy cores; Generator CPU the load generator's share of its
one core (its headroom is the rest)."""

COMPARE_FIELDS: tuple[tuple[str, tuple[Any, ...]], ...] = (
    field("workload"),
    field("strategy"),
    field("workers"),
    field("python_a"),
    field("python_b"),
    field("a_median_s"),
    field("b_median_s"),
    *interval_fields("a"),
    *interval_fields("b"),
    field("ratio"),
    field("factor"),
    field("direction"),
    field("significant"),
    field("verdict"),
    field("label"),
    field("note"),
)
"""CSV fields of a comparison's rows (``gilbench.report.compare``)."""
