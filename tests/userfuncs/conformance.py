"""Small importable tasks for the strategy conformance tests (tests/test_strategies.py)."""


def square(x: int) -> int:
    return x * x


def identity(x):
    return x
