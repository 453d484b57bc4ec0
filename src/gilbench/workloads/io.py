"""I/O-bound workloads: sleeping, and the seed's slow API (Example 3) on the local delay server."""

from __future__ import annotations

import asyncio
import time

from gilbench.workloads import Call, Knob, Need, Workload, register


def sleep(seconds: float) -> float:
    """``time.sleep(seconds)``, the GIL released; returns ``seconds``."""
    time.sleep(seconds)
    return seconds


async def sleep_async(seconds: float) -> float:
    """``await asyncio.sleep(seconds)``; returns ``seconds``."""
    await asyncio.sleep(seconds)
    return seconds


def http_get(url: str) -> tuple[int, dict]:
    """One GET with ``requests``, as the post's ``fetch()`` does: the status code and the
    echoed query ``args``. 30 s timeout; raises ``requests.HTTPError`` on an error status."""
    import requests

    response = requests.get(url, timeout=30)
    response.raise_for_status()
    return response.status_code, response.json()["args"]


async def http_get_async(url: str) -> tuple[int, dict]:
    """The same GET with aiohttp, for asyncio (raises ``aiohttp.ClientResponseError``)."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=30)) as response:
            response.raise_for_status()
            return response.status, (await response.json())["args"]


register(
    Workload(
        name="io.sleep",
        family="io",
        summary="time.sleep / asyncio.sleep: pure waiting, the GIL released",
        make_call=lambda p, s: Call(
            "gilbench.workloads.io:sleep",
            kwargs={"seconds": float(p["seconds"])},
            async_func="gilbench.workloads.io:sleep_async",
        ),
        default_tasks=5,
        default_workers=5,
        knob=Knob("seconds", 0.5, "seconds each task sleeps", quick_default=0.1),
    )
)

register(
    Workload(
        name="io.http",
        family="io",
        summary="the post's slow API (Example 3): GET /delay/N on gilbench's local httpbin replica",
        make_call=lambda p, s: Call(
            "gilbench.workloads.io:http_get",
            kwargs={"url": f"{s['delay_server']}/delay/{float(p['delay']):g}?workload=io.http"},
            async_func="gilbench.workloads.io:http_get_async",
        ),
        default_tasks=5,
        default_workers=5,
        knob=Knob(
            "delay",
            2.0,
            "seconds the slow API waits before replying (the post: 2)",
            quick_default=0.1,
        ),
        needs=(
            Need("service", "delay_server"),
            Need("package", "requests", "pip install requests"),
            Need("package", "aiohttp", "pip install aiohttp"),
        ),
    )
)
