"""A bare ASGI app without lifespan support (it raises on the lifespan scope, as many do):
reports the worker's AnyIO thread limit and pid."""

from __future__ import annotations

import json
import os

import anyio.to_thread


async def app(scope: dict, receive, send) -> None:
    if scope["type"] != "http":
        raise RuntimeError(f"unsupported scope {scope['type']}")
    body = json.dumps(
        {
            "tokens": anyio.to_thread.current_default_thread_limiter().total_tokens,
            "pid": os.getpid(),
        }
    ).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
