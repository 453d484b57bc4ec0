"""CPU-bound workloads in pure Python (the seed's Examples 1 and 2)."""

from __future__ import annotations

from gilbench.workloads import Call, Knob, Workload, register


def count(count: int) -> int:
    """The seed's ``cpu_heavy`` loop, returning its result (``count``) so strategies can be
    checked."""
    x = 0
    for _ in range(count):
        x += 1
    return x


register(
    Workload(
        name="cpu.count",
        family="cpu",
        summary="the post's counting loop (Examples 1 and 2): pure Python bytecode, holds the GIL",
        make_call=lambda p, s: Call(
            "gilbench.workloads.cpu:count", kwargs={"count": int(p["count"])}
        ),
        default_tasks=2,
        default_workers=2,
        knob=Knob(
            "count", None, "loop iterations per task (the post uses 50000000)", target_s=0.25
        ),
    )
)
