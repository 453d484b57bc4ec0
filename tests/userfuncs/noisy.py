"""The four inputs of issue 13: functions whose verdict a noisy machine used to get wrong.

Each is a zero-argument ``task()`` as a user would write it (``gilbench bench
noisy:sqlite_cte --workers 2 --tasks 4``). Sizes are the issue's unless ``GILBENCH_NOISY_SCALE``
(a float, default 1) shrinks them for the test suite.

- ``sqlite_cte``: an in-memory SQLite recursive CTE (SQLite runs with the GIL released), ~0.3 s.
- ``numpy_rescale``: ``base * 2.0 - 1.0`` on a 64 MB array, returning the new array, ~15 ms.
- ``ransac``: a RANSAC plane fit over 400,000 points, 40 iterations, seeded, ~0.15 s.
- ``decode_doubles``: 3 million doubles from bytes into a list, returned (large results).
"""

from __future__ import annotations

import os
import sqlite3
import struct

import numpy as np

SCALE = float(os.environ.get("GILBENCH_NOISY_SCALE", "1"))

CTE_N = max(1000, int(1_500_000 * SCALE))
RESCALE_N = max(1000, int(8_000_000 * SCALE))
RANSAC_POINTS = max(1000, int(400_000 * SCALE))
RANSAC_ITERATIONS = 40
DOUBLES_N = max(1000, int(3_000_000 * SCALE))

base = np.linspace(0.0, 1.0, RESCALE_N)
_rng = np.random.default_rng(7)
points = _rng.normal(size=(RANSAC_POINTS, 3))
points[:, 2] = 0.3 * points[:, 0] - 0.2 * points[:, 1] + 0.01 * points[:, 2]
px, py, pz = (np.ascontiguousarray(points[:, i]) for i in range(3))
encoded = np.arange(DOUBLES_N, dtype="<f8").tobytes()


def sqlite_cte() -> int:
    """sum(x % 7) over 1..CTE_N, counted by a recursive CTE in an in-memory SQLite."""
    with sqlite3.connect(":memory:") as db:
        query = (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ?) "
            "SELECT sum(x % 7) FROM c"
        )
        return db.execute(query, (CTE_N,)).fetchone()[0]


def numpy_rescale() -> np.ndarray:
    """``base * 2.0 - 1.0``: a new array the size of ``base`` (64 MB at full size)."""
    return base * 2.0 - 1.0


def ransac() -> int:
    """Inliers of the best of 40 planes through 3 random points (seeded), distance < 0.05."""
    rng = np.random.default_rng(1)
    best = 0
    for _ in range(RANSAC_ITERATIONS):
        a, b, c = points[rng.choice(RANSAC_POINTS, 3, replace=False)]
        normal = np.cross(b - a, c - a)
        norm = np.linalg.norm(normal)
        if norm == 0:
            continue
        nx, ny, nz = normal / norm
        distance = np.abs(nx * (px - a[0]) + ny * (py - a[1]) + nz * (pz - a[2]))
        best = max(best, int((distance < 0.05).sum()))
    return best


def decode_doubles() -> list[float]:
    """DOUBLES_N little-endian doubles decoded from bytes into a Python list."""
    return list(struct.unpack(f"<{DOUBLES_N}d", encoded))
