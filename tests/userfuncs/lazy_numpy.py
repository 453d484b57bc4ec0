"""A task that imports numpy only when it runs: no check before the run can see that import."""


def total(n: int = 1000) -> int:
    import numpy as np

    return int(np.arange(n).sum())
