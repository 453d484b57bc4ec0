"""A FastAPI app whose lifespan startup never finishes: the server never becomes ready."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await asyncio.Event().wait()
    yield


app = FastAPI(lifespan=lifespan)
