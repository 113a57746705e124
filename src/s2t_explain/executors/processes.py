"""Local worker processes (``--workers N``): each builds its state once, then takes tasks.

Processes are started with ``spawn`` (safe with torch and threads), and torch's thread count is
split between them. A worker that dies (killed, out of memory) breaks the pool: it is restarted
and the unfinished tasks are run again, at most ``max_restarts`` times, so every item's result
comes back exactly once.

How many workers a machine can hold is checked before any starts: at most one per CPU this
process may use, and at most as many model copies as the available memory holds (each worker is
a Python with torch, about ``WORKER_RUNTIME_BYTES``, plus its model's weights twice: the copy and
the activations and accumulators of its work; measured: 560 MB per whisper-tiny.en worker).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ..errors import OptionError
from .base import EXECUTORS, Executor, ExecutorError, Setup, Task, WorkerPool

_STATE: Any = None  # the worker process's state, built by _start
WORKER_RUNTIME_BYTES = 300 * 2**20  # (measured) a spawned worker with torch and this package imported: 285 MB


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes of memory new processes can take: MemAvailable, capped by a cgroup (v2) limit; None
    where neither can be read."""
    free = None
    try:
        with open("/proc/meminfo") as f:
            free = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            left = int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text())
            free = left if free is None else min(free, left)
    except (OSError, ValueError):
        pass
    return free


def check_workers(workers: int, model: Any = None, cpus: int | None = None, memory: int | None = None) -> None:
    """Raise :class:`OptionError` (one line) when ``workers`` processes, each holding a copy of
    ``model``, are more than this machine runs: more than its CPUs, or more copies than its free
    memory holds. ``cpus`` and ``memory`` (bytes) default to this machine's."""
    cpus = usable_cpus() if cpus is None else cpus
    if workers > cpus:
        raise OptionError(f"{workers} worker processes are more than the {cpus} CPUs this process may use; "
                          f"use at most {cpus}")
    weights = model.weight_bytes() if hasattr(model, "weight_bytes") else None
    memory = available_memory() if memory is None else memory
    if weights is None or memory is None:
        return
    each = WORKER_RUNTIME_BYTES + 2 * weights
    if workers * each > memory:
        fits = memory // each
        advice = f"use at most {fits}" if fits else "run in this process"
        raise OptionError(f"{workers} workers would need about {workers * each / 2**30:.1f} GB ({each / 2**30:.2f} GB "
                          f"each for a copy of {getattr(model, 'name', 'the model')}), but {memory / 2**30:.1f} GB "
                          f"is available; {advice}")


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
        self._args = (setup, payload, max(1, usable_cpus() // workers))
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
        check_workers(workers)  # the CPU bound, before a model is loaded; memory is checked at open()
        self.workers, self.max_restarts = workers, max_restarts

    @property
    def width(self) -> int:
        return self.workers

    def open(self, setup: Setup, payload: Any) -> WorkerPool:
        check_workers(self.workers, payload.get("model") if isinstance(payload, dict) else None)
        return ProcessPool(setup, payload, self.workers, self.max_restarts)
