"""Is this machine fit to measure on? Each check is a value with a status and a reason."""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass

from gilbench.engine import environment
from gilbench.services import _process


@dataclass
class Check:
    """One line of ``gilbench doctor``: what was checked, ok | warn | fail, and why."""

    name: str
    status: str  # ok | warn | fail
    detail: str


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


# The seed's counting loop, best of 5 (~20 ms each), in a fresh interpreter; prints seconds.
SPEED_PROBE = """
import time
from gilbench.workloads.cpu import count
best = float("inf")
for _ in range(5):
    t = time.perf_counter()
    count(700_000)
    best = min(best, time.perf_counter() - t)
print(best)
"""
SPEED_PROBES = 8
SPEED_SPREAD_WARN = 0.10
"""Fresh processes whose best times differ by more than this (of the median) get a warning."""


def process_speeds(runs: int = SPEED_PROBES, python: str = sys.executable) -> list[float]:
    """Best time, in seconds, of the same loop in ``runs`` fresh ``python`` processes, one after
    another. Raises OSError, subprocess.TimeoutExpired (60 s each) or ValueError (no number)."""
    times = []
    for _ in range(runs):
        proc = subprocess.run(
            [python, "-c", SPEED_PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            env=_process.child_env(),
        )
        times.append(float(proc.stdout.strip()))
    return times


def speed_check(times: list[float]) -> Check:
    """How much one fresh process's speed differs from the next's (pyperf's reason for running
    many processes): warn when (max - min) / median of ``times`` (seconds) exceeds 10%."""
    median = statistics.median(times)
    spread = (max(times) - min(times)) / median
    detail = (
        f"the same loop in {len(times)} fresh interpreters: "
        f"{min(times) * 1000:.1f}-{max(times) * 1000:.1f} ms "
        f"(spread {spread:.0%} of the median)"
    )
    if spread <= SPEED_SPREAD_WARN:
        return Check("process-to-process speed", "ok", detail)
    return Check(
        "process-to-process speed",
        "warn",
        detail + ": a figure from one process can be off by that much; gilbench takes medians "
        "over fresh processes (more --samples narrow them) and the web lab repeats CPU cells "
        "(--repeat)",
    )


def run_checks() -> list[Check]:
    """Every ``gilbench doctor`` check, in order: cores, load, governor, process-to-process
    speed (~8 interpreter starts), open files limit, delay server, PostgreSQL, interpreters."""
    checks: list[Check] = []
    cores = environment.usable_cores()
    checks.append(
        Check(
            "usable cores",
            "ok" if cores >= 2 else "warn",
            f"{cores} (parallel speedups are capped at {cores}x)"
            + ("" if cores >= 2 else ": no parallel speedup can show on one core"),
        )
    )
    load = environment.load_avg_1m()
    if load is not None:
        busy = load > 0.5 * cores
        checks.append(
            Check(
                "load average",
                "warn" if busy else "ok",
                f"{load:.2f} over the last minute"
                + (": other work competes for the CPU; expect noise" if busy else ""),
            )
        )
    governor = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    if governor is not None:
        checks.append(
            Check(
                "CPU frequency governor",
                "ok" if governor == "performance" else "warn",
                governor
                + (
                    ""
                    if governor == "performance"
                    else ": frequency scaling adds noise; 'performance' is steadier"
                ),
            )
        )
    else:
        checks.append(
            Check(
                "CPU frequency governor",
                "ok",
                "not exposed (virtual machine?): compare by ratios within one run",
            )
        )
    try:
        checks.append(speed_check(process_speeds()))
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        checks.append(Check("process-to-process speed", "warn", f"not measured: {exc}"))
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    checks.append(
        Check(
            "open files limit",
            "ok" if soft >= 4096 else "warn",
            f"{soft}"
            + ("" if soft >= 4096 else ": gilbench raises it for its servers up to the hard limit"),
        )
    )
    try:
        from gilbench.services.delay_server import DelayServer

        with DelayServer() as server:
            checks.append(Check("delay server", "ok", f"started on {server.url} and stopped"))
    except Exception as exc:
        checks.append(Check("delay server", "fail", f"could not start: {exc}"))
    pg = shutil.which("initdb") or shutil.which("pg_ctl")
    checks.append(
        Check(
            "PostgreSQL binaries",
            "ok" if pg else "warn",
            pg or "initdb not on PATH: io.postgres will be skipped unless --postgres-dsn is given",
        )
    )
    if os.geteuid() == 0:
        checks.append(
            Check(
                "running as root",
                "warn",
                "PostgreSQL refuses root: "
                "gilbench runs its throwaway cluster as the 'postgres' user",
            )
        )
    pythons = environment.discover_interpreters()
    checks.append(Check("interpreters", "ok", f"{len(pythons)} found ('gilbench list' shows them)"))
    return checks
