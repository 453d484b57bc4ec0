"""User functions for the free-threaded tests (tests/test_freethreaded.py): shared state updated
with and without a lock, and CPU work through a C extension compiled by the test.

Standard library only: they run in the free-threaded interpreter's worker.
"""

import importlib
import threading

# Rebound, never mutated: ``_seen = _seen | {token}`` reads the set, builds a new one and binds
# it, so two threads doing it at once keep only one of their additions (a lost write).
_seen: frozenset = frozenset()
_lock = threading.Lock()
# A stale rebind can also bring back tokens their callers had removed; they would pile up and
# make every copy slower. Under the lock the set never holds more than one token.
_MOST = 8


def _add_check_remove(token: object) -> bool:
    """Add ``token`` to ``_seen``, see whether it is there, remove it: True unless another
    thread's rebind in between lost the addition."""
    global _seen
    if len(_seen) > _MOST:  # tokens brought back by stale rebinds: drop them
        _seen = frozenset()
    _seen = _seen | {token}
    kept = token in _seen
    _seen = _seen - {token}
    return kept


def seen_racy(n: int = 20_000) -> int:
    """How many of this call's ``n`` tokens were still there right after it added them, with no
    lock: always ``n`` run alone, fewer when another thread updates ``_seen`` at the same time
    (without the GIL and with two threads on two cores, some in practically every call)."""
    # object() is unique while referenced: no other call can hold an equal token
    return sum(_add_check_remove(object()) for _ in range(n))


def seen_locked(n: int = 20_000) -> int:
    """:func:`seen_racy` with each add-check-remove under a lock: ``n``, however the threads
    interleave."""
    kept = 0
    for _ in range(n):
        with _lock:
            kept += _add_check_remove(object())
    return kept


def with_extension(module: str, n: int = 200_000) -> int:
    """Import the extension ``module`` (on the first call, as a lazy import in user code would)
    and spin its C loop ``n`` times plus a Python loop of ``n // 10``; a number that depends
    only on ``n``."""
    ext = importlib.import_module(module)
    total = 0
    for i in range(n // 10):
        total += i % 7
    return ext.spin(n) ^ total
