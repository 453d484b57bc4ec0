"""Cross-check `gilbench web --app`'s RPS against wrk on the same server (issue 15).

Run: .venv/bin/python benchmarks/bench_web_app_wrk.py [--duration 5] [--repeat 3]

For each case, one server (the examples' apps under gunicorn or uvicorn, started by gilbench's
own AppServer with the delay server behind it) is measured in turns by gilbench's load
generator (closed loop) and by wrk (Debian's `wrk` package; installed with apt-get when missing
and this runs as root), same concurrency, same window, interleaved (gilbench, wrk, gilbench,
...). Prints each tool's median RPS and their ratio; the target is agreement within 10%.

wrk: `wrk -t1 -cN -dDs URL` (one thread: the machine has 2 cores and the server needs them);
it is a closed loop too (each connection sends its next request when the last one is answered).
wrk has no warm-up: its figure is every request answered over the whole run, its start
included, when its N new connections queue behind each other. On a saturated server with a
latency of L seconds that start costs about N requests (measured: Flask /io on gthread 1 x 4 at
50 users, 145 requests in 5 s and 334 in 10 s, where 38.5/s x the time is due): so the windows
here are long (default 15 s), and a case at 8 users, where the start costs little, is shown too.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WEBAPPS = os.path.join(os.path.dirname(HERE), "examples", "webapps")

# (label, target, path, server, worker class, workers, threads, users)
CASES = [
    ("Flask /io, gthread 1 x 4", "shop_flask:app", "/io", "gunicorn", "gthread", 1, 4, 8),
    ("Flask /io, gthread 1 x 4", "shop_flask:app", "/io", "gunicorn", "gthread", 1, 4, 50),
    ("Flask /cpu, sync 2 x 1", "shop_flask:app", "/cpu", "gunicorn", "sync", 2, 1, 50),
    ("FastAPI /async-io, uvicorn 2", "shop_fastapi:app", "/async-io", "uvicorn", "uvicorn", 2,
     40, 50),
]  # fmt: skip


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package first when it is missing (root only)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is not installed: apt-get install wrk")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or sys.exit("apt-get installed wrk, but it is not on PATH")


def wrk_rps(wrk: str, url: str, users: int, duration: float) -> tuple[float, int]:
    """wrk's "Requests/sec" and its non-2xx + socket error count for one run."""
    out = subprocess.run(
        [wrk, "-t1", f"-c{users}", f"-d{int(duration)}s", "--timeout", "30s", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*?read (\d+), write (\d+), timeout (\d+)", out)
    n = int(bad.group(1)) if bad else 0
    if errors:
        n += sum(int(g) for g in errors.groups())
    return rps, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per window")
    parser.add_argument("--repeat", type=int, default=2, help="windows per tool and case")
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))
    from gilbench.weblab.appserver import AppServer, ServerConfig
    from gilbench.weblab.lab import services
    from gilbench.weblab.loadgen import LoadSpec

    wrk = ensure_wrk()
    print(f"{'case':32} {'users':>5} {'gilbench RPS':>13} {'wrk RPS':>9} {'ratio':>6}  runs")
    with services() as (slow, gen):
        for label, target, path, server, kind, workers, threads, users in CASES:
            config = ServerConfig(server, kind, workers, threads)
            with AppServer(
                target, config, cwd=WEBAPPS, ready_path=path, env={"GILBENCH_SLOW_URL": slow.url}
            ) as srv:
                url = srv.url + path
                ours, theirs = [], []
                spec = LoadSpec(url=url, concurrency=users, duration_s=args.duration,
                                warmup_s=1.0, ramp_s=0.5, timeout_s=30.0, drain_s=5.0)  # fmt: skip
                subprocess.run([wrk, "-t1", f"-c{users}", "-d2s", url], capture_output=True)
                for _ in range(args.repeat):
                    result = gen.run(spec)
                    ours.append(result.rps)
                    theirs.append(wrk_rps(wrk, url, users, args.duration)[0])
                a, b = statistics.median(ours), statistics.median(theirs)
                runs = " ".join(f"{x:.0f}/{y:.0f}" for x, y in zip(ours, theirs, strict=True))
                print(f"{label:32} {users:>5} {a:>13.1f} {b:>9.1f} {a / b:>6.3f}  {runs}")


if __name__ == "__main__":
    main()
