"""Local worker processes (``--workers N``): each builds its state once, then takes tasks.

Processes are started with ``spawn`` (safe with torch and threads), and torch's thread count is
split between them. A worker that dies (killed, out of memory) breaks the pool: it is restarted
and the unfinished tasks are run again, at most ``max_restarts`` times, so every item's result
comes back exactly once.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .base import EXECUTORS, Executor, ExecutorError, Setup, Task, WorkerPool

_STATE: Any = None  # the worker process's state, built by _start


def _start(setup: Setup, payload: Any, threads: int) -> None:
    global _STATE
    import torch

    torch.set_num_threads(threads)
    _STATE = setup(payload)


def _run(task: Task, item: Any) -> Any:
    return task(_STATE, item)


class ProcessPool(WorkerPool):
    def __init__(self, setup: Setup, payload: Any, workers: int, max_restarts: int) -> None:
        self.width, self.max_restarts = workers, max_restarts
        self._args = (setup, payload, max(1, (os.cpu_count() or 1) // workers))
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.width, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start, initargs=self._args)

    def imap_unordered(self, task: Task, items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        pending = dict(enumerate(items))
        restarts = 0
        while pending:
            futures: dict[Future, int] = {self._pool.submit(_run, task, item): i for i, item in pending.items()}
            try:
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in done:
                        index = futures.pop(future)
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            raise
                        except Exception as e:  # the task's own error: its result
                            result = e
                        del pending[index]
                        yield index, result
            except BrokenProcessPool as e:
                restarts += 1
                self._pool.shutdown(wait=False, cancel_futures=True)
                if restarts > self.max_restarts:
                    raise ExecutorError(f"worker processes died {restarts} times ({e}); "
                                        "check memory, or use fewer workers") from None
                self._pool = self._new_pool()  # unfinished items are submitted again

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@EXECUTORS.register("workers")
class ProcessExecutor(Executor):
    name = "workers"

    def __init__(self, workers: int = 2, max_restarts: int = 3) -> None:
        self.workers, self.max_restarts = workers, max_restarts

    @property
    def width(self) -> int:
        return self.workers

    def open(self, setup: Setup, payload: Any) -> WorkerPool:
        return ProcessPool(setup, payload, self.workers, self.max_restarts)
