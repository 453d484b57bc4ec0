"""The HTML report in a real headless Chromium: it renders, logs nothing, runs no script.

Chromium is required: without it this test FAILS and says how to install it
(``scripts/install-chromium.sh``), unless GILBENCH_SKIP_BROWSER=1. Every Chromium started here
runs in its own process group, under a timeout, and the whole group is killed afterwards.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from gilbench.report.html import render_html

CHROMIUM = Path("/usr/bin/chromium")
FIXTURES = Path(__file__).parent / "fixtures"
TIMEOUT_S = 90
EVIL_NAME = "<script>alert(1)</script>"
WIDTH, HEIGHT = 1280, 2000
# Solid fills the charts at the top of the page must show (processes and threads bars).
PROCESSES_BLUE, THREADS_ORANGE = bytes.fromhex("0072B2"), bytes.fromhex("D55E00")


def require_chromium() -> Path:
    """Chromium's path; a missing browser fails the test (skipping would hide a broken report)."""
    if os.environ.get("GILBENCH_SKIP_BROWSER") == "1":
        pytest.skip("GILBENCH_SKIP_BROWSER=1")
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/install-chromium.sh (as root), "
            "or set GILBENCH_SKIP_BROWSER=1 to skip the browser checks",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The report of a real (small) run, a workload renamed like a script tag, and the web lab."""
    from conftest import run_cli

    tmp = tmp_path_factory.mktemp("report")
    results = tmp / "run.json"
    proc = run_cli(
        "run",
        "-w",
        "cpu.count",
        "-w",
        "io.sleep",
        "-s",
        "sequential",
        "-s",
        "threads",
        "-s",
        "processes",
        "-s",
        "asyncio",
        "--workers",
        "1,2",
        "--count",
        "300000",
        "--sleep",
        "0.05",
        "--samples",
        "2",
        "--json",
        str(results),
    )
    assert proc.returncode == 0, proc.stderr
    run = json.loads(results.read_text())
    evil = copy.deepcopy(run)
    for row in evil["results"] + evil["recommendations"]:
        if row["workload"] == "cpu.count":
            row["workload"] = EVIL_NAME
    evil["command"] = """gilbench bench 'x:f' --args '"><img src=x onerror=alert(2)>'"""
    html = render_html([evil, json.loads((FIXTURES / "web.json").read_text())])
    path = tmp / "report.html"
    path.write_text(html, encoding="utf-8")
    return path, html


# Runs Chromium as its child and, as a child subreaper (Linux prctl), adopts every process
# Chromium leaves behind -- including the crashpad handlers that start their own sessions, out
# of reach of a process-group kill -- then kills and reaps them all before exiting itself.
REAPER = r"""
import ctypes, os, signal, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
browser = subprocess.Popen(sys.argv[1:])
signal.signal(signal.SIGTERM, lambda *_: browser.kill())
code = browser.wait()

def children():
    me = str(os.getpid())
    for stat in os.listdir("/proc"):
        try:
            with open(f"/proc/{stat}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[1] == me:
                    yield int(stat)
        except (OSError, IndexError, ValueError):
            pass

deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    for pid in children():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        if os.waitpid(-1, os.WNOHANG) == (0, 0):
            time.sleep(0.02)
    except ChildProcessError:
        break  # nothing left to reap
sys.exit(code)
"""


def _processes_using(profile: Path) -> list[str]:
    """Command lines of running processes that mention ``profile`` (our Chromium's profile dir)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(profile) in text:
            found.append(text[:200])
    return found


def run_chromium(binary: Path, tmp: Path, *args: str) -> tuple[int, str, str]:
    """Run headless Chromium with ``args``: (exit code, stdout, stderr); leaves nothing behind."""
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [
        str(binary),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", REAPER, *cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.terminate()  # the reaper kills Chromium and everything it started
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        pytest.fail(f"chromium did not finish in {TIMEOUT_S} s: {' '.join(cmd)}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # belt and braces: the reaper's own group
        except ProcessLookupError:
            pass
        proc.wait()
        assert _processes_using(profile) == [], "chromium processes outlived the test"
    return proc.returncode, out, err


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, channels, rows) of an 8-bit, non-interlaced RGB/RGBA/grey PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
    assert header is not None, "PNG without IHDR"
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0, f"unsupported PNG: depth {depth}, interlace {interlace}"
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = zlib.decompress(b"".join(idat))
    stride, bpp = width * channels, channels
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev, strict=False))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def console_messages(stderr: str) -> list[str]:
    """Page console output (JS errors, CSP violations) that Chromium logs with --enable-logging."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def test_screenshot_renders_the_charts(page: tuple[Path, str], tmp_path: Path) -> None:
    chromium = require_chromium()
    path, _ = page
    png = tmp_path / "report.png"
    code, _, err = run_chromium(
        chromium, tmp_path, f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}", path.as_uri()
    )
    assert code == 0, err[-2000:]
    assert png.exists() and png.stat().st_size > 10_000
    assert console_messages(err) == []

    width, height, channels, rows = decode_png(png.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    pixels: dict[bytes, int] = {}
    for row in rows:
        for i in range(0, len(row), channels):
            px = row[i : i + 3]
            pixels[px] = pixels.get(px, 0) + 1
    assert len(pixels) > 200, f"only {len(pixels)} colours: the page looks blank"
    white = pixels.get(b"\xff\xff\xff", 0)
    assert white < 0.95 * width * height
    assert pixels.get(PROCESSES_BLUE, 0) > 500 and pixels.get(THREADS_ORANGE, 0) > 500, (
        "the SVG bar charts did not render"
    )


def test_dom_after_load_has_every_chart_and_no_script(
    page: tuple[Path, str], tmp_path: Path
) -> None:
    chromium = require_chromium()
    path, html = page
    code, dom, err = run_chromium(chromium, tmp_path, "--dump-dom", path.as_uri())
    assert code == 0, err[-2000:]
    assert console_messages(err) == []
    expected = re.findall(r'<svg class="chart" data-chart="([^"]*)"', html)
    assert len(expected) == 3 * 2 + 4
    found = re.findall(r'<svg class="chart" data-chart="([^"]*)"', dom)
    assert found == expected
    # The malicious workload name is text in the live DOM, in tables and inside SVG text alike.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;: speedup vs workers</title>" in dom
    assert not re.search(r"<script\b", dom, flags=re.I), "a <script> element exists in the page"
    assert not re.search(r"<img\b", dom, flags=re.I)
