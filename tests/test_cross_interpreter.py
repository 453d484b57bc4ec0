"""The verdict across interpreters and the free-threaded classification, from synthetic documents
(rows built by hand, no processes, no timing), through the analysis, the schema and every report."""

from __future__ import annotations

import json

import jsonschema
import pytest
from rich.console import Console

from gilbench.analysis import analyse
from gilbench.analysis.interpreters import cross_interpreter
from gilbench.analysis.recommend import classify, recommend_all, task_table
from gilbench.documents import load, schema_for
from gilbench.engine import stats
from gilbench.engine.results import Document, Row
from gilbench.report.export import export
from gilbench.report.html import render_html
from gilbench.report.interpreters import cross_interpreter_table
from test_report_html import ALLOWED_TAGS, parse

NOISE = [1.00, 1.01, 0.99, 1.02, 0.98]  # relative spread of every synthetic sample list
EVIL = "<script>alert(1)</script>"


def samples(median: float) -> list[float]:
    return [median * k for k in NOISE]


def interp(label: str, version: str = "3.13.1", ft: bool = False, gil: bool = True) -> dict:
    """An ``interpreters`` entry as ``targets`` writes it."""
    return {
        "label": label,
        "path": f"/opt/{label}/bin/python3",
        "version": version,
        "version_info": [int(x) for x in version.split(".")],
        "free_threaded_build": ft,
        "gil_enabled": gil,
        "env": {"PYTHON_GIL": "" if not gil else "1"} if ft else {},
    }


DEFAULT = interp("3.13.1")
FT = interp("3.13.1t", ft=True, gil=False)
FT_GIL = interp("3.13.1t+gil", ft=True, gil=True)


def rows_for(
    python: str,
    medians: dict[tuple[str, int], float],
    workload: str = "cpu.count",
    cpu_util: dict[tuple[str, int], float] | None = None,
    contention: float | None = None,
    reenabled: list[str] | None = None,
) -> list[Row]:
    """One interpreter's rows for one workload: ``medians[(strategy, workers)]`` seconds each,
    speedups against its sequential row as the session derives them."""
    base = samples(medians[("sequential", 1)])
    out = []
    for (strategy, workers), median in medians.items():
        s = samples(median)
        util = (cpu_util or {}).get((strategy, workers), 1.0)
        r = Row(
            workload,
            strategy,
            workers,
            2,
            python,
            samples_s=s,
            wall_s=stats.summarize(s),
            cpu_s=util * median,
            cpu_util=util,
            gil_contention=contention if strategy != "processes" else None,
            speedup=stats.ratio_of_medians(base, s),
            speedup_ci95=list(stats.ratio_ci95(base, s)),
        )
        r.gil_reenabled_by = reenabled  # the engine's Row field; set like this in case it lacks it
        out.append(r)
    return out


# Shaped like the real 3.13 run: the default build wins with processes, the free-threaded build's
# threads scale, its sequential run is ~24% slower.
DEFAULT_MEDIANS = {("sequential", 1): 1.12, ("threads", 2): 1.16, ("processes", 2): 0.54}
FT_MEDIANS = {("sequential", 1): 1.30, ("threads", 2): 0.60, ("processes", 2): 0.71}
THREADS_2 = {("threads", 2): 1.95}


def test_the_fastest_is_the_lowest_median_and_the_runner_up_is_on_another_interpreter():
    rows = [
        *rows_for("3.13.1", DEFAULT_MEDIANS, contention=0.9),
        *rows_for("3.13.1t", FT_MEDIANS, cpu_util=THREADS_2),
        *rows_for("3.13.1t+gil", {("sequential", 1): 1.29, ("processes", 2): 0.65}),
    ]
    (entry,) = cross_interpreter(rows, [DEFAULT, FT, FT_GIL])
    lowest = min(rows, key=lambda r: r.wall_s["median"])
    assert (entry.fastest.python, entry.fastest.strategy, entry.fastest.workers) == (
        "3.13.1",
        "processes",
        2,
    )
    assert entry.fastest.wall_s == lowest.wall_s["median"]
    # Not the default build's own threads or sequential row: the best of another interpreter.
    others = [r for r in rows if r.python != entry.fastest.python]
    assert entry.runner_up.python != entry.fastest.python
    assert entry.runner_up.wall_s == min(r.wall_s["median"] for r in others)
    assert entry.lead == pytest.approx(entry.runner_up.wall_s / entry.fastest.wall_s)
    low, high = entry.lead_ci95
    assert low <= entry.lead <= high
    # 0.60 / 0.54 = 1.11 with tight samples: a real lead of 10%.
    assert entry.decided and entry.lead >= 1.10 and low > 1
    assert entry.why.startswith("3.13.1 processes x2 0.540 s is the fastest, 1.11x")


def test_a_lead_under_10_percent_is_within_noise():
    rows = [
        *rows_for("3.13.1", {("sequential", 1): 1.0, ("processes", 2): 0.52}),
        *rows_for("3.12.8", {("sequential", 1): 1.0, ("processes", 2): 0.55}),
    ]
    (entry,) = cross_interpreter(rows, [DEFAULT, interp("3.12.8", "3.12.8")])
    assert not entry.decided and 1.0 < entry.lead < 1.1
    assert "are within noise" in entry.why
    assert entry.free_threaded == []  # no free-threaded build measured


def test_single_thread_cost_and_the_free_threaded_best_against_the_default_build():
    rows = [
        *rows_for("3.13.1", DEFAULT_MEDIANS, contention=0.9),
        *rows_for("3.13.1t", FT_MEDIANS, cpu_util=THREADS_2),
    ]
    (entry,) = cross_interpreter(rows, [DEFAULT, FT])
    (ft,) = entry.free_threaded
    assert (ft.python, ft.baseline) == ("3.13.1t", "3.13.1")
    assert ft.single_thread_cost == pytest.approx(1.30 / 1.12 - 1)
    low, high = ft.single_thread_cost_ci95
    assert 0 < low <= ft.single_thread_cost <= high  # slower on one thread, and significantly
    assert (ft.best.strategy, ft.best.workers) == ("threads", 2)
    assert (ft.baseline_best.strategy, ft.baseline_best.workers) == ("processes", 2)
    assert ft.vs_baseline_best == pytest.approx(0.54 / 0.60)
    assert ft.beats_baseline is False  # the default build's processes really are 10% faster
    assert ft.limited_by is None and ft.gil_reenabled_by is None
    assert "free-threaded 3.13.1t: sequential takes +16%" in entry.why


def test_a_faster_free_threaded_build_beats_its_baseline_and_a_close_one_is_undecided():
    fast = {("sequential", 1): 1.10, ("threads", 2): 0.40}
    rows = [*rows_for("3.13.1", DEFAULT_MEDIANS), *rows_for("3.13.1t", fast)]
    (ft,) = cross_interpreter(rows, [DEFAULT, FT])[0].free_threaded
    assert ft.beats_baseline is True and ft.single_thread_cost < 0
    close = {("sequential", 1): 1.30, ("threads", 2): 0.55}
    rows = [*rows_for("3.13.1", DEFAULT_MEDIANS), *rows_for("3.13.1t", close)]
    (ft,) = cross_interpreter(rows, [DEFAULT, FT])[0].free_threaded
    assert ft.beats_baseline is None and "within noise" in ft.reason


def test_a_row_that_turned_the_gil_back_on_is_not_counted_as_free_threaded():
    ft_rows = rows_for("3.13.1t", FT_MEDIANS, cpu_util=THREADS_2, reenabled=["numpy._core"])
    (entry,) = cross_interpreter([*rows_for("3.13.1", DEFAULT_MEDIANS), *ft_rows], [DEFAULT, FT])
    (ft,) = entry.free_threaded
    assert ft.gil_reenabled_by == ["numpy._core"]
    assert ft.beats_baseline is None and ft.limited_by is None
    assert "turned the GIL back on" in ft.reason and "numpy._core" in entry.why
    assert classify(ft_rows, FT) != "cpu-free-threaded"
    # One row is enough: the others ran in the same kind of worker.
    clean = rows_for("3.13.1t", FT_MEDIANS, cpu_util=THREADS_2)
    clean[-1].gil_reenabled_by = ["numpy._core"]
    assert classify(clean, FT) != "cpu-free-threaded"


def test_limited_by_only_when_threads_are_busy_yet_slow():
    def limited(threads_median: float, threads_util: float) -> str | None:
        medians = {("sequential", 1): 1.4, ("threads", 2): threads_median}
        util = {("threads", 2): threads_util}
        rows = [*rows_for("3.13.1", DEFAULT_MEDIANS), *rows_for("3.13.1t", medians, cpu_util=util)]
        return cross_interpreter(rows, [DEFAULT, FT])[0].free_threaded[0].limited_by

    # Two cores busy (CPU/wall 1.9) for a 1.17x gain: contention inside the interpreter.
    text = limited(1.2, 1.9)
    assert text.startswith("threads kept 2 cores busy (CPU/wall 1.90) but gained only 1.17x")
    assert "not the GIL" in text and "ftscalingbench" in text
    assert limited(0.72, 1.9) is None  # 1.94x: it scaled
    assert limited(1.2, 1.1) is None  # slow, but not busy: something else (I/O, a lock) waits


def test_the_baseline_is_the_same_version_else_the_same_minor_else_none():
    ft = interp("3.13.2t", "3.13.2", ft=True, gil=False)
    same_minor = interp("3.13.1", "3.13.1")
    same_version = interp("3.13.2", "3.13.2")
    other = interp("3.12.8", "3.12.8")
    ft_rows = rows_for("3.13.2t", FT_MEDIANS)

    def baseline(*builds: dict) -> str | None:
        rows = ft_rows + [r for b in builds for r in rows_for(b["label"], DEFAULT_MEDIANS)]
        return cross_interpreter(rows, [ft, *builds])[0].free_threaded[0].baseline

    assert baseline(same_minor, same_version, other) == "3.13.2"
    assert baseline(other, same_minor) == "3.13.1"
    rows = ft_rows + rows_for("3.12.8", DEFAULT_MEDIANS)
    (entry,) = cross_interpreter(rows, [ft, other])
    (alone,) = entry.free_threaded
    assert alone.baseline is None and alone.single_thread_cost is None
    assert alone.beats_baseline is None and "no default (GIL) build of 3.13.2" in alone.reason
    assert "free-threaded 3.13.2t: no default (GIL) build" in entry.why


def test_one_interpreter_gives_no_entry():
    assert cross_interpreter(rows_for("3.13.1", DEFAULT_MEDIANS), [DEFAULT]) == []
    doc = document([DEFAULT], rows_for("3.13.1", DEFAULT_MEDIANS))
    analyse(doc)
    assert "cross_interpreter" not in doc.to_dict()
    # Several interpreters, one measured this workload: the key is there, with no entry.
    doc = document([DEFAULT, FT], rows_for("3.13.1", DEFAULT_MEDIANS))
    analyse(doc)
    assert doc.to_dict()["cross_interpreter"] == []


def test_free_threaded_cpu_work_is_classified_as_such_and_the_default_build_is_not():
    ft_rows = rows_for("3.13.1t", FT_MEDIANS, cpu_util=THREADS_2)
    default_rows = rows_for("3.13.1", DEFAULT_MEDIANS, contention=0.9)
    # Threads scaled 2.17x (within 10% of 2 workers' limit): without the interpreter that
    # reads as C code releasing the GIL.
    assert classify(ft_rows) == "cpu-native-releases-gil"
    assert classify(ft_rows, FT) == "cpu-free-threaded"
    assert classify(default_rows, DEFAULT) == "cpu-python"
    gil_rows = rows_for("3.13.1t+gil", {("sequential", 1): 1.29, ("threads", 2): 1.2})
    assert classify(gil_rows, FT_GIL) == "cpu-python"  # PYTHON_GIL=1: the GIL is there
    # Waiting work stays I/O-bound on any build.
    io_rows = rows_for("3.13.1t", FT_MEDIANS, cpu_util={("sequential", 1): 0.02})
    assert classify(io_rows, FT) == "io"
    recs = recommend_all(ft_rows + default_rows, cores=2, interpreters=[DEFAULT, FT])
    assert {r.python: r.classification for r in recs} == {
        "3.13.1t": "cpu-free-threaded",
        "3.13.1": "cpu-python",
    }
    table = {t["classification"]: t for t in task_table([r.to_dict() for r in recs])}
    assert table["cpu-free-threaded"]["task_type"] == "CPU-bound, free-threaded build (no GIL)"
    assert "cpu.count on 3.13.1t threads x2" in table["cpu-free-threaded"]["why"]
    assert "cpu-native-releases-gil" not in table


def document(interpreters: list[dict], rows: list[Row]) -> Document:
    return Document(
        kind="run",
        command="gilbench run --python a --python b",
        created="2026-01-01T00:00:00+00:00",
        environment={"cpu_count": 2, "cpu_affinity": [0, 1], "load_avg_1m": 0.1, "usable_cores": 2},
        interpreters=interpreters,
        results=rows,
    )


def analysed(workload: str = "cpu.count") -> dict:
    """A run on three interpreter entries, analysed, as written to disk."""
    rows = [
        *rows_for("3.13.1", DEFAULT_MEDIANS, workload, contention=0.9),
        *rows_for("3.13.1t", FT_MEDIANS, workload, cpu_util=THREADS_2),
        *rows_for("3.13.1t+gil", {("sequential", 1): 1.29, ("processes", 2): 0.65}, workload),
    ]
    doc = document([DEFAULT, FT, FT_GIL], rows)
    analyse(doc)
    return json.loads(json.dumps(doc.to_dict()))


def test_the_document_validates_against_the_schema():
    doc = analysed()
    jsonschema.validate(doc, schema_for("run"))
    assert load(doc) == doc
    (entry,) = doc["cross_interpreter"]
    assert entry["fastest"]["python"] == "3.13.1" and entry["free_threaded"][0]["baseline"]
    assert {r["classification"] for r in doc["recommendations"] if r["python"] == "3.13.1t"} == {
        "cpu-free-threaded"
    }
    entry["fastest"]["wall_s"] = -1.0  # the schema does check the entry
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema_for("run"))


def test_html_shows_interpreters_side_by_side_and_escapes_the_workload():
    html = render_html([analysed(EVIL)])
    parsed = parse(html)
    assert set(parsed.tags) <= ALLOWED_TAGS, set(parsed.tags) - ALLOWED_TAGS
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'id="d1-pythons"' in html and "Across interpreters" in html
    assert "free-threaded, GIL off" in html and "free-threaded, PYTHON_GIL=1" in html
    assert 'data-chart="1/pythons/&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "is the fastest, 1.11" in html  # the verdict's sentence
    # The fastest median is bold in the side-by-side table.
    assert "<b>0.540 s</b>" in html


def test_html_of_a_document_older_than_the_verdict_still_shows_the_interpreters():
    doc = analysed()
    del doc["cross_interpreter"]
    html = render_html([doc])
    assert 'id="d1-pythons"' in html and "Across interpreters: fastest" not in html


def test_terminal_and_markdown_show_the_verdict_across_interpreters():
    doc = analysed()
    console = Console(width=200, record=True)
    console.print(cross_interpreter_table(doc))
    out = console.export_text()
    assert "Across interpreters" in out and "3.13.1t (free-threaded, GIL off)" in out
    assert "+24%" in out and "is the fastest" in out
    assert cross_interpreter_table({"results": [], "interpreters": [DEFAULT]}) is None
    md = export(doc, "md")
    assert "**Across interpreters**" in md and "- cpu.count: 3.13.1 processes x2" in md
