"""The user-facing error: bad input, exit code 2, one line, no traceback."""


class UsageError(ValueError):
    pass
