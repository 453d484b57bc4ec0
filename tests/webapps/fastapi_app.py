"""A FastAPI app with def and async def routes, a path parameter and a mounted sub-app."""

import functools

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.responses import PlainTextResponse
from starlette.routing import Route

print("fastapi_app: printed at import")  # must not confuse gilbench


def sync_view(request):
    return PlainTextResponse("sub sync")


class Things(HTTPEndpoint):
    async def get(self, request):
        return PlainTextResponse("things")

    def post(self, request):
        return PlainTextResponse("posted")


sub = Starlette(
    routes=[Route("/sync", sync_view), Route("/things", Things, methods=["GET", "POST"])]
)

app = FastAPI()
app.mount("/sub", sub)


@app.get("/sync")
def sync_route():
    return {"ok": True}


@app.get("/async")
async def async_route():
    return {"ok": True}


@app.get("/items/{item_id}")
def item(item_id: int):
    return {"id": item_id}


@app.post("/orders")
async def create_order():
    return {"ok": True}


def _logged(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        return await func(*args, **kwargs)

    return wrapper


@app.get("/wrapped")
@_logged
async def wrapped():
    return {"ok": True}
