"""Lines from a file descriptor, one at a time, each read against a deadline.

Three readers share it: a trial's messages (``engine/runner.py``), a service's ready line
(``services/_process.py``) and the load generator's events (``weblab/loadgen.py``). Each reads
a pipe that a child process writes, and must neither block past its deadline nor lose a line
split across two reads. Only the standard library is used.
"""

from __future__ import annotations

import json
import os
import select
import time
from collections.abc import Callable
from typing import Any


class DeadlineExceeded(TimeoutError):
    """No complete line arrived before the deadline."""


class LineReader:
    """Complete lines from ``fd``; bytes after the last newline wait for the next read.

    ``poll_s`` is the longest single wait in ``select`` (seconds): between two waits
    ``on_idle`` runs, e.g. to see whether the writer has exited.
    """

    def __init__(self, fd: int, poll_s: float = 0.5) -> None:
        self.fd = fd
        self.poll_s = poll_s
        self._buffer = b""

    def readline(self, deadline: float, on_idle: Callable[[], None] | None = None) -> bytes | None:
        """The next line without its newline, or None at end of file (the writer closed it).

        ``deadline`` is a ``time.monotonic()`` value. A line already buffered is returned even
        past the deadline. Raises :class:`DeadlineExceeded` when none is complete by then;
        ``on_idle`` may raise to stop waiting early.
        """
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeadlineExceeded(f"no complete line within the deadline from fd {self.fd}")
            ready, _, _ = select.select([self.fd], [], [], min(left, self.poll_s))
            if not ready:
                if on_idle is not None:
                    on_idle()
                continue
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def read_json(self, deadline: float, prefix: str = "") -> Any | None:
        """The JSON value on the next line that starts with ``prefix`` (other lines are
        skipped), or None at end of file. Raises :class:`DeadlineExceeded` as ``readline``,
        ValueError when such a line is not JSON."""
        while True:
            line = self.readline(deadline)
            if line is None:
                return None
            text = line.decode(errors="replace")
            if text.startswith(prefix):
                return json.loads(text[len(prefix) :])
