"""A Flask app for tests/test_appserver.py: a sleeping view that reports how many requests this
process was serving at once, a pid/thread view, and a view that fails (500)."""

from __future__ import annotations

import os
import threading
import time

from flask import Flask

app = Flask(__name__)

_lock = threading.Lock()
_in_flight = 0
_max_in_flight = 0


@app.get("/sleep")
def sleep() -> dict:
    global _in_flight, _max_in_flight
    with _lock:
        _in_flight += 1
        _max_in_flight = max(_max_in_flight, _in_flight)
    try:
        time.sleep(0.2)
    finally:
        with _lock:
            _in_flight -= 1
    return {"pid": os.getpid(), "thread": threading.current_thread().name, "max": _max_in_flight}


@app.get("/pid")
def pid() -> dict:
    return {"pid": os.getpid(), "thread": threading.current_thread().name}


@app.get("/boom")
def boom() -> dict:
    raise RuntimeError("boom")
