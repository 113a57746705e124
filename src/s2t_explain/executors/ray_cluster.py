"""Ray (``--ray [ADDRESS]``, the optional ``[ray]`` extra): one actor per worker, on any cluster.

Each actor builds its state once (one model copy per worker). Actors are restarted by Ray when
their process dies and the task is retried there (``max_restarts``, ``max_task_retries``); results
come back to the caller, which alone writes files, so a retried task never writes twice. Where the
cluster has GPUs and ``gpus_per_worker`` is not given, the GPUs are shared out among the actors.

Start a cluster with ``ray start --head`` on one machine and ``ray start --address HEAD:6379`` on
the others, then pass ``--ray auto`` (on a cluster machine) or ``--ray HEAD:6379``; ``--ray``
alone starts a local instance.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import OptionError
from .base import EXECUTORS, Executor, ExecutorError, Setup, Task, WorkerPool


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise OptionError("Ray is not installed; pip install 's2t-explain[ray]' (or run without --ray)") from None
    return ray


def _reachable(address: str) -> None:
    """Fail in seconds, not after Ray's long retries, when a HOST:PORT address does not answer."""
    import socket

    if address == "auto" or address.startswith("ray://") or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except (OSError, ValueError) as e:
        raise ExecutorError(f"cannot reach a Ray cluster at {address}: {e}; start one with `ray start --head` "
                            "or check the address") from None


class _Actor:
    """Holds one worker's state; Ray wraps it with ``ray.remote``."""

    def __init__(self, setup: Setup, payload: Any) -> None:
        self.state = setup(payload)

    def run(self, task: Task, item: Any) -> Any:
        try:
            return task(self.state, item)
        except Exception as e:  # returned, as the other executors do (the actor stays alive)
            return e


class RayPool(WorkerPool):
    def __init__(self, setup: Setup, payload: Any, address: str | None, workers: int | None,
                 gpus_per_worker: float | None, max_restarts: int) -> None:
        ray = _ray()
        self._started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None:  # a local instance: its workers see this process's import path
                kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}}
                if workers is not None:
                    kwargs["num_cpus"] = workers
            else:
                _reachable(address)
            try:
                ray.init(address=address, **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise ExecutorError(f"cannot reach a Ray cluster at {address or 'a new local instance'}: "
                                    f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
            self._started = True
        resources = ray.cluster_resources()
        gpus = float(resources.get("GPU", 0.0))
        n = workers or int(gpus) or int(resources.get("CPU", 1)) or 1
        per_gpu = gpus_per_worker if gpus_per_worker is not None else (min(1.0, gpus / n) if gpus else 0.0)
        cpus = max(1.0, float(resources.get("CPU", 1.0)) // n) if not gpus else 1.0
        actor = ray.remote(num_cpus=cpus, num_gpus=per_gpu, max_restarts=max_restarts,
                           max_task_retries=max_restarts)(_Actor)
        # one copy in the object store, not one per actor; kept referenced here, so that an actor
        # restarted after its process died can build its state again
        self._payload = ray.put(payload)
        self.actors = [actor.remote(setup, self._payload) for _ in range(n)]
        self.width = n

    def imap_unordered(self, task: Task, items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        ray = _ray()
        queue = list(enumerate(items))[::-1]
        running: dict[Any, tuple[int, Any]] = {}  # object ref -> (index, actor)
        idle = list(self.actors)
        while queue or running:
            while queue and idle:
                index, item = queue.pop()
                who = idle.pop()
                running[who.run.remote(task, item)] = (index, who)
            ready, _ = ray.wait(list(running), num_returns=1)
            index, who = running.pop(ready[0])
            idle.append(who)
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayError as e:  # retries exhausted, or the actor is gone for good
                result = ExecutorError(f"a Ray worker failed: {str(e).splitlines()[0]}")
            yield index, result

    def close(self) -> None:
        ray = _ray()
        for a in self.actors:
            ray.kill(a)
        if self._started:
            ray.shutdown()


@EXECUTORS.register("ray")
class RayExecutor(Executor):
    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, gpus_per_worker: float | None = None,
                 max_restarts: int = 3) -> None:
        self.address, self.workers, self.gpus_per_worker, self.max_restarts = (address, workers, gpus_per_worker,
                                                                               max_restarts)

    @property
    def width(self) -> int:
        return self.workers or 0  # known once the pool is open (cluster size)

    def describe(self) -> str:
        where = self.address or "a local instance"
        return f"ray at {where} ({self.workers or 'one per CPU/GPU'} workers)"

    def open(self, setup: Setup, payload: Any) -> WorkerPool:
        return RayPool(setup, payload, self.address, self.workers, self.gpus_per_worker, self.max_restarts)
