"""What the machine and the interpreters are: captured into every results document."""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import shutil
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


VENV_LANDMARK = "pyvenv.cfg"
"""The file that makes a directory a virtual environment (PEP 405)."""


def venv_root(python: str) -> str | None:
    """The virtual environment the interpreter at ``python`` (a path, or a name on PATH) runs
    in: the directory holding ``pyvenv.cfg`` beside the executable or one level up, looked for
    where CPython looks (from the path as invoked, not from its symlinks' target). Returns that
    directory as an absolute path, or None when ``python`` is not in a venv."""
    here = os.path.dirname(os.path.abspath(shutil.which(python) or python))
    for directory in (here, os.path.dirname(here)):
        if os.path.isfile(os.path.join(directory, VENV_LANDMARK)):
            return directory
    return None


def canonical_python(python: str) -> str:
    """The one spelling of an interpreter: paths that run the same binary in the same
    environment give the same string; the identity gilbench keys interpreters and their venvs
    by (``targets.expand``, ``venvs.venv_path``, a venv manifest's ``base``, ``gilbench list``).

    The rule follows how CPython finds its environment (``Modules/getpath.py``): it looks for
    ``pyvenv.cfg`` next to the executable *as invoked*; without one, it finds its prefix
    (standard library, site-packages) from the executable with every symlink resolved.

    - Outside a venv, every symlink to one binary is that binary: pyenv's
      ``versions/3.12.1/bin/python`` and ``bin/python3`` (links to ``python3.12``) are both
      ``versions/3.12.1/bin/python3.12`` (:func:`os.path.realpath`). A link from elsewhere to a
      venv's ``bin/python`` is also its base binary: no ``pyvenv.cfg`` beside the link.
    - In a venv, ``bin/python`` is a symlink to the base interpreter, yet it is another
      environment (its own site-packages): links are followed only while they stay inside the
      venv's directory, so ``venv/bin/python3`` (a link to ``python``) is ``venv/bin/python``,
      which stays itself, distinct from the base it points to.

    A bare name (``python3.12``) is looked up on PATH first; a path that does not exist comes
    back as given (probing it says what is wrong). Hard links and copies are distinct files,
    hence distinct interpreters.
    """
    path = os.path.abspath(shutil.which(python) or python)
    if not os.path.exists(path):
        return python
    root = venv_root(path)
    if root is None:
        return os.path.realpath(path)
    inside = os.path.realpath(root) + os.sep
    path = _resolve_directory(path)
    for _ in range(40):  # more hops than that is a link loop
        if not os.path.islink(path):
            break
        target = _resolve_directory(os.path.join(os.path.dirname(path), os.readlink(path)))
        if not target.startswith(inside):  # the base interpreter: another environment
            break
        path = target
    return path


def _resolve_directory(path: str) -> str:
    """``path`` with the symlinks of its directory resolved, its last component kept."""
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


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
    """CPython executables on this machine, one canonical path each
    (:func:`canonical_python`: two links to one binary are one interpreter, a venv is not its
    base): this one first, then PATH's, pyenv's and uv's managed ones, and those
    ``scripts/build-python.sh`` built (:func:`pythons_dir`). Only executable files."""
    import glob

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
    canonical = (canonical_python(path) for path in found)
    return [path for path in dict.fromkeys(canonical) if os.access(path, os.X_OK)]
