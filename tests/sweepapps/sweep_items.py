"""A FastAPI app for `gilbench web --app` tests of requests the app rejects (4xx)."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str


@app.post("/items")
async def create_item(item: Item) -> dict:
    """422 without a JSON body naming the item, 200 with one."""
    return {"name": item.name}


_calls = 0


@app.get("/limited")
async def limited():
    """A rate limit: the first two requests of a worker are answered, every later one is 429."""
    global _calls
    _calls += 1
    if _calls > 2:
        return JSONResponse({"detail": "slow down"}, status_code=429)
    return {"ok": True}
