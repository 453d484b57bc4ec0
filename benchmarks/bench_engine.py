"""Engine and delay-server figures (issue 2).

Run: .venv/bin/python benchmarks/bench_engine.py

Prints:
- per-strategy dispatch overhead on a no-op task (median wall of a pass / tasks);
- run-to-run spread of cpu.count medians over several independent runs (target CV <= 3%);
- the delay server's wall time for 1,000 concurrent 1-second requests (target <= 1.2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from gilbench.engine.runner import run_trial
from gilbench.engine.session import Plan, Session
from gilbench.services.delay_server import DelayServer, raise_fd_limit
from gilbench.workloads import Call, get_workload

STRATEGIES = ("sequential", "threads", "asyncio", "processes")


def dispatch_overhead(tasks: int = 2000, samples: int = 5) -> dict[str, float]:
    """Strategy -> seconds per no-op task: the median wall of a pass of ``tasks`` / ``tasks``."""
    noop = Call("gilbench.workloads.cpu:count", kwargs={"count": 0}).to_dict()
    out = {}
    for strategy in STRATEGIES:
        spec = {
            "call": noop,
            "strategy": strategy,
            "workers": 2,
            "tasks": tasks,
            "samples": samples,
        }
        result = run_trial(sys.executable, spec, timeout=120)
        out[strategy] = statistics.median(s["wall_s"] for s in result.samples) / tasks
    return out


def median_spread(runs: int, count: int | None) -> tuple[list[float], float]:
    """The sequential cpu.count median (seconds) of ``runs`` independent sessions at one size
    (``count``, else calibrated by the first), and their coefficient of variation."""
    workload = get_workload("cpu.count")
    medians = []
    for _ in range(runs):
        plan = Plan([workload], ["sequential"], params={"count": count} if count else {}, samples=5)
        doc = Session(plan).run()
        medians.append(doc.results[0].wall_s["median"])
        count = count or doc.extra["calibration"]["cpu.count"]  # same size for every run
    return medians, statistics.stdev(medians) / statistics.fmean(medians)


async def _concurrent_requests(url: str, n: int) -> float:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=n)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> int:
            async with session.get(f"{url}/delay/1") as r:
                await r.read()
                return r.status

        t0 = time.perf_counter()
        statuses = await asyncio.gather(*(one() for _ in range(n)))
        elapsed = time.perf_counter() - t0
    assert all(s == 200 for s in statuses), set(statuses)
    return elapsed


def delay_server_load(n: int = 1000) -> float:
    """Seconds for ``n`` concurrent ``/delay/1`` requests to a fresh delay server, best of
    three: the figure is the server's, so the client runs on uvloop when it can."""
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    raise_fd_limit()
    with DelayServer() as server:
        run(_concurrent_requests(server.url, 10))  # warm the server
        return min(run(_concurrent_requests(server.url, n)) for _ in range(3))


def main() -> None:
    """Print the three figures of the module docstring, with the load average before."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="independent runs for the spread figure"
    )
    parser.add_argument("--count", type=int, help="cpu.count size (default: calibrated once)")
    args = parser.parse_args()
    load = __import__("os").getloadavg()[0]
    print(f"load average before: {load:.2f}")
    print("dispatch overhead per no-op task (2 workers):")
    for strategy, seconds in dispatch_overhead().items():
        print(f"  {strategy:<11} {seconds * 1e6:9.1f} µs")
    medians, cv = median_spread(args.runs, args.count)
    print(
        f"cpu.count sequential medians over {args.runs} runs: "
        f"{', '.join(f'{m:.4f}' for m in medians)} s"
    )
    print(f"  run-to-run coefficient of variation: {cv:.2%} (target <= 3%)")
    wall = delay_server_load()
    print(f"delay server, 1,000 concurrent 1 s requests: {wall:.3f} s (target <= 1.2 s)")


if __name__ == "__main__":
    main()
