"""Is this machine fit to measure on? Each check is a value with a status and a reason."""

from __future__ import annotations

import os
import resource
import shutil
from dataclasses import dataclass

from gilbench.engine import environment


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def run_checks() -> list[Check]:
    checks: list[Check] = []
    cores = environment.usable_cores()
    checks.append(
        Check("usable cores", "ok" if cores >= 2 else "warn", f"{cores} (parallel speedups are capped at {cores}x)" + ("" if cores >= 2 else ": no parallel speedup can show on one core"))
    )
    load = environment.load_avg_1m()
    if load is not None:
        busy = load > 0.5 * cores
        checks.append(Check("load average", "warn" if busy else "ok", f"{load:.2f} over the last minute" + (": other work competes for the CPU; expect noise" if busy else "")))
    governor = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    if governor is not None:
        checks.append(Check("CPU frequency governor", "ok" if governor == "performance" else "warn", governor + ("" if governor == "performance" else ": frequency scaling adds noise; 'performance' is steadier")))
    else:
        checks.append(Check("CPU frequency governor", "ok", "not exposed (virtual machine?): compare by ratios within one run"))
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    checks.append(Check("open files limit", "ok" if soft >= 4096 else "warn", f"{soft}" + ("" if soft >= 4096 else ": gilbench raises it for its servers up to the hard limit")))
    try:
        from gilbench.services.delay_server import DelayServer

        with DelayServer() as server:
            checks.append(Check("delay server", "ok", f"started on {server.url} and stopped"))
    except Exception as exc:
        checks.append(Check("delay server", "fail", f"could not start: {exc}"))
    pg = shutil.which("initdb") or shutil.which("pg_ctl")
    checks.append(Check("PostgreSQL binaries", "ok" if pg else "warn", pg or "initdb not on PATH: io.postgres will be skipped unless --postgres-dsn is given"))
    if os.geteuid() == 0:
        checks.append(Check("running as root", "warn", "PostgreSQL refuses root: gilbench runs its throwaway cluster as the 'postgres' user"))
    pythons = environment.discover_interpreters()
    checks.append(Check("interpreters", "ok", f"{len(pythons)} found ('gilbench list' shows them)"))
    return checks
