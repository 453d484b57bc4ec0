"""Call a slow HTTP API: the post's Example 3 (``requests.get`` on httpbin's ``/delay/N``).

The call waits on the network with the GIL released, so threads (or asyncio, with the native
coroutine ``fetch_async``) overlap the waits. It needs a server; gilbench ships a local replica
of httpbin's ``/delay/N``, so this works offline:

    python -m gilbench.services.delay_server --port 8765 &
    gilbench bench api:fetch --kwargs '{"url": "http://127.0.0.1:8765/delay/0.2"}'
    gilbench bench api:fetch_async --kwargs '{"url": "http://127.0.0.1:8765/delay/0.2"}'
    kill %1
"""

import json
import urllib.request


def fetch(url: str) -> dict:
    """GET ``url`` (30 s timeout): the HTTP ``status`` and the query ``args`` httpbin echoes.
    Raises ``urllib.error.HTTPError`` on an error status, URLError when unreachable."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return {"status": response.status, "args": json.load(response)["args"]}


async def fetch_async(url: str) -> dict:
    """The same GET as a coroutine with aiohttp (needs: pip install aiohttp); the same dict."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=30)) as response:
            return {"status": response.status, "args": (await response.json())["args"]}
