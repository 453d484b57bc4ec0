"""gilbench: measure how the GIL affects a workload and recommend a concurrency model."""

__version__ = "0.1.0"

