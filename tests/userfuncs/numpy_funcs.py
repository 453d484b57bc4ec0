"""A task whose module imports numpy at the top: numpy refuses to load in a subinterpreter."""

import numpy as np


def total(n: int = 1000) -> int:
    return int(np.arange(n).sum())
