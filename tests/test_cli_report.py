"""`gilbench report`, `gilbench compare` and `--format` as a user runs them."""

import csv
import io
import json
import os

import pytest

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


def malformed(fault: str) -> str:
    """A results file with one fault, as text."""
    with open(os.path.join(FIXTURES, "run-a.json")) as f:
        doc = json.load(f)
    if fault == "not JSON":
        return json.dumps(doc)[:-20]
    if fault == "results not a list":
        return json.dumps({"schema": "gilbench/1", "results": "zzz"})  # the file
    if fault == "row missing a field":
        del doc["results"][1]["wall_s"]
    elif fault == "bad status":
        doc["results"][2]["status"] = "bogus"
    return json.dumps(doc)


FAULTS = {
    "not JSON": "not JSON: ",
    "results not a list": "results: 'zzz' is not of type 'array'",
    "row missing a field": "results[1].wall_s: missing (a required field)",
    "bad status": "results[2].status: 'bogus' is not one of ",
}


@pytest.mark.parametrize("command", ["report", "compare", "compare --format csv"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_malformed_document_is_bad_input_named_in_one_line(tmp_path, command, fault):
    bad = tmp_path / "results.json"
    bad.write_text(malformed(fault))
    good = os.path.join(FIXTURES, "run-b.json")
    out = tmp_path / "r.html"
    argv = {
        "report": ["report", good, "results.json", "-o", str(out)],
        "compare": ["compare", good, "results.json"],
        "compare --format csv": ["compare", "results.json", good, "--format", "csv"],
    }[command]
    proc = run_cli(*argv, cwd=str(tmp_path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"gilbench: error: results.json: {FAULTS[fault]}"), proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == "" and not out.exists()


def test_a_missing_file_is_bad_input(tmp_path):
    proc = run_cli("compare", "nope.json", os.path.join(FIXTURES, "run-b.json"), cwd=str(tmp_path))
    assert (proc.returncode, proc.stderr) == (2, "gilbench: error: nope.json: no such file\n")


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
