"""A trial's task results as a short hash, so results from different processes compare.

Used by the worker (a pass's results, compared with sequential's) and by the probe (two calls
of the user's function). Only the standard library: it runs in every target interpreter.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def checksum(results: list[Any]) -> str:
    """16 hex digits of the SHA-256 of ``results`` as canonical JSON (keys sorted; a value
    JSON cannot hold is its ``repr``, a set's items sorted by their repr)."""
    text = json.dumps(results, sort_keys=True, default=_canonical)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _canonical(obj: Any) -> Any:
    # A set's order follows string hashing, which differs from process to process.
    if isinstance(obj, (set, frozenset)):
        return sorted(repr(x) for x in obj)
    return repr(obj)
