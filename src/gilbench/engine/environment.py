"""What the machine and the interpreters are: captured into every results document."""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path

import psutil

from gilbench.fsio import cache_dir

# Runs inside each target interpreter, so it must work on any CPython >= 3.8.
_PROBE = r"""
import json, platform, sys, sysconfig
gil = getattr(sys, "_is_gil_enabled", None)
print(json.dumps({
    "version": platform.python_version(),
    "implementation": platform.python_implementation(),
    "executable": sys.executable,
    "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "gil_enabled": gil() if gil else True,
    "version_info": list(sys.version_info[:3]),
}))
"""


class InterpreterError(RuntimeError):
    """An interpreter could not be probed: missing, failed to start, or silent for 30 s."""


def probe_interpreter(path: str, env: dict[str, str] | None = None) -> dict:
    """Version and build of the Python at ``path``, as the contract's ``interpreters`` entry:
    version, implementation, executable, free_threaded_build, gil_enabled, version_info,
    path, label (e.g. "3.13t"). Raises InterpreterError."""
    try:
        out = subprocess.run(
            [path, "-c", _PROBE], capture_output=True, text=True, timeout=30, env=env, check=True
        ).stdout
    except FileNotFoundError:
        raise InterpreterError(f"no Python at {path}") from None
    except subprocess.CalledProcessError as exc:
        raise InterpreterError(
            f"{path} failed to start: {exc.stderr.strip().splitlines()[-1:]}"
        ) from None
    except subprocess.TimeoutExpired:
        raise InterpreterError(f"{path} did not answer in 30 s") from None
    info = json.loads(out)
    info["path"] = path
    info["label"] = info["version"] + ("t" if info["free_threaded_build"] else "")
    return info


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), else ``os.cpu_count()``, at least 1."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load_avg_1m() -> float | None:
    """The 1-minute load average (runnable processes), or None where the OS has none."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def capture() -> dict:
    """The machine, as the results document's ``environment``: core counts and affinity, CPU
    model and frequency (MHz), 1-minute load, memory (GiB), platform, host, start method."""
    vm = psutil.virtual_memory()
    try:
        affinity = sorted(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    freq = psutil.cpu_freq()
    return {
        "cpu_count": os.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "usable_cores": usable_cores(),
        "cpu_affinity": affinity,
        "cpu_model": _cpu_model(),
        "cpu_freq_mhz": round(freq.current) if freq else None,
        "load_avg_1m": load_avg_1m(),
        "memory_gb": round(vm.total / 2**30, 1),
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "gilbench_python": sys.version.split()[0],
        "mp_start_method": multiprocessing.get_start_method(),
    }


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def pythons_dir() -> Path:
    """Where ``scripts/build-python.sh`` puts the interpreters it builds (``<version>`` and
    ``<version>t``, each with ``bin/python3``): ``$GILBENCH_PYTHONS_DIR``, else
    ``<cache>/pythons`` (``fsio.cache_dir``). Only the path: it may not exist."""
    explicit = os.environ.get("GILBENCH_PYTHONS_DIR")
    return Path(explicit).expanduser() if explicit else cache_dir() / "pythons"


def discover_interpreters() -> list[str]:
    """CPython executables on this machine, as paths (the first of each real file): this one,
    PATH's, pyenv's and uv's managed ones, and those ``scripts/build-python.sh`` built
    (:func:`pythons_dir`)."""
    import glob
    import shutil

    found = [sys.executable]
    for name in (
        "python3",
        "python3.11",
        "python3.12",
        "python3.13",
        "python3.13t",
        "python3.14",
        "python3.14t",
    ):
        path = shutil.which(name)
        if path and "/.pyenv/shims/" not in path:
            found.append(path)
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found += sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.*", "bin", "python3")))
    uv_dir = os.environ.get("UV_PYTHON_INSTALL_DIR") or os.path.expanduser(
        "~/.local/share/uv/python"
    )
    found += sorted(glob.glob(os.path.join(uv_dir, "cpython-3.*", "bin", "python3*")))
    found += sorted(glob.glob(os.path.join(pythons_dir(), "*", "bin", "python3")))
    unique: dict[str, str] = {}
    for path in found:
        real = os.path.realpath(path)
        if os.access(real, os.X_OK) and real not in unique.values():
            unique[path] = real
    return list(unique)
