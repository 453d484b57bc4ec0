"""Functions that leak a process on every call: the child runs in a session of its own, so
ending the trial's process group does not reach it (issue 14)."""

import os
import subprocess
import time


def func() -> int:
    """Start ``sleep 300`` in a new session and return without waiting for it."""
    subprocess.Popen(["sleep", "300"], start_new_session=True)
    return 1


def func_clean_env() -> int:
    """Leak ``sleep 299`` with an environment of its own: no tag inherited from the trial."""
    subprocess.Popen(["sleep", "299"], start_new_session=True, env={"PATH": "/usr/bin:/bin"})
    return 1


def leak_then_hang() -> int:
    """Leak a process, then never return: the trial times out with its worker alive."""
    subprocess.Popen(["sleep", "300"], start_new_session=True)
    time.sleep(3600)
    return 1


def leak_then_exit() -> int:
    """Leak a process, then end the worker: only the trial's tag can find the process."""
    subprocess.Popen(["sleep", "300"], start_new_session=True)
    os._exit(3)
