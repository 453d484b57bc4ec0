"""A mixed task: fetch a document from a slow API (I/O), then aggregate it in Python (CPU).

The post's table says: split mixed work, threads for the I/O, processes for the CPU. The task
declares its two steps, ``fetch`` (I/O) and ``summarize`` (CPU, pure Python), so the
``hybrid`` strategy can do exactly that; every other strategy runs ``fetch_parse``, both in one.
The defaults make the two steps comparable on a typical core: a 0.2 s wait, then ~0.2 s of CPU.
The wait scales with ``passes`` (0.1 s at 160), so a smaller task (``--quick``, ``-p passes=``)
keeps the same balance between the two steps.
"""

from __future__ import annotations

import json

from gilbench.workloads import Call, Knob, Need, Workload, register

DOC_ITEMS = 500
DELAY_S = 0.2
"""The slow API's wait at DEFAULT_PASSES; proportional to passes otherwise."""
DEFAULT_PASSES = 320


def delay_for(passes: int) -> float:
    """Seconds the document takes to arrive for a task of ``passes`` passes."""
    return round(max(0.01, DELAY_S * passes / DEFAULT_PASSES), 3)


def fetch(url: str, passes: int) -> tuple[str, int]:
    """The I/O step: GET the document (30 s timeout; raises ``requests.HTTPError`` on an error
    status). Hands the CPU step the body and its number of passes."""
    import requests

    response = requests.get(url, timeout=30)
    response.raise_for_status()
    return response.text, passes


def summarize(fetched: tuple[str, int]) -> dict:
    """The CPU step: parse the document and build ``passes`` price reports in pure Python.
    Returns the ``items`` count, the stock's total ``value``, the prices summed ``by_tag`` and
    the stock quantity per name word (``words``), summed over every pass."""
    text, passes = fetched
    items = json.loads(text)["items"]
    value, by_tag, words = 0.0, {}, {}
    for p in range(passes):
        discount = p / (passes * 10)
        for item in items:
            price = item["price"] * (1 - discount)
            qty = item["stock"]["warehouse"] + item["stock"]["store"]
            value += price * qty
            for tag in item["tags"]:
                by_tag[tag] = by_tag.get(tag, 0.0) + price
            for word in item["name"].split():
                words[word] = words.get(word, 0) + qty
    return {
        "items": len(items),
        "value": round(value, 2),
        "by_tag": {k: round(v, 2) for k, v in sorted(by_tag.items())},
        "words": dict(sorted(words.items())),
    }


def fetch_parse(url: str, passes: int) -> dict:
    """Both steps in one call, ``summarize(fetch(url, passes))``: what every strategy but
    hybrid runs."""
    return summarize(fetch(url, passes))


async def fetch_parse_async(url: str, passes: int) -> dict:
    """The same with aiohttp; the CPU step then runs on the event loop, as naive asyncio code
    does."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=30)) as response:
            response.raise_for_status()
            text = await response.text()
    return summarize((text, passes))


register(
    Workload(
        name="mixed.fetch_parse",
        family="mixed",
        summary=(
            f"GET a {DOC_ITEMS}-item JSON document after {DELAY_S:g} s (I/O), "
            "then aggregate it in pure Python (CPU)"
        ),
        make_call=lambda p, s: Call(
            "gilbench.workloads.mixed:fetch_parse",
            kwargs={
                "url": (
                    f"{s['delay_server']}/doc?items={DOC_ITEMS}&seed=1"
                    f"&delay={delay_for(int(p['passes'])):g}"
                ),
                "passes": int(p["passes"]),
            },
            async_func="gilbench.workloads.mixed:fetch_parse_async",
            io_func="gilbench.workloads.mixed:fetch",
            cpu_func="gilbench.workloads.mixed:summarize",
        ),
        default_tasks=8,
        default_workers=2,
        knob=Knob(
            "passes",
            DEFAULT_PASSES,
            "passes of pure-Python aggregation over the fetched document "
            f"(the wait before it: {DELAY_S:g} s x passes / {DEFAULT_PASSES})",
            quick_default=40,
        ),
        needs=(
            Need("service", "delay_server"),
            Need("package", "requests", "pip install requests"),
            Need("package", "aiohttp", "pip install aiohttp"),
        ),
    )
)
