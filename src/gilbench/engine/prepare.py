"""What a workload needs before its trials: its services started, its size knob decided.

Both happen once per workload, before the session schedules its rounds (``engine/session.py``).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from gilbench.engine.events import Calibrating, OnEvent, ServiceStarting
from gilbench.engine.protocol import TrialSpec
from gilbench.engine.runner import TrialRunner
from gilbench.workloads import Workload

# --quick sizes calibrated tasks to this fraction of their target (0.5 s -> 0.1 s a task).
QUICK_TARGET_FACTOR = 0.2


class CalibrationError(RuntimeError):
    """A workload's knob could not be calibrated (the calibration trial failed)."""


def start_services(
    w: Workload, services: dict[str, str], stack: ExitStack, on_event: OnEvent
) -> str | None:
    """Start each service ``w`` needs that ``services`` (name -> address) lacks, adding it
    there; ``stack`` stops them. Returns why one could not start, or None."""
    from gilbench.services import registry

    for name in w.services:
        if name in services:
            continue
        on_event(ServiceStarting(name))
        try:
            services[name] = registry.start(name, stack)
        except Exception as exc:
            return f"could not start {name}: {exc}"
    return None


def knob_params(
    w: Workload,
    given: dict[str, Any],
    quick: bool,
    calibrated: dict[str, Any],
    interp: dict,
    run_trial: TrialRunner,
    timeout: float,
    env: dict[str, str],
    on_event: OnEvent,
) -> dict[str, Any]:
    """The knob's value as ``{name: value}`` ({} without a knob): given by the user
    (``given``), calibrated earlier in this run (``calibrated``, workload -> value), the
    workload's default, or calibrated now in ``interp`` with a calibrate trial (recorded in
    ``calibrated``). ``timeout`` in seconds; ``env`` is the trial's environment.
    Raises CalibrationError when the calibration trial gives no value."""
    if w.knob is None:
        return {}
    name = w.knob.name
    value = given.get(name, calibrated.get(w.name, w.knob.value(quick)))
    if value is None:
        target = w.knob.target_s * (QUICK_TARGET_FACTOR if quick else 1.0)
        on_event(Calibrating(w.name, target))
        call = w.make_call({name: 1}, {}).to_dict()
        spec = TrialSpec.calibrate(call, name, target, start=w.knob.calibrate_from)
        out = run_trial(interp["worker_python"], spec, timeout, env=env)
        if out.value is None:
            raise CalibrationError(
                f"could not size {w.name}: calibration {out.status}: {out.error or out.reason}"
            )
        value = calibrated[w.name] = out.value
    return {name: value}
