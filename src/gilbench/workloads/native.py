"""CPU-bound work in C code that releases the GIL: hashlib, zlib and numpy's BLAS.

The post's summary: "call out to C extensions that release the GIL". hashlib releases it while
hashing more than 2047 bytes at once, zlib while deflating, numpy while BLAS multiplies, so
threads run them on every core. numpy's BLAS would otherwise start its own thread pool inside
one task and blur the comparison: it is pinned to one thread in every worker (threadpoolctl),
and the rows say so.
"""

from __future__ import annotations

import hashlib
import random
import threading
import zlib
from functools import cache

from gilbench.workloads import Call, Knob, Need, Workload, register

MIB = 1 << 20


@cache
def _random_mib() -> bytes:
    return random.Random(7).randbytes(MIB)


@cache
def _text_mib() -> bytes:
    """1 MiB over a 17-symbol alphabet: compresses about 2:1, so deflate has real work."""
    table = bytes(b"etaoinshrdlucmfw "[i % 17] for i in range(256))
    return random.Random(11).randbytes(MIB).translate(table)


def sha256(hash_mib: int) -> str:
    """SHA-256 over ``hash_mib`` MiB, fed 1 MiB per update (one GIL release each); the hex
    digest."""
    h = hashlib.sha256()
    buf = _random_mib()
    for _ in range(hash_mib):
        h.update(buf)
    return h.hexdigest()


def compress(zlib_mib: int) -> dict:
    """zlib level 6 over ``zlib_mib`` x 1 MiB of text. Returns bytes ``in`` and ``out`` and
    the output's ``crc32``."""
    data = _text_mib()
    size, crc = 0, 0
    for _ in range(zlib_mib):
        out = zlib.compress(data, 6)
        size, crc = size + len(out), zlib.crc32(out, crc)
    return {"in": zlib_mib * len(data), "out": size, "crc32": crc}


_pin_lock = threading.Lock()
_blas_pinned = False

MATRIX_N = 256


def _pin_blas() -> None:
    """One BLAS thread in this process (pool workers call this too, on their first task)."""
    global _blas_pinned
    with _pin_lock:
        if not _blas_pinned:
            # threadpoolctl limits only the libraries already loaded: numpy (and its BLAS) first.
            import numpy  # noqa: F401
            from threadpoolctl import threadpool_info, threadpool_limits

            threadpool_limits(limits=1, user_api="blas")  # stays set: restored only on __exit__
            left = [
                i for i in threadpool_info() if i["user_api"] == "blas" and i["num_threads"] != 1
            ]
            if left:
                raise RuntimeError(
                    f"could not pin BLAS to 1 thread: {left[0]['internal_api']} "
                    f"has {left[0]['num_threads']}"
                )
            _blas_pinned = True


@cache
def _matrices():
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.standard_normal((MATRIX_N, MATRIX_N)), rng.standard_normal((MATRIX_N, MATRIX_N))


def matmul(matmuls: int) -> float:
    """``matmuls`` products of two 256 x 256 float64 matrices, on a single-threaded BLAS; the
    sum of their traces, rounded to 6 decimals. Raises RuntimeError when BLAS cannot be
    pinned to one thread (threadpoolctl)."""
    _pin_blas()
    a, b = _matrices()
    total = 0.0
    for _ in range(matmuls):
        total += float((a @ b).trace())
    return round(total, 6)


register(
    Workload(
        name="native.hashlib",
        family="native",
        summary="sha256 over 1 MiB buffers: C code that releases the GIL (buffers > 2047 bytes)",
        make_call=lambda p, s: Call(
            "gilbench.workloads.native:sha256", kwargs={"hash_mib": int(p["hash_mib"])}
        ),
        knob=Knob("hash_mib", None, "MiB hashed per task", calibrate_from=8),
    )
)

register(
    Workload(
        name="native.zlib",
        family="native",
        summary="zlib.compress of 1 MiB text buffers: C code that releases the GIL",
        make_call=lambda p, s: Call(
            "gilbench.workloads.native:compress", kwargs={"zlib_mib": int(p["zlib_mib"])}
        ),
        knob=Knob("zlib_mib", None, "MiB compressed per task", calibrate_from=1),
    )
)

register(
    Workload(
        name="native.numpy",
        family="native",
        summary="numpy matrix multiply (BLAS, pinned to 1 thread): C code that releases the GIL",
        make_call=lambda p, s: Call(
            "gilbench.workloads.native:matmul", kwargs={"matmuls": int(p["matmuls"])}
        ),
        knob=Knob(
            "matmuls", None, f"{MATRIX_N} x {MATRIX_N} matrix products per task", calibrate_from=4
        ),
        needs=(
            Need("package", "numpy", "pip install numpy==2.4.6"),
            Need("package", "threadpoolctl", "pip install threadpoolctl==3.8.0"),
        ),
        note="BLAS pinned to 1 thread per worker (threadpoolctl)",
    )
)
