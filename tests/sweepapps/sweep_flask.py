"""A Flask app for `gilbench web --app` tests."""

import time

from flask import Flask

app = Flask(__name__)


@app.get("/sleep")
def sleep():
    """Blocks its worker thread for 50 ms."""
    time.sleep(0.05)
    return {"ok": True}


@app.get("/boom")
def boom():
    raise RuntimeError("boom")


@app.get("/forever")
def forever():
    """Never answers (within any test's patience)."""
    time.sleep(3600)
    return {"ok": True}
