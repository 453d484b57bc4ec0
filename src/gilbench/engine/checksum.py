"""A trial's task results as a short hash, so results from different processes compare.

Used by the worker (a pass's results, compared with sequential's) and by the probe (two calls
of the user's function). Only the standard library: it runs in every target interpreter.

Bytes and text are hashed as they are, not through their ``repr`` in JSON: a function that
returns 300 MB took about 3 s per result that way (the JSON text of a repr is four times the
size), ten times its own call, and every trial of it timed out in the checksum (issue 14).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_BYTES_LIKE = (bytes, bytearray, memoryview)


def checksum(results: list[Any]) -> str:
    """16 hex digits of a SHA-256 over the results' digests, in order.

    A result that is bytes-like is digested from its type name and its bytes, a ``str`` from
    its UTF-8: one pass over its memory. Any other result is digested as canonical JSON (keys
    sorted; a bytes-like value inside it by its own digest, a set's items sorted by their repr,
    anything else JSON cannot hold by its repr). Equal results give equal checksums in every
    process; the values are internal to one gilbench version."""
    total = hashlib.sha256()
    for result in results:
        total.update(_digest(result))
    return total.hexdigest()[:16]


def _digest(value: Any) -> bytes:
    if isinstance(value, _BYTES_LIKE):
        h = hashlib.sha256(f"{type(value).__name__}:".encode())
        try:
            h.update(value)
        except (BufferError, TypeError, ValueError):  # a non-contiguous memoryview
            h.update(bytes(value))
        return h.digest()
    if isinstance(value, str):
        return _text_digest(b"str:", value)
    return _text_digest(b"json:", json.dumps(value, sort_keys=True, default=_canonical))


def _text_digest(tag: bytes, text: str) -> bytes:
    h = hashlib.sha256(tag)
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.digest()


def _canonical(obj: Any) -> Any:
    if isinstance(obj, _BYTES_LIKE):
        return f"{type(obj).__name__}:sha256:{_digest(obj).hex()}"
    # A set's order follows string hashing, which differs from process to process.
    if isinstance(obj, (set, frozenset)):
        return sorted(repr(x) for x in obj)
    return repr(obj)
