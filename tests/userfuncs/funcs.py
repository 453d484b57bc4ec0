"""User-style functions for tests: well-behaved and badly-behaved ones."""

import os
import threading
import time


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


def racy() -> str:
    """Returns the name of the thread it ran on: sequential's (the main thread) and threads'
    (a pool's) always differ, so their checksums cannot match, whatever the warm-up count."""
    return threading.current_thread().name


# -- for gilbench bench: one function per kind of work, and more bad behaviour ----------------
_DATA = bytes(range(256)) * 4096 * 4  # 4 MiB


def sha256_heavy(rounds: int = 4) -> str:
    """C code that releases the GIL (hashlib does for buffers over 2 KiB)."""
    import hashlib

    h = hashlib.sha256()
    for _ in range(rounds):
        h.update(_DATA)
    return h.hexdigest()


def py_loop(n: int = 300_000) -> int:
    """Pure Python bytecode: holds the GIL, yields it every switch interval."""
    x = 0
    for i in range(n):
        x += i % 7
    return x


def json_big(items: int = 60_000) -> int:
    """One long C call that holds the GIL: json.dumps of a large list."""
    import json

    return len(json.dumps([{"id": i, "name": "x" * 8, "tags": [i, i + 1]} for i in range(items)]))


async def sleepy_async(seconds: float = 0.05) -> float:
    import asyncio

    await asyncio.sleep(seconds)
    return seconds


def unpicklable_result() -> object:
    """Returns a lock: fine in one process, cannot be sent back from another."""
    return threading.Lock()


def make_lock_args() -> dict:
    """A setup whose arguments cannot be pickled (a lock)."""
    return {"lock": threading.Lock()}


def use_lock(lock) -> int:
    with lock:
        return 1


def setup_pair() -> tuple:
    return ([3], {"y": 4})


def add(x: int, y: int = 0) -> int:
    return x + y


def setup_boom() -> None:
    raise RuntimeError("setup cannot find its data")


NOT_CALLABLE = 42


def varies() -> float:
    """A different result on every call (a timestamp)."""
    return time.perf_counter()


def big_bytes(mib: int = 32) -> bytes:
    """A fresh result of ``mib`` MiB: each costs gilbench a checksum, and a pickle where results
    cross processes (issue 14: 300 MB made every trial time out)."""
    return b"x" * (mib << 20)
