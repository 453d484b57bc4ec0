"""The user-facing error: bad input, exit code 2, one line, no traceback."""


class UsageError(ValueError):
    """Bad input from the user; the CLI prints ``str(exc)`` as one line and exits 2."""
