"""gilbench.documents: one schema per kind, one loader, one SCHEMA; the report imports nothing
that measures or serves; the shared formatter writes every number one way."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from gilbench import documents
from gilbench.documents import SCHEMA, load, schema_for
from gilbench.report import format as fmt
from gilbench.report.compare import compare

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def quick_web_document() -> dict:
    """A document shaped like ``gilbench web --quick``'s, built by the lab's own pure functions."""
    from gilbench.weblab.lab import environment
    from gilbench.weblab.theory import explain, keep_median, lab_warnings, new_row

    variants = ["sync-io", "async-blocking", "async-io", "sync-cpu", "async-cpu", "noop"]
    doc: dict = {
        "schema": SCHEMA,
        "kind": "web",
        "environment": environment(300_000, 0.03),
        "config": {
            "delay_s": 0.5,
            "duration_s": 2.0,
            "threadpool": 40,
            "concurrency": [50],
            "server_workers": [1, 2],
            "variants": variants,
            "open_loop_rate": None,
            "quick": True,
            "repeat": 1,
            "warmup_s": 1.0,
            "timeout_s": 10.0,
        },
        "generator_ceiling_rps": 4000.0,
        "web_results": [],
        "warnings": [],
    }
    for workers in (1, 2):
        for variant in variants:
            row = new_row(variant, 50, workers, 40, "closed", None)
            row.update(
                rps=60.0 * workers,
                requests=120 * workers,
                window_s=2.0,
                server_cpu_s=1.0,
                generator_cpu_s=0.2,
                other_cpu_s=0.0,
                latency_ms={"p50": 501.0, "p95": 505.0, "p99": 509.0, "max": 520.0},
            )
            if variant == "async-cpu" and workers == 2:
                row["error"] = "server did not start: boom"
            keep_median(doc["web_results"], [row])
    for row in doc["web_results"]:
        explain(row, doc, cpu_s=0.03, cores=2)
    doc["warnings"] += lab_warnings(doc, cores=2)
    return json.loads(json.dumps(doc))  # as written to disk


@pytest.mark.parametrize(("name", "kind"), [("run-a", "run"), ("run-b", "run"), ("web", "web")])
def test_recorded_documents_validate_against_their_kind(name: str, kind: str) -> None:
    doc = fixture(name)
    jsonschema.validate(doc, schema_for(kind))
    assert load(FIXTURES / f"{name}.json") == doc


def test_a_quick_web_document_validates() -> None:
    doc = quick_web_document()
    jsonschema.validate(doc, schema_for("web"))
    assert load(doc) is doc
    # The run's schema does not describe it: one schema per kind.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema_for("run"))


def test_a_compare_document_validates() -> None:
    result = json.loads(json.dumps(compare(fixture("run-a"), fixture("run-b"))))
    jsonschema.validate(result, schema_for("compare"))
    assert documents.kind_of(result) == "compare" and result["schema"] == SCHEMA


def test_every_kind_has_a_schema_and_no_other() -> None:
    assert {schema_for(k)["properties"]["schema"]["const"] for k in documents.KINDS} == {SCHEMA}
    assert {schema_for(k)["properties"]["kind"]["const"] for k in ("web", "web-app")} == {
        "web", "web-app"
    }  # fmt: skip
    with pytest.raises(ValueError, match="unknown document kind 'web-lab'"):
        schema_for("web-lab")


RUN_TOP = (
    '"schema": "gilbench/1", "kind": "run", "recommendations": [], '
    '"environment": {"cpu_count": 2, "cpu_affinity": null, "load_avg_1m": null}, '
    '"interpreters": [{"label": "3.11.7", "path": "/p", "version": "3.11.7", '
    '"free_threaded_build": false, "gil_enabled": true}]'
)


def malformed(fault: str) -> str:
    """run-a.json with one fault, as text."""
    doc = fixture("run-a")
    if fault == "results not a list":
        doc["results"] = "zzz"
    elif fault == "row missing a field":
        del doc["results"][1]["status"]
    elif fault == "bad status":
        doc["results"][2]["status"] = "bogus"
    elif fault == "hand-edited row":
        doc["results"][0]["workers"] = None
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"schema": "gilbench/1", "results": "zzz"}', "results: 'zzz' is not of type 'array'"),
        (malformed("results not a list"), "results: 'zzz' is not of type 'array'"),
        (malformed("row missing a field"), "results[1].status: missing (a required field)"),
        (malformed("bad status"), "results[2].status: 'bogus' is not one of ['ok', 'error', "),
        (malformed("hand-edited row"), "results[0].workers: None is not of type 'integer'"),
        ('{"hello": 1}', "schema: missing: not a gilbench results file (schema gilbench/1)"),
        ("[1, 2]", "not a gilbench results file (a JSON array, not an object)"),
        ('{"schema": "pyperf/1.0"}', "schema: 'pyperf/1.0' is not 'gilbench/1': not a gilbench"),
        ('{"schema": "gilbench/2"}', "schema: 'gilbench/2' is not 'gilbench/1': a gilbench format"),
        ('{"schema": "gilbench/1", "kind": "movie"}', "kind: unknown kind 'movie' (known: 'run'"),
        (
            '{"schema": "gilbench/1", "kind": "web", "environment": {"cpu_count": 2, '
            '"load_avg_1m": null}}',
            "web_results: missing (a required field)",
        ),
        ("{" + RUN_TOP + ', "results": {}}', "results: {} is not of type 'array'"),
        ("{" + RUN_TOP + "}", "results: missing (a required field)"),
        ("{not json", "not JSON: Expecting property name enclosed in double quotes"),
        ("", "not JSON: Expecting value"),
        ("\udcff", "not JSON"),  # not UTF-8 at all
    ],
)
def test_the_loader_rejects_a_wrong_file_naming_the_file_and_the_field(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(ValueError) as caught:
        load(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: {message}") and "\n" not in text and len(text) <= 300, text


def test_the_loader_says_a_missing_or_unreadable_file_is_so(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nope\.json: no such file$"):
        load(tmp_path / "nope.json")
    with pytest.raises(ValueError, match=r": cannot read: Is a directory$"):
        load(tmp_path)


def test_a_parsed_document_is_checked_the_same_way_under_its_name() -> None:
    doc = json.loads(malformed("bad status"))
    with pytest.raises(ValueError, match=r"^B: results\[2\]\.status: 'bogus' is not one of"):
        load(doc, "B")
    with pytest.raises(ValueError, match=r"^document: results\[2\]\.status"):
        load(doc)


def test_the_deepest_fault_is_named_the_others_counted_and_huge_values_cut() -> None:
    doc = fixture("run-a")
    doc["results"][3]["wall_s"]["median"] = -1.0
    doc["results"][5]["strategy"] = "x" * 10_000
    doc["environment"] = {"cpu_count": 2, "cpu_affinity": None}  # load_avg_1m missing
    with pytest.raises(ValueError) as caught:
        load(doc, "r.json")
    assert str(caught.value) == (
        "r.json: results[3].wall_s.median: -1.0 is less than the minimum of 0 (and 2 more problems)"
    )
    doc["results"][3]["wall_s"]["median"] = 0.5
    with pytest.raises(ValueError) as caught:
        load(doc, "r.json")
    text = str(caught.value)
    assert text.startswith("r.json: results[5].strategy: 'xxxxxxxxxxxxxxxx")
    assert "x...x" in text and "' is not one of ['sequential', " in text
    assert len(text) < 300 and text.endswith(" (and 1 more problem)")


def test_documents_older_gilbench_versions_wrote_still_load() -> None:
    # 0.1.0 wrote DESIGN.md's contract: no kind, command, created, warnings, scaling or
    # cross_interpreter, and rows without the later per-row fields.
    later = ("samples_s", "note", "efficiency", "checksum", "gil_hold_ms", "run_queue_s")
    later += ("gil_reenabled_by", "leaked_processes")
    doc = fixture("run-a")
    for key in ("kind", "command", "created", "gilbench_version", "warnings", "scaling"):
        doc.pop(key, None)
    doc.pop("cross_interpreter", None)
    doc["results"] = [{k: v for k, v in r.items() if k not in later} for r in doc["results"]]
    assert load(doc) is doc and documents.kind_of(doc) == "run"
    # A web document from before the later row fields.
    web = fixture("web")
    later_web = ("other_cpu_s", "offered_rps", "send_lag_ms_max", "window_s", "attempts")
    later_web += ("rps_runs", "error")
    web["web_results"] = [
        {k: v for k, v in r.items() if k not in later_web} for r in web["web_results"]
    ]
    assert load(web) is web
    # A document in memory, before it is written: tuples are arrays.
    fresh = fixture("run-a")
    row = next(r for r in fresh["results"] if r["speedup_ci95"])
    row["speedup_ci95"] = tuple(row["speedup_ci95"])
    assert load(fresh) is fresh


def test_an_old_web_document_reads_with_the_one_warning_code() -> None:
    doc = fixture("web")
    doc["warnings"].append({"code": "machine-loaded", "message": "load 3 on 2 cores"})
    loaded = load(doc)
    assert [w["code"] for w in loaded["warnings"]][-1] == "loaded-machine"
    assert doc["warnings"][-1]["code"] == "machine-loaded"  # the caller's dict is left alone


def test_the_lab_warns_about_a_loaded_machine_with_the_runs_code() -> None:
    from gilbench.weblab.theory import lab_warnings

    doc = quick_web_document()
    doc["environment"]["load_avg_1m"] = 3.0
    codes = [w["code"] for w in lab_warnings(doc, cores=2)]
    assert "loaded-machine" in codes and "machine-loaded" not in codes


def test_one_schema_constant() -> None:
    from gilbench.engine import results
    from gilbench.report import compare as compare_module
    from gilbench.weblab import lab

    assert results.SCHEMA is compare_module.SCHEMA is lab.SCHEMA is documents.SCHEMA
    src = Path(documents.__file__).parent
    copies = [
        p for p in src.rglob("*.py") if p.name != "documents.py" and '"gilbench/1"' in p.read_text()
    ]
    assert copies == []


def test_the_report_imports_nothing_that_measures_or_serves() -> None:
    code = (
        "import sys, gilbench.report.html, gilbench.report.export, gilbench.report.terminal, "
        "gilbench.report.compare, gilbench.report.web; print('\\n'.join(sys.modules))"
    )
    modules = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    forbidden = (
        "fastapi",
        "uvicorn",
        "starlette",
        "aiohttp",
        "gilbench.weblab.server",
        "gilbench.weblab.app",
        "gilbench.weblab.lab",
        "gilbench.engine.session",
        "gilbench.engine.runner",
        "gilbench.services",
    )
    assert [m for m in modules.split() if m.startswith(forbidden)] == []


# -- the one formatter ----------------------------------------------------------------------------


def test_numbers_are_written_one_way() -> None:
    assert fmt.fmt_seconds(0.7) == "0.700 s" and fmt.fmt_seconds(0.0021) == "2.1 ms"
    assert fmt.fmt_seconds(None) == fmt.fmt_factor(None) == fmt.fmt_pct(float("nan")) == fmt.MISSING
    assert fmt.fmt_factor(1.934) == "1.93x" and fmt.fmt_ci([0.91, 0.99]) == "0.91–0.99x"
    assert (
        fmt.fmt_pct(0.48) == "48%" and fmt.fmt_ms(1011.0) == "1,011" and fmt.fmt_ms(4.46) == "4.5"
    )
    bands = [fmt.speedup_band(x) for x in (1.5, 1.2, 1.0, 0.89, None)]
    assert bands == ["much-faster", "faster", "same", "slower", ""]


def test_classification_labels_come_from_the_analysis() -> None:
    from gilbench.analysis.recommend import TASK_TYPES

    assert fmt.classification_label("io") == TASK_TYPES["io"] == "I/O-bound"
    assert fmt.classification_help("cpu-python").startswith("CPU-bound (Python code): ")


def test_every_output_writes_the_same_cells() -> None:
    """Markdown, the terminal and the HTML report show the same text for a row."""
    import io

    from rich.console import Console

    from gilbench.report.export import export
    from gilbench.report.html import render_html
    from gilbench.report.terminal import results_table

    doc = fixture("run-a")
    row = next(r for r in doc["results"] if r["status"] == "ok" and r["strategy"] == "processes")
    cells = [
        fmt.plain(c.cell(row))
        for c in fmt.RESULT_COLUMNS
        if c.title in ("Wall median", "Speedup [95% CI]")
    ]
    console = Console(file=io.StringIO(), width=400)
    console.print(results_table(doc))
    shown = console.file.getvalue()
    markdown = export(doc, "md")
    html = render_html([doc])
    for cell in cells:
        assert cell in shown and cell in markdown
    assert fmt.fmt_factor(row["speedup"]) in html
    csv_header = export(doc, "csv").splitlines()[0].split(",")
    assert csv_header == [name for name, _ in fmt.csv_fields(fmt.RESULT_COLUMNS)]
