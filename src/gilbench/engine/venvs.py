"""A cached virtual environment per target interpreter, so its trials can import what workloads
need.

``gilbench run --python PATH`` runs trials as ``PYTHON -m gilbench.engine.worker``. A bare
interpreter (a pyenv build, ``python3.13t``) lacks requests, numpy and the rest, so ``ensure``
gives it a venv once, at ``<cache>/venvs/<label>-<hash>`` where the hash covers the
interpreter's canonical path (``environment.canonical_python``: every symlink to one binary is
one interpreter, so ``bin/python`` and ``bin/python3`` share one venv) and
``worker-requirements.txt``, and installs those pinned requirements.

State machine of one venv directory: absent -> created (``PYTHON -m venv``) -> packages
installed (all at once; if that fails, one by one, recording each failure) -> manifest written.
The manifest is written last, so a directory without one is half-made (an interrupted run) and
is made again. A lock file per venv makes concurrent gilbench runs wait for each other instead
of racing pip. When a venv is ready, the venvs made from the same interpreter for other
requirements (an older gilbench's) are removed: nothing would use them again. A package that
fails to install for that Python is recorded, never fatal: only the workloads needing it are
skipped.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gilbench.engine.environment import canonical_python, venv_root
from gilbench.fsio import cache_dir, write_json_atomic

REQUIREMENTS_FILE = Path(__file__).resolve().parent.parent / "worker-requirements.txt"
MANIFEST = "gilbench-venv.json"
PIP_TIMEOUT_S = 900.0


class VenvError(RuntimeError):
    """The venv itself could not be made (``-m venv`` failed); packages failing is not this."""


@dataclass
class Venv:
    """A provisioned environment, as its manifest records it (``gilbench list --pythons``
    shows it)."""

    path: str
    python: str  # the venv's interpreter: trials run as ``python -m gilbench.engine.worker``
    base: str  # the interpreter it was made from: its canonical path (canonical_python)
    label: str  # the build's label, e.g. "3.13t"
    version: str  # e.g. "3.13.1"
    requirements_hash: str  # the directory name's hash (interpreter path + requirements)
    created: str  # ISO 8601, UTC, seconds
    packages: dict[str, str] = field(default_factory=dict)  # distribution -> version, as installed
    # requirement -> why pip could not install it
    failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The manifest's JSON object: every field."""
        return asdict(self)


def venvs_dir() -> Path:
    """Where the venvs live: ``<cache>/venvs`` (``fsio.cache_dir``)."""
    return cache_dir() / "venvs"


def requirements() -> list[str]:
    """The pinned worker requirements, one per entry, comments and blank lines dropped."""
    lines = REQUIREMENTS_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def requirement_name(requirement: str) -> str:
    """``psycopg[binary]==3.3.9; ...`` -> ``psycopg``."""
    name = requirement
    for sep in ";[=<>!~ ":
        name = name.split(sep, 1)[0]
    return name.strip()


def requirement_for(package: str) -> str | None:
    """The pinned line of worker-requirements.txt for an import or distribution name, if any."""
    wanted = _normalise(package)
    return next((r for r in requirements() if _normalise(requirement_name(r)) == wanted), None)


def failed_requirement(package: str, failed: dict[str, str]) -> str | None:
    """The pinned requirement providing ``package`` (import or distribution name) when it is
    among a venv's ``failed`` installs (``Venv.failed``); else None."""
    requirement = requirement_for(package)
    return requirement if requirement and requirement in failed else None


def is_venv(python: str) -> bool:
    """Whether ``python`` already lives in a virtual environment (``pyvenv.cfg`` beside it or
    one level up: ``environment.venv_root``)."""
    return venv_root(python) is not None


def needs_venv(python: str) -> bool:
    """False for the interpreter running gilbench (under any spelling of it) and any
    interpreter already in a venv: those are used as they are. True for every other one."""
    return canonical_python(python) != canonical_python(sys.executable) and not is_venv(python)


def venv_path(base: str, label: str) -> Path:
    """``<cache>/venvs/<label>-<hash>``: 10 hex digits of SHA-256 over ``base``'s canonical
    path (for an interpreter outside a venv, its real path) and the worker requirements, so a
    new requirement or interpreter gets a new venv, and two links to one binary the same."""
    key = canonical_python(base)
    digest = hashlib.sha256("\n".join([key, *requirements()]).encode()).hexdigest()[:10]
    return venvs_dir() / f"{label}-{digest}"


def load(path: Path) -> Venv | None:
    """The venv at ``path`` if it is complete (has a manifest of the expected shape) and its
    interpreter still runs; else None (half-made, foreign or damaged: never an error).

    ``base`` comes back canonical (``canonical_python``), also from manifests that recorded it
    as the user spelled it (older gilbench)."""
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        venv = Venv(**data)
    except (OSError, ValueError, TypeError):
        return None
    if not all(isinstance(v, str) for v in (venv.path, venv.python, venv.base, venv.created)):
        return None
    if not isinstance(venv.packages, dict) or not isinstance(venv.failed, dict):
        return None
    venv.base = canonical_python(venv.base)
    return venv if os.access(venv.python, os.X_OK) else None


def provisioned() -> list[Venv]:
    """Every complete venv in the cache, newest first."""
    root = venvs_dir()
    found = (
        [v for p in sorted(root.iterdir()) if p.is_dir() and (v := load(p))]
        if root.is_dir()
        else []
    )
    return sorted(found, key=lambda v: v.created, reverse=True)


Event = dict  # {"type": "venv", "python": label, "step": ..., "path": ..., ...}
OnEvent = Callable[[Event], None]


def ensure(base: str, label: str, version: str, on_event: OnEvent | None = None) -> Venv:
    """The venv for ``base``: made and filled the first time (a minute or so), reused afterwards.

    One venv per interpreter, whichever spelling of it ``base`` is (``canonical_python``); the
    manifest records the canonical path as ``base``.

    ``on_event`` receives ``{"type": "venv", "python", "step", "path", ...}`` dicts (see
    ``events.VenvStep``). Raises VenvError when ``-m venv`` fails; pip failures are recorded in
    ``Venv.failed`` (each pip call gives up after PIP_TIMEOUT_S, 900 s)."""
    emit = on_event or (lambda e: None)
    base = canonical_python(base)
    path = venv_path(base, label)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(
        path.parent / (path.name + ".lock"),
        lambda: emit({"type": "venv", "python": label, "step": "wait", "path": str(path)}),
    ):
        venv = load(path)
        if venv is not None:
            return venv
        shutil.rmtree(path, ignore_errors=True)  # half-made by an interrupted run
        emit({"type": "venv", "python": label, "step": "create", "path": str(path)})
        made = _run([base, "-m", "venv", str(path)], timeout=300)
        if made.returncode != 0:
            shutil.rmtree(path, ignore_errors=True)
            raise VenvError(
                f"{base} -m venv failed: {_last_error(made)}; fix: install that Python's "
                "venv/ensurepip support (Debian: apt-get install python3-venv)"
            )
        python = str(path / "bin" / "python")
        reqs = requirements()
        emit(
            {
                "type": "venv",
                "python": label,
                "step": "install",
                "path": str(path),
                "packages": len(reqs),
            }
        )
        failed = _install(
            python,
            reqs,
            lambda r: emit(
                {
                    "type": "venv",
                    "python": label,
                    "step": "install-one",
                    "path": str(path),
                    "requirement": r,
                }
            ),
        )
        venv = Venv(
            path=str(path),
            python=python,
            base=base,
            label=label,
            version=version,
            requirements_hash=path.name.rsplit("-", 1)[-1],
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            packages=_installed(python),
            failed=failed,
        )
        write_json_atomic(path / MANIFEST, venv.to_dict())
        emit(
            {"type": "venv", "python": label, "step": "ready", "path": str(path), "failed": failed}
        )
        for stale in prune_stale(path, base):
            emit({"type": "venv", "python": label, "step": "removed-stale", "path": str(stale)})
        return venv


def prune_stale(current: Path, base: str) -> list[Path]:
    """Remove the complete venvs made from ``base``'s interpreter (the same canonical path,
    whatever spelling made them) for other requirements; return their paths.

    A venv another gilbench is making right now (its lock is held) is left alone.
    """
    key = canonical_python(base)
    removed = []
    for venv in provisioned():
        path = Path(venv.path)
        if path == current or venv.base != key:  # load() made venv.base canonical
            continue
        lock = path.parent / (path.name + ".lock")
        with open(lock, "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            shutil.rmtree(path, ignore_errors=True)
            fcntl.flock(f, fcntl.LOCK_UN)
        lock.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _install(python: str, reqs: list[str], on_one: Callable[[str], None]) -> dict[str, str]:
    """Install ``reqs``; returns requirement -> reason for those that would not install."""
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q"]
    if _run([*pip, *reqs], timeout=PIP_TIMEOUT_S).returncode == 0:
        return {}
    # One failure fails the whole resolution: retry one by one to keep everything that installs.
    failed: dict[str, str] = {}
    for req in reqs:
        on_one(req)
        done = _run([*pip, req], timeout=PIP_TIMEOUT_S)
        if done.returncode != 0:
            failed[req] = _last_error(done)
    return failed


def _installed(python: str) -> dict[str, str]:
    out = _run(
        [python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"], timeout=120
    )
    try:
        rows = json.loads(out.stdout)
    except ValueError:
        return {}
    return {
        r["name"]: r["version"]
        for r in rows
        if _normalise(r["name"]) not in ("pip", "setuptools", "wheel")
    }


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    try:
        return subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 1, "", f"ERROR: no answer after {timeout:.0f} s")
    except OSError as exc:
        return subprocess.CompletedProcess(argv, 1, "", f"ERROR: {exc}")


def _last_error(done: subprocess.CompletedProcess) -> str:
    """pip's reason in one line (at most 300 characters): its ``ERROR:`` line; for a source
    build that failed (pip builds from source only when no wheel fits this Python), that and
    the build's own first ``error:`` line; else the last line of output."""
    lines = [
        line.strip() for line in (done.stderr or done.stdout or "").splitlines() if line.strip()
    ]
    errors = [line for line in lines if line.startswith("ERROR:")]
    # pip >= 23 says "error: <what-failed>" (one hyphenated word) around a failed build's output
    said = [line for line in lines if re.fullmatch(r"error: [a-z]+(-[a-z]+)+", line)]
    if errors:
        text = errors[0]
    elif said:
        build = [line for line in lines if line.startswith("error:") and line not in said]
        text = f"no wheel for this Python; building from source failed ({said[-1][7:]})" + (
            f": {build[0]}" if build else ""
        )
    else:
        text = lines[-1] if lines else f"exit code {done.returncode}"
    return text.removeprefix("ERROR:").strip()[:300]


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@contextmanager
def _locked(path: Path, on_wait: Callable[[], None]) -> Iterator[None]:
    with open(path, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()  # another gilbench is making this venv: wait for it, then reuse it
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
