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
    fast = {("sequential", 1): 1.10, ("threads", 4): 0.40}  # 2.75x on 4 workers: possible
    rows = [*rows_for("3.13.1", DEFAULT_MEDIANS), *rows_for("3.13.1t", fast)]
    (ft,) = cross_interpreter(rows, [DEFAULT, FT])[0].free_threaded
    assert ft.beats_baseline is True and ft.single_thread_cost < 0
    close = {("sequential", 1): 1.30, ("threads", 4): 0.55}
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


# -- rows past a physical limit (engine.limits) ---------------------------------------------------

# The free-threaded build's threads x2 at 0.30 s against its sequential 1.30 s: 4.33x on 2 workers,
# past any physical limit (its sequential run was not in its steady state, say). Its processes
# x2 (0.71 s) is within the limits.
FT_IMPOSSIBLE = {("sequential", 1): 1.30, ("threads", 2): 0.30, ("processes", 2): 0.71}


def left(entry) -> list[tuple[str, str, int, str, list[str]]]:
    """(python, strategy, workers, would_be, flag codes) of each row an entry left out."""
    return [
        (x.python, x.strategy, x.workers, x.would_be, [f.code for f in x.flags])
        for x in entry.left_out
    ]


def test_a_flagged_fastest_row_is_not_named_and_leaves_the_verdict_open():
    rows = [*rows_for("3.13.1", DEFAULT_MEDIANS), *rows_for("3.13.1t", FT_IMPOSSIBLE)]
    (entry,) = cross_interpreter(rows, [DEFAULT, FT], cores=2)
    # The fastest within the limits, and its real lead over the other interpreter's best ...
    assert (entry.fastest.python, entry.fastest.strategy) == ("3.13.1", "processes")
    assert (entry.runner_up.python, entry.runner_up.strategy) == ("3.13.1t", "processes")
    assert entry.lead == pytest.approx(0.71 / 0.54) and entry.lead_ci95[0] > 1.1
    # ... yet not decided: the impossible row would have been the fastest.
    assert not entry.decided
    assert left(entry) == [("3.13.1t", "threads", 2, "fastest", ["impossible-speedup"])]
    assert entry.why.startswith("inconclusive: 3.13.1 processes x2 0.540 s is the fastest within")
    assert (
        "3.13.1t threads x2 0.300 s (4.33x its sequential) would have been the fastest but is "
        "left out: above the physical limit of 2x" in entry.why
    )
    # Nor is it the free-threaded build's best: that is its processes row, and whether the build
    # beats its default build is open (the left-out row says faster, the rest slower).
    (ft,) = entry.free_threaded
    assert (ft.best.strategy, ft.best.workers) == ("processes", 2)
    assert [x.would_be for x in ft.left_out] == ["best"]
    assert ft.beats_baseline is None and ft.reason.startswith("not decided")
    assert "3.13.1t threads x2, left out above, would have been its best" in entry.why
    assert entry.why.count("above the physical limit") == 1  # explained once


def test_a_flagged_runner_up_leaves_the_lead_open_unless_the_fastest_really_leads_it():
    # FT threads x2 at 0.56 s (2.32x on 2 workers: flagged) is within 4% of 0.54 s.
    close = {("sequential", 1): 1.30, ("threads", 2): 0.56, ("processes", 2): 0.71}
    rows = [*rows_for("3.13.1", DEFAULT_MEDIANS), *rows_for("3.13.1t", close)]
    (entry,) = cross_interpreter(rows, [DEFAULT, FT], cores=2)
    assert entry.fastest.strategy == "processes" and entry.runner_up.strategy == "processes"
    assert entry.lead_ci95[0] > 1.1  # against the reliable runner-up alone it would be real
    assert not entry.decided
    assert left(entry) == [("3.13.1t", "threads", 2, "runner_up", ["impossible-speedup"])]
    assert entry.why.startswith("inconclusive:")
    # Twice as slow and flagged (2.5x on 2 workers): 0.54 s leads it by far, the lead stands.
    far = {("sequential", 1): 2.50, ("threads", 2): 1.00, ("processes", 2): 1.40}
    rows = [*rows_for("3.13.1", DEFAULT_MEDIANS), *rows_for("3.13.1t", far)]
    (entry,) = cross_interpreter(rows, [DEFAULT, FT], cores=2)
    assert entry.decided and entry.runner_up.strategy == "processes"
    assert left(entry) == [("3.13.1t", "threads", 2, "runner_up", ["impossible-speedup"])]
    assert entry.why.startswith("3.13.1 processes x2 0.540 s is the fastest within the physical")
    assert "would have been the best on another interpreter but is left out" in entry.why


def test_a_flagged_row_slower_than_what_is_named_is_not_mentioned():
    # Each flagged, each slower than the row named on its side: the free-threaded build's
    # threads x2 (2.44x on 2 workers) behind its threads x4 (the fastest), the default build's
    # processes x1 (1.24x on 1 worker) behind its processes x2 (the runner-up).
    default = {**DEFAULT_MEDIANS, ("processes", 1): 0.90}
    fast = {("sequential", 1): 1.10, ("threads", 4): 0.40, ("threads", 2): 0.45}
    rows = [*rows_for("3.13.1", default), *rows_for("3.13.1t", fast)]
    (entry,) = cross_interpreter(rows, [DEFAULT, FT], cores=4)
    assert (entry.fastest.strategy, entry.fastest.workers) == ("threads", 4)
    assert (entry.runner_up.strategy, entry.runner_up.workers) == ("processes", 2)
    assert entry.decided and entry.left_out == [] and "left out" not in entry.why
    (ft,) = entry.free_threaded
    assert ft.left_out == [] and ft.beats_baseline is True


def test_the_cores_limit_comes_from_the_usable_cores_as_the_recommendation_gets_them():
    # processes x4 at 3.0x: within 4 workers, past 2 usable cores for CPU-bound work.
    default = {("sequential", 1): 1.20, ("processes", 4): 0.40}
    rows = [*rows_for("3.13.1", default), *rows_for("3.13.1t", FT_MEDIANS, cpu_util=THREADS_2)]
    (no_cores,) = cross_interpreter(rows, [DEFAULT, FT])
    assert no_cores.fastest.strategy == "processes" and no_cores.left_out == []
    (two,) = cross_interpreter(rows, [DEFAULT, FT], cores=2)
    assert two.fastest.python == "3.13.1t" and not two.decided
    assert left(two) == [("3.13.1", "processes", 4, "fastest", ["impossible-speedup"])]
    assert "above the physical limit of 2x on 2 usable cores" in two.why
    # analyse() passes the document's usable cores (2) to it, as to the recommendations.
    doc = document([DEFAULT, FT], rows)
    analyse(doc)
    (entry,) = doc.to_dict()["cross_interpreter"]
    assert entry["fastest"]["python"] == "3.13.1t" and entry["decided"] is False
    assert entry["left_out"][0]["flags"][0]["code"] == "impossible-speedup"
    (rec,) = [r for r in doc.recommendations if r.python == "3.13.1"]
    assert rec.strategy != "processes"  # the recommendation leaves the same row out


def test_a_flagged_default_build_row_is_not_its_best_and_may_leave_the_comparison_open():
    ft_fast = {("sequential", 1): 1.30, ("threads", 4): 0.40}  # 3.25x on 4 workers: possible
    # The default build's threads x2 at 0.30 s (3.73x on 2 workers): flagged.
    default = {**DEFAULT_MEDIANS, ("threads", 2): 0.30}
    rows = [*rows_for("3.13.1", default), *rows_for("3.13.1t", ft_fast)]
    (ft,) = cross_interpreter(rows, [DEFAULT, FT], cores=4)[0].free_threaded
    assert (ft.baseline_best.strategy, ft.baseline_best.workers) == ("processes", 2)
    assert [(x.python, x.would_be) for x in ft.left_out] == [("3.13.1", "baseline_best")]
    # 0.40 s beats 0.54 s, but the left-out 0.30 s would beat 0.40 s: open.
    assert ft.beats_baseline is None and "not decided" in ft.reason
    # When the free-threaded build is slower than the default build's best anyway, a faster
    # flagged row there cannot change that: the verdict stands, the row is still named.
    rows = [*rows_for("3.13.1", default), *rows_for("3.13.1t", FT_MEDIANS, cpu_util=THREADS_2)]
    (ft,) = cross_interpreter(rows, [DEFAULT, FT], cores=2)[0].free_threaded
    assert ft.beats_baseline is False
    assert [(x.strategy, x.would_be) for x in ft.left_out] == [("threads", "baseline_best")]


def test_a_flagged_default_build_best_the_entry_did_not_name_is_explained_on_its_item():
    fast = {("sequential", 1): 1.10, ("threads", 4): 0.40}
    gil = {("sequential", 1): 1.29, ("processes", 4): 0.50}
    # threads x2 at 2.5x on 2 workers: flagged; slower than the runner-up (0.50 s on 3.13.1t+gil)
    default = {("sequential", 1): 1.30, ("threads", 2): 0.52, ("processes", 2): 0.66}
    rows = [*rows_for("3.13.1", default), *rows_for("3.13.1t", fast), *rows_for("3.13.1t+gil", gil)]
    (entry,) = cross_interpreter(rows, [DEFAULT, FT, FT_GIL], cores=4)
    assert entry.left_out == [] and entry.runner_up.python == "3.13.1t+gil" and entry.decided
    (ft,) = entry.free_threaded
    assert (ft.baseline_best.strategy, ft.baseline_best.workers) == ("processes", 2)
    assert [(x.python, x.would_be) for x in ft.left_out] == [("3.13.1", "baseline_best")]
    assert ft.beats_baseline is True  # 0.40 s beats 0.66 s, and would beat the 0.52 s too
    assert (
        "3.13.1 threads x2 0.520 s (2.50x its sequential) would have been the default build's "
        "best but is left out: above the physical limit of 2x for 2 workers" in entry.why
    )


def test_limited_by_reads_only_rows_within_the_physical_limits():
    medians = {("sequential", 1): 1.4, ("threads", 2): 1.2, ("threads", 4): 1.2}
    # threads x4 at CPU/wall 5.0: past 2 usable cores (impossible-cpu); x2 at 1.9 is not.
    util = {("threads", 2): 1.9, ("threads", 4): 5.0}
    rows = [*rows_for("3.13.1", DEFAULT_MEDIANS), *rows_for("3.13.1t", medians, cpu_util=util)]
    (ft,) = cross_interpreter(rows, [DEFAULT, FT])[0].free_threaded
    assert ft.limited_by.startswith("threads kept 4 cores busy (CPU/wall 5.00)")  # no cores known
    (ft,) = cross_interpreter(rows, [DEFAULT, FT], cores=2)[0].free_threaded
    assert ft.limited_by.startswith("threads kept 2 cores busy (CPU/wall 1.90)")


def test_rows_within_the_limits_give_the_verdict_they_gave_before():
    rows = [
        *rows_for("3.13.1", DEFAULT_MEDIANS, contention=0.9),
        *rows_for("3.13.1t", FT_MEDIANS, cpu_util=THREADS_2),
        *rows_for("3.13.1t+gil", {("sequential", 1): 1.29, ("processes", 2): 0.65}),
    ]
    with_cores = [e.to_dict() for e in cross_interpreter(rows, [DEFAULT, FT, FT_GIL], cores=2)]
    assert with_cores == [e.to_dict() for e in cross_interpreter(rows, [DEFAULT, FT, FT_GIL])]
    (entry,) = with_cores
    assert entry["left_out"] == [] and entry["free_threaded"][0]["left_out"] == []
    assert entry["decided"] is True and entry["free_threaded"][0]["beats_baseline"] is False
    assert entry["why"] == (
        "3.13.1 processes x2 0.540 s is the fastest, 1.11x (95% CI 1.08 to 1.14) ahead of "
        "3.13.1t threads x2 0.600 s; free-threaded 3.13.1t: sequential takes +16% (95% CI +13% "
        "to +20%) vs 3.13.1, its best, threads x2 0.600 s, runs at 0.90x (95% CI 0.87 to 0.93) "
        "the speed of 3.13.1's best, processes x2 0.540 s: slower"
    )


def flagged_document(workload: str = "cpu.count") -> dict:
    """A run whose fastest row is past a physical limit, analysed, as written to disk."""
    rows = [
        *rows_for("3.13.1", DEFAULT_MEDIANS, workload),
        *rows_for("3.13.1t", FT_IMPOSSIBLE, workload),
    ]
    doc = document([DEFAULT, FT], rows)
    analyse(doc)
    return json.loads(json.dumps(doc.to_dict()))


def test_left_out_rows_validate_and_show_in_every_report():
    doc = flagged_document()
    jsonschema.validate(doc, schema_for("run"))
    assert load(doc) == doc
    (entry,) = doc["cross_interpreter"]
    assert entry["left_out"][0]["would_be"] == "fastest"
    assert entry["left_out"][0]["flags"][0]["reason"].startswith("above the physical limit")
    # An older document without left_out still validates; a malformed one does not.
    old = json.loads(json.dumps(doc))
    del old["cross_interpreter"][0]["left_out"]
    del old["cross_interpreter"][0]["free_threaded"][0]["left_out"]
    jsonschema.validate(old, schema_for("run"))
    doc["cross_interpreter"][0]["left_out"][0]["flags"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema_for("run"))
    doc = flagged_document()
    console = Console(width=300, record=True)
    console.print(cross_interpreter_table(doc))
    out = console.export_text()
    assert "3.13.1t threads x2 left out: above the physical limit" in out
    assert "not decided" in out and "within noise" not in out
    md = export(doc, "md")
    assert "3.13.1t threads x2 left out: above the physical limit" in md
    assert "- cpu.count: inconclusive: 3.13.1 processes x2" in md


def test_html_marks_the_left_out_row_and_bolds_the_fastest_within_the_limits():
    html = render_html([flagged_document(EVIL)])
    parsed = parse(html)
    assert set(parsed.tags) <= ALLOWED_TAGS, set(parsed.tags) - ALLOWED_TAGS
    assert "<script" not in html.lower()
    section = html[html.index('id="d1-pythons"') :]
    assert "<b>0.540 s</b>" in section and "<b>0.300 s</b>" not in section
    assert "0.300 s" in section and "past a physical limit</span>" in section
    assert 'title="left out: above the physical limit of 2x' in section
    assert "inconclusive: 3.13.1 processes x2 0.540 s" in section
