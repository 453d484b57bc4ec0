"""Files written so that a reader never sees half of one: a temporary file in the same
directory, then ``os.replace`` (atomic on POSIX). Used for results documents, reports, venv
manifests and caches, so Ctrl-C or a crash mid-write leaves the previous whole file or none.

Only the standard library is used: strategies call this inside target interpreters.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """gilbench's cache (venvs, built interpreters, feasibility answers):
    ``$GILBENCH_CACHE_DIR``, else the user cache (``$XDG_CACHE_HOME`` or ``~/.cache``) +
    ``gilbench``. Only the path: the directory may not exist yet."""
    explicit = os.environ.get("GILBENCH_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gilbench"


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one step. Raises OSError when the directory
    is missing or not writable; the temporary file is removed on any failure."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".gilbench-", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600: give the mode open() would
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomic(path: str | os.PathLike, data: Any, indent: int | None = 2) -> None:
    """Replace ``path`` with ``data`` as JSON (a trailing newline), in one step (see above)."""
    write_text_atomic(path, json.dumps(data, indent=indent) + "\n")


def check_writable(path: str) -> str | None:
    """Why ``path`` cannot be written (one line for the user), or None."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        return f"{path} is a directory"
    if not os.path.isdir(directory):
        return f"directory {directory} does not exist"
    try:
        fd, tmp = tempfile.mkstemp(prefix=".gilbench-probe-", dir=directory)
    except OSError as exc:
        return f"cannot write in {directory}: {exc.strerror}"
    os.close(fd)
    os.unlink(tmp)
    return None
