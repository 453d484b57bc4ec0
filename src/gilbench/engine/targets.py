"""The interpreters a run targets: what each is, how it runs, what it supports, what it lacks.

``expand`` probes every ``--python`` and turns a free-threaded build into its two variants
(see ``freethreading``); ``provision`` gives each interpreter but gilbench's own its cached venv
(see ``venvs``) and asks that venv which of the workloads' packages import there, so a row is
skipped for what its own interpreter lacks, not for what gilbench's lacks.

Each entry is the contract's ``interpreters`` item plus how trials reach it:
``worker_python`` (the venv's interpreter, or the path itself), ``env`` (e.g. ``PYTHON_GIL``),
``venv`` (path and failed installs, or None) and ``missing_packages``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterable

from gilbench import strategies as strategy_registry
from gilbench.engine import environment, freethreading, venvs
from gilbench.services import _process
from gilbench.workloads import Workload

MIN_WORKER = (3, 11)  # gilbench's worker (and gilbench) need 3.11+


def too_old(info: dict) -> str | None:
    """Why the probed interpreter ``info`` cannot run gilbench's worker (before 3.11), else None."""
    major, minor = info["version_info"][:2]
    if (major, minor) < MIN_WORKER:
        needs = f"{MIN_WORKER[0]}.{MIN_WORKER[1]}+"
        return f"Python {major}.{minor} is too old for gilbench's worker (needs {needs})"
    return None


def unsupported(info: dict, strategies: Iterable[str]) -> dict[str, str]:
    """Strategy -> why this interpreter cannot run it, judged from its version alone."""
    if old := too_old(info):
        return {s: old for s in strategies}
    return {
        s: why
        for s in strategies
        if (why := strategy_registry.version_reason(s, info["version_info"]))
    }


def support_summary(info: dict, strategies: Iterable[str]) -> str:
    """One line for ``gilbench list``: what this interpreter can run, and how gilbench runs it."""
    strategies = list(strategies)
    if old := too_old(info):
        return f"none: {old}"
    lacking = unsupported(info, strategies)
    text = (
        "all"
        if not lacking
        else "all but " + "; ".join(f"{s} ({why})" for s, why in lacking.items())
    )
    if info["free_threaded_build"]:
        labels = " and ".join(info["label"] + suffix for suffix, _ in freethreading.VARIANTS)
        text += (
            f"; free-threaded: threads run Python in parallel; measured as {labels} (PYTHON_GIL=1)"
        )
    return text


def expand(paths: Iterable[str]) -> list[dict]:
    """Probe each interpreter; a free-threaded build becomes two entries. Raises InterpreterError
    for an interpreter that cannot run gilbench's worker (named as the caller spelled it).

    Interpreters are identified by their canonical path (``environment.canonical_python``):
    two spellings of one (``bin/python`` and ``bin/python3``, links to one binary) are one
    entry, whose ``path`` is that canonical path; a venv and its base stay two."""
    spelled: dict[str, str] = {}  # canonical path -> the first spelling given for it
    for given in paths:
        spelled.setdefault(environment.canonical_python(given), given)
    out: list[dict] = []
    for path, given in spelled.items():
        info = environment.probe_interpreter(path)
        if old := too_old(info):
            raise environment.InterpreterError(f"{given}: {old}")
        if not info["free_threaded_build"]:
            out.append(_entry(info, {}))
            continue
        for suffix, env in freethreading.VARIANTS:
            # probed again under the variant's environment: the live GIL state
            variant = environment.probe_interpreter(path, env=_process.child_env(env))
            variant["label"] = info["label"] + suffix
            out.append(_entry(variant, env))
    seen: dict[str, int] = {}
    for entry in out:  # two interpreters of one version (a venv's and its base): keep rows apart
        seen[entry["label"]] = seen.get(entry["label"], 0) + 1
        if seen[entry["label"]] > 1:
            entry["label"] += f"#{seen[entry['label']]}"
    return out


def _entry(info: dict, env: dict[str, str]) -> dict:
    return {
        **info,
        "env": dict(env),
        "worker_python": info["path"],
        "venv": None,
        "missing_packages": [],
    }


def provision(
    interpreters: list[dict],
    workloads: Iterable[Workload],
    on_event: Callable[[dict], None] | None = None,
) -> None:
    """Give each interpreter that needs one its venv, and record which needed packages are
    missing there (``missing_packages``), in place. A venv that cannot be made is recorded as
    ``venv_error``; its rows are skipped. ``on_event`` receives ``venvs.ensure``'s dicts."""
    packages = sorted({n.name for w in workloads for n in w.needs if n.kind == "package"})
    made: dict[str, venvs.Venv | venvs.VenvError] = {}
    for interp in interpreters:
        path = interp["path"]
        if venvs.needs_venv(path):
            if path not in made:
                build_label = interp["version"] + ("t" if interp["free_threaded_build"] else "")
                try:
                    made[path] = venvs.ensure(path, build_label, interp["version"], on_event)
                except venvs.VenvError as exc:
                    made[path] = exc
            venv = made[path]
            if isinstance(venv, venvs.VenvError):
                interp["venv_error"] = str(venv)
                continue
            interp["venv"] = {"path": venv.path, "failed": venv.failed}
            interp["worker_python"] = venv.python
        interp["missing_packages"] = missing_imports(
            interp["worker_python"], packages, interp["env"]
        )


def missing_imports(python: str, names: list[str], env: dict[str, str] | None = None) -> list[str]:
    """Which of ``names`` the interpreter at ``python`` cannot import (asked with
    ``find_spec``, not imported); all of them when it does not answer within 60 s."""
    if not names:
        return []
    script = (
        "import importlib.util, json, sys\n"
        "print(json.dumps([n for n in sys.argv[1:] if importlib.util.find_spec(n) is None]))"
    )
    try:
        out = subprocess.run(
            [python, "-c", script, *names],
            capture_output=True,
            text=True,
            timeout=60,
            env=_process.child_env(env),
            check=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return list(names)  # an interpreter that cannot answer has none of them usable


def importable(interp: dict) -> Callable[[str], bool]:
    """A predicate: is this package name importable in ``interp`` (not in missing_packages)."""
    return lambda name: name not in interp.get("missing_packages", ())


def missing_reason(w: Workload, interp: dict) -> str | None:
    """Why ``w`` cannot run in ``interp`` for want of a venv or a package, with the fix;
    else None."""
    label = interp["label"]
    if interp.get("venv_error"):
        return f"no venv for {label}: {interp['venv_error']}"
    for need in w.needs:
        if need.kind != "package" or need.name not in interp.get("missing_packages", ()):
            continue
        venv = interp.get("venv")
        if venv is None:
            fix = need.fix or f"{interp['worker_python']} -m pip install {need.name}"
            return (
                f"needs the Python package {need.name!r} in {label} ({interp['path']}); fix: {fix}"
            )
        requirement = venvs.requirement_for(need.name)
        failed = venvs.failed_requirement(need.name, venv["failed"])
        if failed and interp.get("free_threaded_build"):
            major, minor = interp["version_info"][:2]
            abi = f"cp{major}{minor}t"
            return (
                f"needs the Python package {need.name!r}: no free-threaded ({abi}) wheel of "
                f"{requirement} could be installed for {label} "
                f"(pip: {venv['failed'][failed]}); fix: measure it on a GIL build, or pin "
                f"a version with {abi} wheels in src/gilbench/worker-requirements.txt"
            )
        if failed:
            return (
                f"needs the Python package {need.name!r}, which pip could not install for {label} "
                f"({venv['failed'][failed]}); fix: a version of it that supports "
                f"Python {interp['version']}, in src/gilbench/worker-requirements.txt"
            )
        fix = (
            f"{interp['worker_python']} -m pip install '{requirement}'"
            if requirement
            else f"add {need.name} to src/gilbench/worker-requirements.txt"
        )
        return (
            f"needs the Python package {need.name!r}, missing from the {label} venv "
            f"({venv['path']}); fix: {fix}"
        )
    return None
