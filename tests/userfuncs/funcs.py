"""User-style functions for tests: well-behaved and badly-behaved ones."""

import os
import threading
import time

_counter = 0
_lock = threading.Lock()


def fast(x: int = 1) -> int:
    return x * 2


def sleepy(seconds: float = 0.05) -> float:
    time.sleep(seconds)
    return seconds


def hang() -> None:
    time.sleep(3600)


def boom() -> None:
    raise ValueError("this function always raises")


def die() -> None:
    os._exit(3)


def segfault() -> None:
    import ctypes

    ctypes.string_at(0)


def chatty() -> int:
    print("user output on stdout must not break the protocol")
    return 1


def racy() -> int:
    """Returns a different value on every call: strategies' checksums will not match."""
    global _counter
    with _lock:
        _counter += 1
        return _counter
