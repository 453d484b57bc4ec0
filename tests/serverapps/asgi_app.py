"""A FastAPI app for tests/test_appserver.py: a ``def`` endpoint that sleeps, and one that
reports the worker's AnyIO thread limit and pid."""

from __future__ import annotations

import os
import time

import anyio.to_thread
from fastapi import FastAPI

app = FastAPI()


@app.get("/sleep")
def sleep() -> dict:
    """Runs in AnyIO's thread pool: one limiter token for 0.2 s."""
    time.sleep(0.2)
    return {"pid": os.getpid()}


@app.get("/info")
async def info() -> dict:
    return {
        "tokens": anyio.to_thread.current_default_thread_limiter().total_tokens,
        "pid": os.getpid(),
    }


@app.get("/block")
async def block() -> dict:
    """Blocks this worker's event loop for 0.05 s, so that other workers accept meanwhile."""
    time.sleep(0.05)
    return {"pid": os.getpid()}
