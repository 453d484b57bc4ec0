"""compare(): matching, ratios, significance and the summary; export(): json, csv and md.

The fixture numbers were chosen so each expected verdict follows from the definitions in
gilbench.report.compare: a change is significant when the medians' 95% intervals
(median ± 1.96·stdev/√n·1.2533) do not overlap AND the medians differ by >= 10% of A's.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
from pathlib import Path

import pytest
from rich.console import Console

from gilbench.report.compare import compare, compare_table, format_compare_lines, median_ci95
from gilbench.report.export import export

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def result() -> dict:
    return compare(load("run-a"), load("run-b"))


def by_key(result: dict) -> dict:
    return {(r["workload"], r["strategy"], r["workers"]): r for r in result["rows"]}


def doc(*rows: dict, python: str = "3.11.7") -> dict:
    """A minimal run document, valid against the schema, from rows given as strategy, median,
    stdev and optionally workload (default w), n, workers and status."""
    nothing = ("cpu_s", "cpu_util", "speedup", "speedup_ci95", "gil_contention", "max_rss_mb")
    nothing += ("startup_s", "error", "reason")
    return {
        "schema": "gilbench/1",
        "kind": "run",
        "command": "gilbench run",
        "recommendations": [],
        "environment": {"cpu_count": 2, "cpu_affinity": [0, 1], "load_avg_1m": 0.1},
        "interpreters": [
            {
                "label": python,
                "path": "/usr/bin/python3",
                "version": python,
                "free_threaded_build": False,
                "gil_enabled": True,
            }
        ],
        "results": [
            {
                "workload": r.get("workload", "w"),
                "strategy": r["strategy"],
                "workers": r.get("workers", 1),
                "tasks": 2,
                "python": python,
                "status": r.get("status", "ok"),
                "wall_s": {
                    "median": r["median"],
                    "mean": r["median"],
                    "stdev": r["stdev"],
                    "min": r["median"],
                    "max": r["median"],
                    "n": r.get("n", 5),
                },
                **dict.fromkeys(nothing),
            }
            for r in rows
        ],
    }


# -- compare -------------------------------------------------------------------------------------


def test_median_interval_formula() -> None:
    low, high = median_ci95({"median": 2.0, "stdev": 0.1, "n": 4})
    half = 1.96 * 0.1 / math.sqrt(4) * 1.2533
    assert low == pytest.approx(2.0 - half) and high == pytest.approx(2.0 + half)
    assert median_ci95({"median": 2.0, "stdev": 0.0, "n": 1}) is None
    assert median_ci95(None) is None


def test_different_interpreters_match_ignoring_python(result: dict) -> None:
    assert result["match_python"] is False
    assert result["a"]["label"] == "A (3.11.7)" and result["b"]["label"] == "B (3.14.0)"
    assert len(result["rows"]) == 14


def test_verdicts_follow_from_the_definitions(result: dict) -> None:
    verdicts = {k: r["verdict"] for k, r in by_key(result).items()}
    assert verdicts == {
        # non-overlapping intervals and >= 10% faster
        ("cpu.count", "sequential", 1): "faster",
        ("cpu.count", "threads", 2): "faster",
        ("cpu.count", "threads", 4): "faster",  # A's stdev is wide (0.18) but B is far below it
        ("cpu.count", "processes", 1): "faster",
        ("cpu.count", "processes", 2): "faster",
        ("cpu.count", "processes", 4): "faster",
        ("io.http", "processes", 2): "slower",  # 2.05 s -> 2.45 s
        # intervals do not overlap but the change is only 2% / 3%
        ("cpu.count", "threads", 1): "unchanged",
        ("io.http", "sequential", 1): "unchanged",
        # 16% faster but B's stdev (0.30) makes the intervals overlap
        ("cpu.count", "asyncio", 1): "unchanged",
        ("io.http", "threads", 4): "unchanged",
        ("io.http", "asyncio", 4): "unchanged",
        # A skipped / A errored: no time to compare
        ("cpu.count", "interpreters", 2): "not comparable",
        ("io.http", "processes", 4): "not comparable",
    }
    rows = by_key(result)
    seq = rows[("cpu.count", "sequential", 1)]
    assert seq["ratio"] == pytest.approx(1.00 / 1.42)
    assert seq["factor"] == pytest.approx(1.42) and seq["label"] == "1.42x faster"
    slow = rows[("io.http", "processes", 2)]
    assert slow["ratio"] == pytest.approx(2.45 / 2.05) and slow["label"] == "1.20x slower"
    assert rows[("cpu.count", "threads", 1)]["note"] == "change below 10%"
    assert rows[("cpu.count", "asyncio", 1)]["note"] == "95% intervals overlap"
    assert rows[("cpu.count", "interpreters", 2)]["note"].startswith(
        "A: skipped (needs Python 3.14+"
    )


def test_rows_on_one_side_are_listed(result: dict) -> None:
    only_a = {(r["workload"], r["strategy"], r["workers"]) for r in result["only_in_a"]}
    assert only_a == {
        ("cpu.count", "asyncio", 2),
        ("cpu.count", "asyncio", 4),
        ("io.http", "threads", 1),
        ("io.http", "threads", 2),
        ("io.http", "processes", 1),
        ("io.http", "asyncio", 1),
        ("io.http", "asyncio", 2),
    }
    assert [(r["workload"], r["strategy"], r["workers"]) for r in result["only_in_b"]] == [
        ("cpu.count", "interpreters", 4)
    ]


def test_summary(result: dict) -> None:
    s = result["summary"]
    assert (s["matched"], s["faster"], s["slower"], s["unchanged"], s["not_comparable"]) == (
        14,
        6,
        1,
        5,
        2,
    )
    faster = [1.42 / 1.00, 1.50 / 1.06, 1.52 / 1.07, 1.45 / 1.04, 0.74 / 0.53, 0.75 / 0.54]
    expected = math.prod(faster) ** (1 / len(faster))
    assert s["faster_factor"] == pytest.approx(expected)
    assert result["summary_line"] == (
        f"B (3.14.0) is {expected:.2f}x faster on 6 of 14 rows, 1.20x slower on 1, "
        "no significant change on 5, not comparable on 2; 7 rows only in A, 1 only in B"
    )


def test_same_interpreter_matches_on_python_too() -> None:
    a = load("run-a")
    r = compare(a, copy.deepcopy(a), label_a="before", label_b="after")
    assert r["match_python"] is True and not r["only_in_a"] and not r["only_in_b"]
    assert r["summary"]["faster"] == r["summary"]["slower"] == 0
    assert r["summary_line"].startswith(
        "after is faster on 0 of 21 rows, slower on 0, no significant change on 19"
    )
    # A doc with two interpreters against one of them: only that interpreter's rows pair up.
    two = copy.deepcopy(a)
    two["results"] += [dict(row, python="3.13.1") for row in a["results"]]
    r = compare(two, a)
    assert r["match_python"] is True and len(r["rows"]) == 21 and len(r["only_in_a"]) == 21


def test_threshold_boundaries() -> None:
    a = doc(
        {"strategy": "threads", "median": 1.0, "stdev": 0.01},
        {"strategy": "processes", "median": 1.0, "stdev": 0.01},
        {"strategy": "asyncio", "median": 1.0, "stdev": 0.01, "n": 1},
    )
    b = doc(
        {"strategy": "threads", "median": 0.90, "stdev": 0.01},  # exactly 10%: significant
        {"strategy": "processes", "median": 0.91, "stdev": 0.01},  # 9%, intervals apart: not
        {"strategy": "asyncio", "median": 0.50, "stdev": 0.01, "n": 1},  # one sample: cannot say
        python="3.14.0",
    )
    rows = {r["strategy"]: r for r in compare(a, b)["rows"]}
    s, t, u = rows["threads"], rows["processes"], rows["asyncio"]
    assert s["significant"] and s["label"] == "1.11x faster"
    assert not t["significant"] and t["verdict"] == "unchanged"
    assert not u["significant"] and u["note"] == "too few samples to judge"


def test_compare_rejects_other_documents() -> None:
    with pytest.raises(ValueError, match="web"):
        compare(load("run-a"), load("web"))
    with pytest.raises(ValueError, match="gilbench/1"):
        compare({"schema": "x"}, load("run-a"))


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (lambda d: d.update(results="zzz"), "results: 'zzz' is not of type 'array'"),
        (lambda d: d["results"][1].pop("status"), r"results\[1\]\.status: missing"),
        (lambda d: d["results"][2].update(status="bogus"), r"results\[2\]\.status: 'bogus'"),
    ],
    ids=["results not a list", "row missing a field", "bad status"],
)
def test_compare_and_export_reject_a_malformed_document_naming_the_field(fault, message) -> None:
    bad = load("run-a")
    fault(bad)
    with pytest.raises(ValueError, match=f"^B: {message}"):
        compare(load("run-b"), bad)
    with pytest.raises(ValueError, match=f"^export's input: {message}"):
        export(bad, "csv")


def test_format_compare_lines(result: dict) -> None:
    lines = format_compare_lines(result)
    assert lines[0].startswith("A: A (3.11.7)  gilbench run")
    assert lines[-1] == result["summary_line"]
    row = next(line for line in lines if line.startswith("cpu.count  sequential"))
    assert row.endswith("1.42x faster *")
    assert any(line.startswith("only in B: cpu.count interpreters x4 (3.14.0)") for line in lines)
    header = lines[3]
    assert header.split() == [
        "workload",
        "strategy",
        "workers",
        "A",
        "median",
        "B",
        "median",
        "change",
    ]


def test_rich_table_shows_data_literally() -> None:
    a, b = (
        doc({"workload": "[bold red]x[/]", "strategy": "threads", "median": 1.0, "stdev": 0.01}),
        doc(
            {"workload": "[bold red]x[/]", "strategy": "threads", "median": 0.5, "stdev": 0.01},
            python="3.14.0",
        ),
    )
    console = Console(record=True, width=160, color_system=None)
    console.print(compare_table(compare(a, b)))
    text = console.export_text()
    assert "[bold red]x[/]" in text and "2.00x faster *" in text


# -- export --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["run-a", "web"])
def test_json_round_trips(name: str) -> None:
    original = load(name)
    assert json.loads(export(original, "json")) == original


def test_json_round_trips_a_comparison(result: dict) -> None:
    assert json.loads(export(result, "json")) == json.loads(json.dumps(result))


def test_csv_run_one_row_per_result() -> None:
    original = load("run-a")
    rows = list(csv.DictReader(io.StringIO(export(original, "csv"))))
    assert len(rows) == len(original["results"])
    first = rows[0]
    assert (
        first["workload"],
        first["strategy"],
        first["wall_s_median"],
        first["speedup_ci95_high"],
    ) == ("cpu.count", "sequential", "1.42", "1.02")
    skipped = next(r for r in rows if r["status"] == "skipped")
    assert skipped["wall_s_median"] == "" and skipped["reason"].startswith("needs Python 3.14+")
    error = next(r for r in rows if r["status"] == "error")
    assert error["error"] == original["results"][17]["error"]  # the multi-line message survives


def test_csv_web_and_compare(result: dict) -> None:
    web = load("web")
    rows = list(csv.DictReader(io.StringIO(export(web, "csv"))))
    assert len(rows) == len(web["web_results"])
    assert rows[2]["variant"] == "sync-io" and rows[2]["latency_ms_p99"] == "1011.0"
    rows = list(csv.DictReader(io.StringIO(export(result, "csv"))))
    assert len(rows) == 14 + 7 + 1
    assert rows[0]["verdict"] == "faster" and float(rows[0]["ratio"]) == pytest.approx(1 / 1.42)
    assert rows[-1]["verdict"] == "only in B" and rows[-1]["b_median_s"] == "0.56"


@pytest.mark.parametrize("name", ["run-a", "web", "compare"])
def test_markdown_tables(name: str, result: dict) -> None:
    document = result if name == "compare" else load(name)
    lines = export(document, "md").splitlines()
    separators = [
        i for i, line in enumerate(lines) if line.startswith("|---") or line.startswith("|--")
    ]
    assert separators, lines[:5]
    for i in separators:
        header = lines[i - 1]
        assert header.startswith("| ") and header.count("|") == lines[i].count("|")
    body = [line for line in lines if line.startswith("| ")]
    rows = {"run-a": 2 + 21, "web": 32, "compare": 14 + 8}[name]
    assert len(body) == rows + len(separators)


def test_markdown_escapes_cells() -> None:
    d = load("run-a")
    d["results"][0]["workload"] = "a|b <script>"
    d["command"] = "gilbench run `x`"
    text = export(d, "md")
    assert "| a\\|b &lt;script&gt; |" in text
    assert "Command: `` gilbench run `x` ``" in text


def test_unknown_format_raises() -> None:
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        export(load("run-a"), "xml")
