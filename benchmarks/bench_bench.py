"""`gilbench bench MODULE:FUNC` with defaults (issue 5).

Run: .venv/bin/python benchmarks/bench_bench.py [--examples] [--repeat 5]

For each function: the command's wall time (target <= 30 s), its verdict and the numbers behind
it. The functions are the examples in examples/ (hashing with sha256, a pure-Python word count,
an HTTP call to gilbench's local delay server, ...) plus two here: a 50 ms time.sleep and a
~10 µs function. Expected verdicts on a 2-core machine: sha256 -> threads, pure Python ->
processes, sleep / HTTP -> threads or asyncio, 10 µs -> sequential.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(os.path.dirname(HERE), "examples")


def nap(seconds: float = 0.05) -> float:
    """A benched function: ``time.sleep(seconds)``, returns ``seconds``."""
    time.sleep(seconds)
    return seconds


def ten_microseconds() -> int:
    """A benched function of about 10 µs: ``sum(range(1000))``."""
    return sum(range(1000))


def cases(api_url: str) -> list[tuple[str, str, list[str], str]]:
    """(label, directory, arguments after 'bench', expected strategies)."""
    return [
        (
            "sha256 of a 16 MiB file",
            EXAMPLES,
            ["hashing:sha256_file", "--setup", "hashing:sample_file"],
            "threads",
        ),
        (
            "pure-Python word count",
            EXAMPLES,
            ["wordcount:top_words", "--setup", "wordcount:sample_text"],
            "processes",
        ),
        ("time.sleep(0.05)", HERE, ["bench_bench:nap"], "threads/asyncio"),
        (
            "HTTP GET, 0.2 s API",
            EXAMPLES,
            ["api:fetch", "--kwargs", json.dumps({"url": f"{api_url}/delay/0.2"})],
            "threads/asyncio",
        ),
        ("~10 µs function", HERE, ["bench_bench:ten_microseconds"], "sequential"),
    ]


def examples(api_url: str) -> list[tuple[str, str, list[str], str]]:
    """The other examples/ functions, as :func:`cases` rows with no expected verdict."""
    return [
        (
            "examples: orders (json + Python)",
            EXAMPLES,
            ["orders:total_by_customer", "--setup", "orders:sample_feed"],
            "",
        ),
        (
            "examples: thumbnails (Pillow)",
            EXAMPLES,
            ["thumbnails:thumbnail", "--setup", "thumbnails:sample_image"],
            "",
        ),
        (
            "examples: compress (zlib)",
            EXAMPLES,
            ["thumbnails:compress", "--setup", "thumbnails:sample_image"],
            "",
        ),
        (
            "examples: report (SQLite)",
            EXAMPLES,
            ["report:revenue_by_region", "--setup", "report:sample_database"],
            "",
        ),
        (
            "examples: api async (aiohttp)",
            EXAMPLES,
            ["api:fetch_async", "--kwargs", json.dumps({"url": f"{api_url}/delay/0.2"})],
            "",
        ),
        (
            "examples: tiny (format a line)",
            EXAMPLES,
            ["tiny:format_line", "--args", '["GET", "/api/items", 200, 0.0123]'],
            "",
        ),
    ]


def verdict_of(rec: dict) -> str:
    """A recommendation as the stability table says it: 'processes x2', or 'inconclusive'
    (with the best guess in brackets) when it is not decided."""
    said = f"{rec.get('strategy')} x{rec.get('workers')}"
    return said if rec.get("decided", True) else f"inconclusive ({said})"


def run_gilbench(
    args: list[str], cwd: str | None = None, json_path: str | None = None
) -> tuple[float, subprocess.CompletedProcess, dict]:
    """Run ``gilbench ARGS --json FILE`` from this checkout in ``cwd`` (None: a temporary
    directory); returns its wall time in seconds, the finished process and the results JSON
    (kept at ``json_path`` when given)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = json_path or os.path.join(tmp, "out.json")
        env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(HERE), "src"))
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "gilbench", *args, "--json", out],
            cwd=cwd or tmp,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        with open(out) as f:
            return wall, proc, json.load(f)


def run_one(label: str, cwd: str, args: list[str], expected: str) -> tuple[float, str]:
    """Run ``gilbench bench`` on one case in ``cwd`` and print its verdict and numbers; returns
    the command's wall time in seconds and :func:`verdict_of` its recommendation."""
    wall, proc, doc = run_gilbench(["bench", *args], cwd)
    rec = doc["recommendations"][0] if doc["recommendations"] else {}
    seq = next(r for r in doc["results"] if r["strategy"] == "sequential")
    verdict = verdict_of(rec)
    ok = (
        ""
        if not expected
        else (
            "  [as expected]"
            if rec.get("strategy") in expected.split("/")
            else f"  [EXPECTED {expected}]"
        )
    )
    print(
        f"{label}: {wall:.1f} s (exit {proc.returncode}), {seq['tasks']} tasks, "
        f"load {doc['environment']['load_avg_1m']:.2f}"
        f" -> {verdict} {rec.get('speedup', 0):.2f}x, {rec.get('classification')}{ok}"
    )
    if not seq.get("wall_s"):  # the function failed: say why, go on with the next case
        print(f"    sequential {seq['status']}: {seq.get('error') or seq.get('reason')}")
        return wall, f"failed ({seq['status']})"
    contention = (
        "-"
        if seq["gil_contention"] is None
        else f"{seq['gil_contention']:.3f} (hold {seq['gil_hold_ms']:.1f} ms)"
    )
    print(
        f"    sequential: {seq['wall_s']['median'] * 1000:.0f} ms per pass, "
        f"CPU util {seq['cpu_util']:.2f}, GIL contention {contention}"
    )
    print(f"    why: {rec.get('why')}")
    for w in doc["warnings"]:
        print(f"    warning: {w['message']}")
    return wall, verdict


def main() -> None:
    """Start a delay server, bench every case (``--examples``: every example too), print the
    slowest wall time against the 30 s target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--examples", action="store_true", help="also bench every example in examples/"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="bench every case N times and print a stability table (issue 13: the same "
        "verdict every time, or inconclusive)",
    )
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))
    from gilbench.services.delay_server import DelayServer

    print(
        f"load average before: {os.getloadavg()[0]:.2f} "
        f"on {len(os.sched_getaffinity(0))} usable cores"
    )
    table: dict[str, list[tuple[float, str]]] = {}
    with DelayServer() as server:
        every = cases(server.url) + (examples(server.url) if args.examples else [])
        for _ in range(args.repeat):
            for case in every:
                table.setdefault(case[0], []).append(run_one(*case))
    walls = [wall for runs in table.values() for wall, _ in runs]
    print(
        f"slowest: {max(walls):.1f} s (target <= 30 s); "
        f"load average after: {os.getloadavg()[0]:.2f}"
    )
    if args.repeat > 1:
        print("\n| function | verdicts over runs | stable | slowest run |\n|---|---|---|---|")
        for label, runs in table.items():
            verdicts = [v for _, v in runs]
            decided = {v for v in verdicts if not v.startswith("inconclusive")}
            counts = ", ".join(
                f"{v} {verdicts.count(v)}/{len(runs)}" for v in dict.fromkeys(verdicts)
            )
            stable = "yes" if len(decided) <= 1 else "NO"
            print(f"| {label} | {counts} | {stable} | {max(w for w, _ in runs):.1f} s |")


if __name__ == "__main__":
    main()
