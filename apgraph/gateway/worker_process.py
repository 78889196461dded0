"""Work that would stall the event loop, run in a worker process instead.

A thread does not help with CPU-bound Python: it holds the interpreter lock, and every
other request waits for it (an importMasterData upload of a million duplicate rows stalled
other users' queries for seconds). A spawned process has its own interpreter. One runs at a
time, so concurrent heavy uploads queue rather than multiply memory, and each call gets a
fresh process, so the memory a large upload needed is returned when it is done. The worker
runs at a lower CPU priority, so on a busy machine the server's own process comes first.
"""

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
NICENESS = 10  # added to the worker's nice value: the server answers first


def _lower_priority() -> None:
    os.nice(NICENESS)


class WorkerProcess:
    """The `Isolated` port (services/ports/master_data.py) of a running server."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def __call__(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Blocks the calling thread (never the event loop's: callers use to_thread)."""
        try:
            return self._executor().submit(function, *args, **kwargs).result()
        except BrokenProcessPool:
            self._discard()  # the worker died (killed for memory, say): the next call respawns
            raise

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    max_tasks_per_child=1,
                    initializer=_lower_priority,
                )
            return self._pool

    def _discard(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
