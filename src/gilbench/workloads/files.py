"""File I/O: write, fsync and read back files, the GIL released in every system call."""

from __future__ import annotations

import os
import random
import tempfile
from functools import cache

from gilbench.workloads import Call, Knob, Workload, register

FILE_BYTES = 64 * 1024


@cache
def _payload() -> bytes:
    return random.Random(3).randbytes(FILE_BYTES)


def write_fsync_read(files: int) -> dict:
    """Write ``files`` files of 64 KiB, fsync each, read them all back and check them.

    Everything lives in a fresh temporary directory that is removed however the task ends.
    Returns the ``files`` count and the ``bytes`` written; raises OSError when a file reads
    back different bytes (or the disk fails).
    """
    payload = _payload()
    with tempfile.TemporaryDirectory(prefix="gilbench-io-file-") as directory:
        paths = [os.path.join(directory, f"{i}.bin") for i in range(files)]
        for path in paths:
            with open(path, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
        for path in paths:
            with open(path, "rb") as f:
                if f.read() != payload:
                    raise OSError(f"{path} read back different bytes")
    return {"files": files, "bytes": files * FILE_BYTES}


register(
    Workload(
        name="io.file",
        family="io",
        summary="write, fsync and read back 64 KiB files in a temporary directory (removed always)",
        make_call=lambda p, s: Call(
            "gilbench.workloads.files:write_fsync_read", kwargs={"files": int(p["files"])}
        ),
        knob=Knob(
            "files",
            None,
            "64 KiB files written, fsynced and read back per task",
            target_s=0.25,
            calibrate_from=4,
        ),
    )
)
