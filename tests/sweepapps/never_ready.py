"""An ASGI app whose startup never finishes: the server never becomes ready."""

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app):
    await asyncio.Event().wait()
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/")
def root() -> dict:
    return {"ok": True}
