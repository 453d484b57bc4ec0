"""The HTML report: every chart is there, the verdict comes first, data can never become markup."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gilbench.report.compare import compare
from gilbench.report.html import render_html

FIXTURES = Path(__file__).parent / "fixtures"
EVIL_NAME = "<script>alert(1)</script>"
EVIL_COMMAND = (
    """gilbench bench 'evil:f' --args '"><img src=x onerror=alert(2)></pre>"""
    """<script>alert(3)</script>'"""
)

# Everything the report itself emits; a tag outside this set came from data.
ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "main",
    "header",
    "nav",
    "footer",
    "section",
    "h1",
    "h2",
    "h3",
    "h4",
    "p",
    "a",
    "b",
    "span",
    "br",
    "ul",
    "li",
    "dl",
    "dt",
    "dd",
    "pre",
    "code",
    "details",
    "summary",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "svg",
    "g",
    "line",
    "polyline",
    "path",
    "rect",
    "circle",
    "text",
}


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def evil_doc() -> dict:
    """run-a with a workload named like a script tag and a command trying to break out of <pre>."""
    doc = copy.deepcopy(load("run-a"))
    for row in doc["results"] + doc["recommendations"] + doc["warnings"]:
        if row.get("workload") == "cpu.count":
            row["workload"] = EVIL_NAME
    doc["command"] = EVIL_COMMAND
    doc["environment"]["hostname"] = '"><svg onload=alert(4)>'
    doc["warnings"].append(
        {"code": "<b>bold</b>", "message": "</td></tr></table><script>alert(5)</script>"}
    )
    return doc


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    collector.close()
    return collector


def chart_ids(html: str) -> list[str]:
    return re.findall(r'<svg class="chart" data-chart="([^"]*)"', html)


@pytest.fixture(scope="module")
def report() -> str:
    return render_html([load("run-a"), load("web"), load("run-b")])


def test_every_chart_is_an_inline_svg(report: str) -> None:
    expected = []
    for i, workloads in ((1, ["cpu.count", "io.http"]), (3, ["cpu.count", "io.http"])):
        for w in workloads:
            expected += [f"{i}/speedup/{w}", f"{i}/cpu-util/{w}", f"{i}/gil/{w}"]
    expected += ["2/web-rps/sw1", "2/web-p99/sw1", "2/web-rps/sw2", "2/web-p99/sw2"]
    assert sorted(chart_ids(report)) == sorted(expected)
    assert report.count("</svg>") == len(expected)
    # Each chart has a title, axis labels and a legend.
    for svg in re.findall(r'<svg class="chart".*?</svg>', report, flags=re.S):
        assert "<title>" in svg and 'class="axes"' in svg and 'class="legend"' in svg


def test_speedup_chart_has_one_line_per_strategy_and_the_ideal(report: str) -> None:
    svg = re.search(
        r'<svg class="chart" data-chart="1/speedup/cpu.count".*?</svg>', report, re.S
    ).group(0)
    series = re.findall(r'data-series="([^"]*)"', svg)
    assert series == [
        "ideal (y = x)",
        "sequential",
        "threads",
        "asyncio",
        "processes",
    ]  # registry order
    assert "workers" in svg and "speedup vs sequential" in svg


def test_verdict_table_comes_first(report: str) -> None:
    verdict = report.index('id="verdict"')
    assert verdict < report.index("<svg")
    assert verdict < report.index('id="doc-1"')
    table = report[verdict : report.index("</table>", verdict)]
    for header in ("Workload", "Python", "Classification", "Use", "Workers", "Speedup", "Why"):
        assert f">{header}</th>" in table
    for rec in load("run-a")["recommendations"] + load("run-b")["recommendations"]:
        assert rec["why"] in table
    # Then the documents, then environment, warnings and commands, in that order.
    order = [
        report.index(f'id="{x}"')
        for x in ("doc-1", "doc-2", "doc-3", "environment", "warnings", "commands")
    ]
    assert order == sorted(order)


def test_provenance_every_warning_and_command(report: str) -> None:
    for name in ("run-a", "web", "run-b"):
        doc = load(name)
        assert f"<pre><code>{doc['command']}</code></pre>" in report
        for warning in doc["warnings"]:
            assert warning["message"] in report
    assert "AMD EPYC 7B13" in report and "/opt/python3.14/bin/python3.14" in report


def test_skipped_and_error_rows_are_shown_with_their_reason(report: str) -> None:
    rows = re.findall(r'<tr class="row-(skipped|error)">(.*?)</tr>', report, flags=re.S)
    skipped = [r for kind, r in rows if kind == "skipped"]
    errors = [r for kind, r in rows if kind == "error"]
    assert any(
        "needs Python 3.14+ (concurrent.interpreters); this is CPython 3.11.7" in r for r in skipped
    )
    assert any(">skipped</span>" in r for r in skipped)
    assert any("ConnectionResetError: [Errno 104] Connection reset by peer" in r for r in errors)
    # The chart says what it left out.
    assert "Not plotted: interpreters ×2 skipped (needs Python 3.14+" in report


def test_web_section(report: str) -> None:
    svg = re.search(r'<svg class="chart" data-chart="2/web-rps/sw1".*?</svg>', report, re.S).group(
        0
    )
    assert re.findall(r'data-series="([^"]*)"', svg)[:2] == ["sync-io", "sync-io (expected)"]
    assert "concurrent users" in svg and "requests / s" in svg
    p99 = re.search(r'<svg class="chart" data-chart="2/web-p99/sw2".*?</svg>', report, re.S).group(
        0
    )
    assert "p99 latency" in p99
    assert "load generator ceiling 4,123 RPS" in report
    # The web lab's check of the post's claim is part of the verdict.
    verdict = report[report.index('<section id="verdict">') : report.index("</section>")]
    assert '<a href="#doc-2">Web lab #2</a>: Claim check: a def endpoint' in verdict


def test_repeated_web_cells_show_their_runs_as_error_bars() -> None:
    doc = load("web")
    row = next(r for r in doc["web_results"] if r["server_workers"] == 1)
    row["rps_runs"] = [row["rps"] * 0.8, row["rps"], row["rps"] * 1.1]
    html = render_html([doc])
    svg = re.search(r'<svg class="chart" data-chart="1/web-rps/sw1".*?</svg>', html, re.S).group(0)
    assert f"(median of 3 runs, {row['rps'] * 0.8:.1f}-{row['rps'] * 1.1:.1f})" in svg
    assert svg.count('opacity="0.8"/>') == 1  # one error bar: the only repeated cell
    plain = render_html([load("web")])
    assert "median of" not in plain and 'opacity="0.8"/>' not in plain


def test_a_web_document_without_config_still_renders() -> None:
    doc = load("web")
    del doc["config"]
    html = render_html([doc])
    assert "Claim check" not in html and "These documents carry no recommendations." in html


def test_data_is_escaped_everywhere() -> None:
    html = render_html([evil_doc()])
    parsed = parse(html)
    assert set(parsed.tags) <= ALLOWED_TAGS, set(parsed.tags) - ALLOWED_TAGS
    assert not [name for name, _ in parsed.attrs if name.startswith("on")]
    assert "<script" not in html.lower() and "<img" not in html.lower()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escaped in html
    # ...including inside the SVG charts (titles, data-chart ids).
    svg = re.search(
        r'<svg class="chart" data-chart="1/speedup/&lt;script&gt;.*?</svg>', html, re.S
    ).group(0)
    assert f"<title>{escaped}: speedup vs workers</title>" in svg
    # The command is shown exactly, as text.
    assert EVIL_COMMAND in "".join(parsed.text)
    assert EVIL_NAME in "".join(parsed.text)


def test_self_contained() -> None:
    html = render_html([load("run-a"), load("web")])
    assert "<link" not in html and "src=" not in html and "<script" not in html
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    assert "Content-Security-Policy" in html


def test_nulls_unknown_fields_and_several_pythons() -> None:
    # Every null the schema allows, fields it does not know, a NaN: rendered, not refused.
    nothing = ("cpu_s", "cpu_util", "speedup_ci95", "gil_contention", "max_rss_mb", "startup_s")
    nothing += ("error", "reason")
    doc = load("run-a")
    doc["results"].append(
        {
            **dict.fromkeys(nothing),
            "workload": "cpu.count",
            "strategy": "threads",
            "workers": 2,
            "tasks": 2,
            "python": "3.14t",
            "status": "ok",
            "wall_s": {"median": 0.8, "mean": 0.8, "stdev": 0.0, "min": 0.8, "max": 0.8, "n": 1},
            "speedup": 1.8,
            "extra": {"x": 1},
        }
    )
    doc["results"].append(
        {
            **dict.fromkeys(nothing),
            "workload": "io.sqlite",
            "strategy": "threads",
            "workers": 1,
            "tasks": 2,
            "python": "3.11.7",
            "status": "timeout",
            "wall_s": None,
            "speedup": float("nan"),
            "error": "timed out after 30 s",
        }
    )
    doc["surprise"] = [1, 2, 3]
    html = render_html([doc])
    assert "threads · 3.14t" in html  # several interpreters: lines labelled by python
    assert "timed out after 30 s" in html
    assert "1/speedup/io.sqlite" in chart_ids(html)


def test_compare_document_renders() -> None:
    result = compare(load("run-a"), load("run-b"))
    html = render_html([result])
    assert result["summary_line"] in html
    assert html.index('id="verdict"') < html.index('id="doc-1"')


@pytest.mark.parametrize("docs", [[], [{"schema": "other/2"}], ["not a dict"], "a string"])
def test_rejects_what_is_not_a_gilbench_document(docs) -> None:
    with pytest.raises(ValueError):
        render_html(docs)
