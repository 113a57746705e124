"""Executors: where independent work runs — in this process, in local worker processes, or on Ray.

Each worker builds its state once (a model copy, or one utterance's saliency job) from a payload,
then runs many small tasks against it: mask segments of one utterance (``saliency``), or whole
utterances (``study``). A new backend is one registered :class:`Executor` class.
"""

from .base import EXECUTORS, Executor, ExecutorError, WorkerPool, executor_for, list_executors
from .local import LocalExecutor
from .processes import ProcessExecutor
from .ray_cluster import RayExecutor

__all__ = ["EXECUTORS", "Executor", "ExecutorError", "LocalExecutor", "ProcessExecutor", "RayExecutor", "WorkerPool",
           "executor_for", "list_executors"]
