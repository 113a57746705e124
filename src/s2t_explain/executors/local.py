"""Run every task in this process, one after the other (the reference the others must equal)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .base import EXECUTORS, Executor, Setup, Task, WorkerPool


class LocalPool(WorkerPool):
    width = 1

    def __init__(self, setup: Setup, payload: Any) -> None:
        self.state = setup(payload)

    def imap_unordered(self, task: Task, items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        for index, item in enumerate(items):
            try:
                yield index, task(self.state, item)
            except KeyboardInterrupt:
                raise
            except Exception as e:  # returned, as the other executors do
                yield index, e


@EXECUTORS.register("local")
class LocalExecutor(Executor):
    name = "local"

    @property
    def width(self) -> int:
        return 1

    def open(self, setup: Setup, payload: Any) -> WorkerPool:
        return LocalPool(setup, payload)
