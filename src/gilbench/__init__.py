"""gilbench: measure how the GIL affects a workload and recommend a concurrency model."""

from gilbench._version import __version__ as __version__


def __getattr__(name: str):
    # gilbench.bench(func) without importing the engine on every ``import gilbench``: trial
    # workers import this package in interpreters that may lack the CLI's dependencies.
    if name in ("bench", "BenchResult", "BenchInputError"):
        from gilbench import userbench

        return getattr(userbench, name)
    raise AttributeError(f"module 'gilbench' has no attribute {name!r}")
