"""A FastAPI app wrapped in ASGI middleware, and a Flask app wrapped in WSGI middleware."""

from fastapi import FastAPI
from flask import Flask
from starlette.middleware.gzip import GZipMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

api = FastAPI()


@api.get("/ping")
async def ping():
    return {"ok": True}


app = GZipMiddleware(api)

web = Flask(__name__)


@web.get("/ping")
def ping_view():
    return "ok"


wsgi = ProxyFix(web)
