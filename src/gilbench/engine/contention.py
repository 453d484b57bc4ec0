"""GIL contention, measured inside a trial's worker process around each timed pass.

gilknocker (https://github.com/milesgranger/gilknocker) runs a native thread that asks for the
GIL every ``POLL_US`` and adds up how long each request waited; the metric is the share of its
sampling time spent waiting, 0..1. Dask's system monitor uses it the same way, with a 1 ms poll.

The same numbers also say how long the GIL is held in one stretch. A knock waits, on average,
``poll * c / (1 - c)`` (c = the metric). Pure-Python code hands the GIL over every switch interval
(5 ms), so that wait stays near 5 ms; a C call that holds the GIL makes the knock wait for the
whole call. Measured on this project's 2-core machine (one thread, 0.4 s):

    pure-Python loop          c 0.83   wait ~5 ms
    20,000 small json.dumps   c 0.83   wait ~5 ms    (many short C calls behave like Python)
    json.dumps of 100k dicts  c 0.99   wait ~130 ms  (one 140 ms call)
    re.findall on 16 MB       c 0.997  wait ~370 ms  (one 400 ms call)
    sha256 / zlib / sqlite /  c <0.01                (the C code releases the GIL)
      Pillow resize, sleep

Only the standard library and (optionally) gilknocker are used: this runs in any target
interpreter.
"""

from __future__ import annotations

import sys
import time

PIN = "gilknocker==0.4.2"
POLL_US = 1000  # knock every 1 ms, as Dask's system monitor does
# gilknocker publishes its metric only when a sampling routine ends (each routine is a new OS
# thread), and checks for finished routines every SLEEPING_US. Routines of 20 ms let a pass of a
# few tens of milliseconds be measured; shorter ones, or checking more often, cost more CPU
# (measured on cpu.count: 10 ms routines checked every 0.5 ms ~4% CPU, these ~2%).
SAMPLING_US = 20_000
SLEEPING_US = 2_000
# Below this a pass may end before any sampling routine has: no number rather than a wrong 0.
MIN_PASS_S = 0.04
PUBLISH_WAIT_S = 0.05
NO_GIL = "no GIL in this interpreter"


def hold_ms(contention: float) -> float:
    """Mean wait of one knock, in ms: how long the GIL is typically held in one stretch."""
    c = min(contention, 0.9999)
    return POLL_US / 1000 * c / (1 - c)


def unmeasurable(strategy: str) -> str | None:
    """Why GIL contention means nothing or cannot be measured for this trial, else None."""
    from gilbench.strategies import gil_unmeasurable

    if why := gil_unmeasurable(strategy):  # its workers do not share one GIL (Traits.shares_gil)
        return why
    from gilbench.engine.freethreading import gil_enabled, is_free_threaded_build

    if not gil_enabled():
        return NO_GIL
    try:
        import gilknocker  # noqa: F401
    except ImportError:
        if is_free_threaded_build():  # the GIL forced on (PYTHON_GIL=1) or turned back on
            return (
                f"gilknocker is not installed here ({PIN} has no free-threaded wheel and "
                f"building it needs Rust and network access); fix: {sys.executable} -m pip "
                f"install {PIN} where it can be built"
            )
        return f"gilknocker is not installed here; fix: {sys.executable} -m pip install {PIN}"
    return None


class Probe:
    """One gilknocker knocker per worker process: ``begin()`` before a timed pass, ``read()``
    right after, ``close()`` at exit. ``reason`` is why nothing is measured, else None."""

    def __init__(self, strategy: str, enabled: bool = True):
        self.strategy = strategy
        self.reason = unmeasurable(strategy) if enabled else "turned off"
        self._knocker = None

    def begin(self) -> None:
        """Start gilknocker's ``KnockKnock`` (first pass) or reset its metric; no-op when
        ``reason`` says contention is not measured. A free-threaded build's GIL turned back on
        since (an import in the warm-up) is measured like any GIL. Raises ImportError if
        gilknocker vanished."""
        if self.reason == NO_GIL:
            self.reason = unmeasurable(self.strategy)
        if self.reason:
            return
        if self._knocker is None:
            from gilknocker import KnockKnock

            self._knocker = KnockKnock(
                polling_interval_micros=POLL_US,
                sampling_interval_micros=SAMPLING_US,
                sleeping_interval_micros=SLEEPING_US,
            )
            self._knocker.start()
        else:
            self._knocker.reset_contention_metric()

    def read(self, pass_s: float) -> dict:
        """The sample's ``gil_contention`` (0..1) and ``gil_hold_ms`` (ms) after a pass of
        ``pass_s`` seconds; both None when not measured, with the cause set in ``reason``."""
        if self._knocker is None:
            return {"gil_contention": None, "gil_hold_ms": None}
        if pass_s < MIN_PASS_S:
            self.reason = (
                f"pass too short to sample ({pass_s * 1000:.0f} ms < {MIN_PASS_S * 1000:.0f} ms)"
            )
            return {"gil_contention": None, "gil_hold_ms": None}
        c = float(self._knocker.contention_metric)
        # Exactly 0 means no sampling routine has been published yet: one long call kept its knock
        # waiting to the end of the pass. That routine ends as soon as the GIL is free; wait for it.
        deadline = time.monotonic() + PUBLISH_WAIT_S
        while c == 0.0 and time.monotonic() < deadline:
            time.sleep(0.001)
            c = float(self._knocker.contention_metric)
        if c == 0.0:
            self.reason = "no sampling routine finished during the pass"
            return {"gil_contention": None, "gil_hold_ms": None}
        return {"gil_contention": round(c, 4), "gil_hold_ms": round(hold_ms(c), 2)}

    def close(self) -> None:
        """Stop the knocker and wait ~26 ms for its last sampling thread; idempotent."""
        # stop() can take 100 ms; the worker calls this after its last message, so nobody waits.
        if self._knocker is not None:
            self._knocker.stop()
            self._knocker = None
            # stop() leaves the current sampling routine's thread running until the routine ends.
            # Were the interpreter to exit first, that thread's next knock would abort the process
            # ("FATAL: exception not rethrown"): give it the time to finish, GIL released.
            time.sleep((SAMPLING_US + 6 * POLL_US) / 1e6)
