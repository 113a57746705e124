"""The executor interface: worker pools that hold a state and map functions over items."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import OptionError, S2TError
from ..registry import Registry

# setup(payload) -> the worker's state; task(state, item) -> result. Both must be picklable
# (module-level functions) for the process and Ray executors.
Setup = Callable[[Any], Any]
Task = Callable[[Any, Any], Any]


class ExecutorError(S2TError):
    """Workers could not be started, or kept dying."""


class WorkerPool(ABC):
    """Workers that each hold ``setup(payload)``; ``width`` tasks run at once."""

    width: int

    @abstractmethod
    def imap_unordered(self, task: Task, items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """(index, result) as tasks finish; a task's exception is returned as its result, not raised.

        A worker that dies is replaced and its task run again (a bounded number of times), so every
        item comes back exactly once.
        """

    def map(self, task: Task, items: Sequence[Any]) -> list[Any]:
        """Results in the order of ``items``; the first task exception is raised."""
        out: list[Any] = [None] * len(items)
        for index, result in self.imap_unordered(task, items):
            out[index] = result
        for result in out:
            if isinstance(result, BaseException):
                raise result
        return out

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Stop the workers."""

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Executor(ABC):
    """A way to run work: ``open(setup, payload)`` starts the workers."""

    name: str

    @abstractmethod
    def open(self, setup: Setup, payload: Any) -> WorkerPool: ...

    @property
    @abstractmethod
    def width(self) -> int:
        """How many tasks run at once."""

    def describe(self) -> str:
        return f"{self.name} ({self.width} at once)"


EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor")  # name -> Executor class
list_executors = EXECUTORS.names


def executor_for(workers: int | None = None, ray: str | bool | None = None) -> Executor | None:
    """The executor the CLI's ``--workers N`` / ``--ray [ADDRESS]`` ask for; None = run in this process.

    ``ray``: True (or "") starts a local Ray instance, "auto" joins the cluster this machine belongs
    to, "HOST:PORT" or "ray://HOST:PORT" joins that one; ``workers`` is then the number of actors
    (default: one per CPU, or per GPU where the cluster has GPUs).
    """
    if workers is not None and workers < 1:
        raise OptionError(f"workers must be >= 1, got {workers}")
    if ray is not None and ray is not False:
        return EXECUTORS.get("ray")(address=None if ray in (True, "") else str(ray), workers=workers)
    if workers is None or workers == 1:
        return None
    return EXECUTORS.get("workers")(workers=workers)
