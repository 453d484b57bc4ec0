"""Hash a file with SHA-256, reading it in 1 MiB chunks.

Reading and hashing both run in C with the GIL released (hashlib does so for buffers over
2 KiB), so threads can use every core. Bench it:

    gilbench bench hashing:sha256_file --setup hashing:sample_file
"""

import hashlib
import os
import tempfile

CHUNK = 1 << 20


def sha256_file(path: str) -> str:
    """The SHA-256 hex digest of the file at ``path``. Raises OSError when it cannot be read."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sample_file(size_mb: int = 16) -> dict:
    """Setup: a file of ``size_mb`` MiB of fixed bytes (made once, then reused)."""
    path = os.path.join(tempfile.gettempdir(), f"gilbench-example-{size_mb}mb.bin")
    if not os.path.exists(path) or os.path.getsize(path) != size_mb * CHUNK:
        block = hashlib.sha256(b"gilbench").digest() * (CHUNK // 32)
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "wb") as f:
            for _ in range(size_mb):
                f.write(block)
        os.replace(tmp, path)
    return {"path": path}
