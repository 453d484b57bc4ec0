"""A Dask distributed cluster: the same tasks as futures on ``workers`` single-threaded workers.

By default a ``LocalCluster`` of worker processes on loopback (no dashboard), which shows what
Dask's scheduling costs against a plain process pool on one machine. With the scheduler address
in ``GILBENCH_DASK_SCHEDULER`` (``tcp://host:8786``), the tasks go to that existing cluster
instead: the way to measure work that outgrows one machine. Task functions must be importable
on the workers.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from gilbench.strategies.base import StrategyBase, Traits, task_fn
from gilbench.workloads.call import Call, resolve


class Dask(StrategyBase):
    """Tasks submitted as Dask futures (``Client.map``, ``pure=False``) to a ``LocalCluster`` of
    ``workers`` one-thread processes, or to the cluster at ``GILBENCH_DASK_SCHEDULER``."""

    name = "dask"
    traits = Traits(
        shares_gil=False,
        core_bound=True,
        crosses_processes=True,
        colour="#56B4E9",
        gil_note="each Dask worker process has its own GIL",
        slow_to_start="a Dask cluster takes about 2 s to start and stop for every sample",
    )

    def __init__(self) -> None:
        self.scheduler = os.environ.get("GILBENCH_DASK_SCHEDULER")
        self.note = (
            f"existing cluster at {self.scheduler}"
            if self.scheduler
            else "LocalCluster, one thread per worker process"
        )
        self._cluster = self._client = None

    def available(self, call: Call) -> str | None:
        """Checks ``distributed`` is installed and the function is importable by the workers
        (not defined in ``__main__``)."""
        if importlib.util.find_spec("distributed") is None:
            return (
                "needs the Python packages dask and distributed; "
                "fix: pip install 'dask[distributed]'"
            )
        if getattr(resolve(call.func), "__module__", None) == "__main__":
            return "function defined in __main__: Dask workers cannot import it"
        return None

    def start(self, workers: int, call: Call) -> None:
        """Starts the cluster (or connects, 30 s timeout) and waits up to 60 s for ``workers``
        workers; work stealing is turned off."""
        import dask
        from distributed import Client, LocalCluster

        self._fn = task_fn(call)
        # Dask's adaptive memory management and work stealing would blur a fixed-size comparison.
        dask.config.set(
            {"distributed.scheduler.work-stealing": False, "logging.distributed": "error"}
        )
        if self.scheduler:
            self._client = Client(self.scheduler, timeout="30s")
        else:
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                memory_limit=0,
                silence_logs=40,
            )
            self._client = Client(self._cluster)
        self._client.wait_for_workers(workers, timeout=60)

    def run(self, call: Call, tasks: int) -> list[Any]:
        # pure=False: identical calls are separate work, not one cached result.
        futures = self._client.map(self._fn, range(tasks), pure=False)
        return self._client.gather(futures)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
