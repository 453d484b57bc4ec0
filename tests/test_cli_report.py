"""`gilbench report`, `gilbench compare` and `--format` as a user runs them."""

import csv
import io
import json
import os

from conftest import ROOT, run_cli

FIXTURES = os.path.join(ROOT, "tests", "fixtures")


def test_report_writes_one_self_contained_html_file(tmp_path):
    out = tmp_path / "r.html"
    proc = run_cli(
        "report",
        os.path.join(FIXTURES, "run-a.json"),
        os.path.join(FIXTURES, "web.json"),
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert html.count('<svg class="chart"') >= 4
    assert (
        "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    )  # nothing to fetch


def test_report_rejects_a_file_that_is_not_gilbench_results(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    proc = run_cli("report", str(bad), "-o", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "not a gilbench results file" in proc.stderr
    assert not (tmp_path / "r.html").exists()


def test_compare_prints_a_summary_and_exports_markdown():
    a, b = os.path.join(FIXTURES, "run-a.json"), os.path.join(FIXTURES, "run-b.json")
    proc = run_cli("compare", a, b)
    assert proc.returncode == 0, proc.stderr
    assert "run-b.json is" in proc.stdout and "faster on" in proc.stdout
    md = run_cli("compare", a, b, "--format", "md")
    assert md.returncode == 0 and "|---" in md.stdout


def test_run_format_csv_prints_parseable_rows_on_stdout(tmp_path):
    proc = run_cli(
        "run",
        "-w",
        "io.sleep",
        "-s",
        "sequential",
        "-s",
        "threads",
        "--sleep",
        "0.02",
        "--samples",
        "1",
        "--format",
        "csv",
    )
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert {r["strategy"] for r in rows} == {"sequential", "threads"}
    assert float(next(r for r in rows if r["strategy"] == "threads")["speedup"]) > 1.5


def test_report_of_several_interpreters_with_and_without_the_verdict_across_them(tmp_path):
    from test_cross_interpreter import analysed

    new = analysed()
    old = {k: v for k, v in new.items() if k != "cross_interpreter"}  # written before it existed
    paths = []
    for name, doc in (("new", new), ("old", old)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(doc))
    out = tmp_path / "r.html"
    proc = run_cli("report", *map(str, paths), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert 'id="d1-pythons"' in html and 'id="d2-pythons"' in html  # both side by side
    # The verdict across interpreters: the new document's, in the table and above its workload.
    assert html.count("Across interpreters: fastest") == 1
    assert html.count("is the fastest, 1.11") == 1
