"""The full default `gilbench run`: its wall time and its verdicts (issue 13).

Run: .venv/bin/python benchmarks/bench_default_run.py [--baseline OLD.json] [--json OUT.json]

Runs `gilbench run` with no options (every workload, the default strategies, the services it
starts), then prints the command's wall time against the target (at most half of the 11.5
minutes the run took before sampling until decided: 345 s), the number of samples each row
took, and each workload's verdict (decided or inconclusive). With --baseline (a results JSON of
an earlier run) it also says, per workload, whether the verdict is the same. Nothing else should
run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os

from bench_bench import run_gilbench, verdict_of

TARGET_S = 11.5 * 60 / 2


def verdicts(doc: dict) -> dict[str, str]:
    """workload -> :func:`bench_bench.verdict_of` its recommendation."""
    return {rec["workload"]: verdict_of(rec) for rec in doc["recommendations"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a results JSON of an earlier run to compare with")
    parser.add_argument("--json", help="keep this run's results JSON here")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {len(os.sched_getaffinity(0))} cores")
    wall, proc, doc = run_gilbench(["run"], json_path=args.json)
    print(
        f"gilbench run: {wall:.0f} s ({wall / 60:.1f} min; target <= {TARGET_S:.0f} s), "
        f"exit {proc.returncode}, load average after {os.getloadavg()[0]:.2f}"
    )
    samples = [r["wall_s"]["n"] for r in doc["results"] if r.get("wall_s")]
    print(
        f"rows measured: {len(samples)}, samples per row: min {min(samples)}, "
        f"max {max(samples)}, total {sum(samples)}"
    )
    old = {}
    if args.baseline:
        with open(args.baseline) as f:
            old = verdicts(json.load(f))
    for workload, said in verdicts(doc).items():
        same = ""
        if workload in old:
            base = old[workload]
            same = "  [same]" if base == said else f"  [baseline: {base}]"
        print(f"  {workload:20} {said}{same}")


if __name__ == "__main__":
    main()
