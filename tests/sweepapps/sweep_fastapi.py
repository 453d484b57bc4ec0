"""A FastAPI app for `gilbench web --app` tests: each endpoint waits 50 ms a different way."""

import asyncio
import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/def-sleep")
def def_sleep() -> dict:
    """Blocks its worker thread: the thread pool caps it."""
    time.sleep(0.05)
    return {"ok": True}


@app.get("/async-sleep")
async def async_sleep() -> dict:
    """Awaits: the event loop overlaps the waits."""
    await asyncio.sleep(0.05)
    return {"ok": True}


@app.get("/async-blocking")
async def async_blocking() -> dict:
    """A blocking call inside async def: the event loop stops for 50 ms."""
    time.sleep(0.05)
    return {"ok": True}


@app.get("/boom")
def boom() -> dict:
    raise RuntimeError("boom")


_calls = 0


@app.get("/flaky")
async def flaky() -> dict:
    """Fails one request in ten."""
    global _calls
    _calls += 1
    if _calls % 10 == 0:
        raise RuntimeError("one in ten")
    return {"ok": True}


async def raw_asgi(scope, receive, send):
    """A bare ASGI callable: no framework to ask whether its handler is async."""
    if scope["type"] != "http":
        return
    await asyncio.sleep(0.05)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
