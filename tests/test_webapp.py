"""`gilbench web --app`: the user's own app under real uvicorn and gunicorn, end to end.

Short windows on small apps (tests/sweepapps/), so the checks are about behaviour and relations
that hold on any machine: the diagnosis each endpoint gets, one clear line and the contract's
exit code for a broken app, a valid document, and no process left behind.
"""

from __future__ import annotations

import json
import os
import socket
import time

import pytest

from conftest import run_cli
from gilbench.documents import load
from gilbench.report.export import export
from gilbench.report.html import render_html
from gilbench.weblab import diagnose
from gilbench.weblab.appsweep import rejected

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sweepapps")
FAST = ["--duration", "1", "--server-workers", "1"]


def web_app(*args: str, tmp_path, timeout: float = 240):
    out = tmp_path / "app.json"
    proc = run_cli("web", *args, "--json", str(out), cwd=APPS, timeout=timeout)
    doc = json.loads(out.read_text()) if out.exists() else None
    return proc, doc


def diagnosis(doc: dict, path: str) -> dict:
    return next(d for d in doc["diagnoses"] if d["path"] == path)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_fastapi_endpoints_get_their_diagnoses(tmp_path, no_leftovers):
    proc, doc = web_app(
        "--app", "sweep_fastapi:app", "--path", "/def-sleep", "--path", "/async-sleep",
        "--path", "/async-blocking", "--threads", "1,8", "--concurrency", "1,8", *FAST,
        tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    load(doc)  # valid against schemas/web-app.json
    assert doc["kind"] == "web-app" and doc["app"]["interface"] == "asgi"
    assert diagnosis(doc, "/def-sleep")["kind"] == "pool-capped"
    assert diagnosis(doc, "/async-sleep")["kind"] == "async-ok"
    blocked = diagnosis(doc, "/async-blocking")
    assert blocked["kind"] == "async-blocking", blocked
    assert "make it def or use an async client" in " ".join(proc.stdout.split())
    # Threads serve a def handler: 8 threads beat 1 at 8 users; an async one is measured on one
    # thread count only (the most), since threads do not run it.
    rows = [r for r in doc["app_results"] if r["mode"] == "closed" and r["concurrency"] == 8]
    by = {(r["path"], r["threads"]): r["rps"] for r in rows}
    assert by[("/def-sleep", 8)] > 2 * by[("/def-sleep", 1)]
    assert ("/async-sleep", 1) not in by and ("/async-sleep", 8) in by
    # Each endpoint's recommended configuration was run again in an open loop.
    assert {r["path"] for r in doc["app_results"] if r["mode"] == "open"} == {
        "/def-sleep", "/async-sleep", "/async-blocking"
    }  # fmt: skip
    assert doc["recommendation"]["sentence"].startswith("one configuration for every endpoint")
    html = render_html([doc])
    assert "Your app #1" in html and "async-blocking" in html
    csv_lines = export(doc, "csv").splitlines()
    assert csv_lines[0].startswith("path,method,config") and len(csv_lines) == 1 + len(
        doc["app_results"]
    )
    assert "- /async-blocking (async def): a blocking call inside async def" in export(doc, "md")


def test_flask_under_gunicorn_gains_from_gthread_threads(tmp_path, no_leftovers):
    proc, doc = web_app(
        "--app", "sweep_flask:app", "--path", "/sleep", "--threads", "1,4",
        "--concurrency", "1,8", *FAST, tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert doc["app"]["interface"] == "wsgi"
    rows = {r["worker_class"]: r for r in doc["app_results"] if r["concurrency"] == 8
            and r["mode"] == "closed"}  # fmt: skip
    assert set(rows) == {"sync", "gthread"}
    assert rows["gthread"]["rps"] > 2 * rows["sync"]["rps"]
    assert rows["gthread"]["expected_rps"] == pytest.approx(4 / 0.05, rel=0.5)
    assert diagnosis(doc, "/sleep")["kind"] == "pool-capped"


def test_an_import_error_is_one_line_and_exit_2(tmp_path, no_leftovers):
    proc, doc = web_app("--app", "import_error:app", "--path", "/", tmp_path=tmp_path)
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert "no_such_module_for_gilbench" in line and doc is None


def test_an_unknown_path_is_bad_input(tmp_path, no_leftovers):
    proc, _ = web_app("--app", "sweep_flask:app", "--path", "/nope", tmp_path=tmp_path)
    assert proc.returncode == 2
    assert "/nope" in one_line(proc.stderr)


def test_an_endpoint_answering_500_is_said_and_the_others_are_measured(tmp_path, no_leftovers):
    proc, doc = web_app(
        "--app", "sweep_flask:app", "--path", "/boom", "--path", "/sleep", "--threads", "4",
        "--concurrency", "1,4", *FAST, tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "HTTP 500" in one_line(proc.stderr)
    assert diagnosis(doc, "/boom")["kind"] == "failing"
    assert diagnosis(doc, "/sleep")["recommended"] is not None  # kept, measured
    load(doc)


def test_a_server_that_never_becomes_ready(tmp_path, no_leftovers):
    proc, doc = web_app(
        "--app", "never_ready:app", "--path", "/", "--startup-timeout", "3", *FAST,
        tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert "did not serve never_ready:app" in line and "not ready" in line
    assert doc["failure"] and not doc["app_results"]


def test_a_taken_port_is_bad_input(tmp_path, no_leftovers):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        proc, _ = web_app(
            "--app", "sweep_flask:app", "--path", "/sleep", "--port", str(port),
            tmp_path=tmp_path,
        )  # fmt: skip
    assert proc.returncode == 2
    assert f"port {port} is in use" in one_line(proc.stderr)


def test_app_options_need_app_and_lab_options_are_refused_with_it(tmp_path):
    proc = run_cli("web", "--path", "/x", cwd=APPS)
    assert proc.returncode == 2 and "--path needs --app" in one_line(proc.stderr)
    proc = run_cli("web", "--app", "sweep_flask:app", "--path", "/sleep", "--delay", "1", cwd=APPS)
    assert proc.returncode == 2 and "--delay is for the web lab" in one_line(proc.stderr)


def test_an_endpoint_that_never_answers_is_named(tmp_path, no_leftovers):
    proc, doc = web_app(
        "--app", "sweep_flask:app", "--path", "/forever", "--startup-timeout", "3", *FAST,
        tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert "every worker booted, but GET /forever did not answer within 3 s" in line
    assert doc["failure"]


def test_an_endpoint_failing_one_request_in_ten_is_failing_and_exit_1(tmp_path, no_leftovers):
    proc, doc = web_app(
        "--app", "sweep_fastapi:app", "--path", "/flaky", "--threads", "40",
        "--concurrency", "1,4", *FAST, tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    d = diagnosis(doc, "/flaky")
    assert d["kind"] == "failing" and "of the requests failed (HTTP 500" in d["sentence"]
    assert "fix the endpoint" in one_line(proc.stderr)


def test_a_raw_asgi_app_is_judged_by_its_measurements_not_as_a_def_handler(tmp_path, no_leftovers):
    proc, doc = web_app(
        "--app", "sweep_fastapi:raw_asgi", "--path", "/x", "--threads", "1,8",
        "--concurrency", "1,8", *FAST, tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert doc["app"]["paths"][0]["handler_kind"] is None
    assert diagnosis(doc, "/x")["kind"] == "async-ok"


def test_a_hanging_endpoint_does_not_take_the_others_down_with_it(tmp_path, no_leftovers):
    # One sync worker: the request left hanging on /forever would hold it for an hour.
    proc, doc = web_app(
        "--app", "sweep_flask:app", "--path", "/sleep", "--path", "/forever",
        "--startup-timeout", "3", "--threads", "1", "--concurrency", "1,2", *FAST,
        tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "GET /forever got no answer" in one_line(proc.stderr)
    assert diagnosis(doc, "/forever")["kind"] == "failing"
    sleep = [r for r in doc["app_results"] if r["path"] == "/sleep"]
    assert sleep and all(r["rps"] and not r["error"] for r in sleep)
    assert diagnosis(doc, "/sleep")["kind"] == "pool-capped"


def test_an_import_slower_than_the_startup_timeout_is_one_line_and_exit_2(tmp_path, no_leftovers):
    # slow_import sleeps 30 s at import: --startup-timeout bounds the first import too.
    started = time.monotonic()
    proc, doc = web_app(
        "--app", "slow_import:app", "--path", "/", "--startup-timeout", "2", tmp_path=tmp_path,
        timeout=60,
    )  # fmt: skip
    assert time.monotonic() - started < 15
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert "importing 'slow_import' did not finish in 2 s, the limit --startup-timeout" in line
    assert line.endswith("if the import is only slow, raise --startup-timeout")
    assert doc is None


def test_a_flask_apps_wsgi_app_method_is_refused_naming_the_app(tmp_path, no_leftovers):
    # Gunicorn cannot import "app.wsgi_app" (one name only): say what to give, before serving.
    proc, doc = web_app(
        "--app", "sweep_flask:app.wsgi_app", "--path", "/sleep", *FAST, tmp_path=tmp_path
    )
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc.stderr)
    assert line.endswith("give --app sweep_flask:app (the app calls its wsgi_app)")
    assert doc is None


def test_a_request_the_app_rejects_is_bad_input_naming_body_and_header(tmp_path, no_leftovers):
    proc, doc = web_app(
        "--app", "sweep_items:app", "--path", "/items", "--method", "POST", *FAST,
        tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc.stderr)
    assert "--path /items: POST /items answered HTTP 422" in line
    assert "(the request, not the server: give the body with --body or headers with --header)" in (
        line
    )
    assert "fix the endpoint" not in line and doc is None
    # With its body (and the body's type, which FastAPI needs to read it) it is measured.
    proc, doc = web_app(
        "--app", "sweep_items:app", "--path", "/items", "--method", "POST",
        "--body", '{"name": "x"}', "--header", "Content-Type: application/json",
        "--threads", "1", "--concurrency", "1,2", *FAST, tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert diagnosis(doc, "/items")["recommended"] is not None


def test_requests_rejected_under_load_blame_the_load_not_the_endpoint(tmp_path, no_leftovers):
    # /limited answers its first two requests, then 429 (a rate limit).
    proc, doc = web_app(
        "--app", "sweep_items:app", "--path", "/limited", "--threads", "1",
        "--concurrency", "1,2", *FAST, tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    line = one_line(proc.stderr)
    assert "the server rejected the requests (HTTP 429 x" in line
    assert "the load, not the code, is the likely cause" in line
    assert "fix the endpoint" not in line
    assert diagnosis(doc, "/limited")["kind"] == "failing"


def test_the_line_for_a_rejected_first_request_points_at_what_the_request_lacks():
    assert rejected("GET", "/nope", 404) == "--path /nope: the app answered GET /nope with HTTP 404"
    assert rejected("PUT", "/x", 405) == "--path /x: the app answered PUT /x with HTTP 405"
    auth = rejected("GET", "/me", 401, '{"detail":"Not authenticated"}')
    assert auth == (
        '--path /me: GET /me answered HTTP 401, saying {"detail":"Not authenticated"} (the '
        "request, not the server: give its credentials with --header, e.g. --header "
        "'Authorization: Bearer ...')"
    )
    assert "--header 'Content-Type: application/json'" in rejected("POST", "/x", 415)
    # A body sent without its type: FastAPI does not read it as JSON (422).
    untyped = rejected("POST", "/x", 422, "", '{"name": "x"}')
    assert untyped.endswith("give the body's type with --header, e.g. --header "
                            "'Content-Type: application/json')")  # fmt: skip
    typed = rejected("POST", "/x", 422, "", "{}", [("content-type", "application/json")])
    assert typed.endswith("give the body with --body or headers with --header)")
    assert "limits its rate" in rejected("GET", "/x", 429)
    assert ", saying" not in rejected("POST", "/x", 400, "<!doctype html>")
    assert len(rejected("POST", "/x", 422, "x" * 500)) < 300


def test_failures_that_are_mostly_4xx_are_said_to_be_rejections_not_broken_code():
    def row(kinds: dict) -> dict:
        errors = sum(kinds.values())
        return {"mode": "closed", "concurrency": 8, "workers": 1, "threads": 1, "rps": 1.0,
                "requests": 10, "errors": errors, "timeouts": 0, "error_kinds": kinds}  # fmt: skip

    limited = diagnose.classify([row({"HTTP 429": 90})], "def", "wsgi")
    assert limited["kind"] == "failing"
    assert "the server rejected the requests (HTTP 429 x90)" in limited["sentence"]
    assert "fix the endpoint" not in limited["sentence"]
    broken = diagnose.classify([row({"HTTP 500": 60, "HTTP 429": 30})], "def", "wsgi")
    assert broken["sentence"].endswith("fix the endpoint before tuning the server")
