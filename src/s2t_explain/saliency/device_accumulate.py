"""Scores accumulated where the model runs (e.g. the GPU), copied back only at reliability checks.

Every batch's scores (B, I) stay on the model's device: a :class:`DeviceAccumulator` adds them
to float64 tensors there with the same batched updates as the host :class:`Accumulator` (it
*is* one, with tensor storage), so the host does not wait for each batch to finish before it
queues the next. At each reliability check (and at the end) the engine merges its
:meth:`~DeviceAccumulator.statistics`, one device-to-host copy per statistic, into the host
accumulator and zeroes it; estimators then run on the host as before. The sums are the same
sums, so maps equal host accumulation within float rounding (a test checks this on the CPU,
where the same code runs with CPU tensors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .accumulate import Accumulator


class DeviceAccumulator(Accumulator):
    """An empty accumulator of ``host``'s family and kind whose statistics are tensors on ``device``."""

    def __init__(self, host: Accumulator, device: torch.device) -> None:  # no super(): shares host's setup
        self.__dict__.update(host.__dict__)  # family, rows, kind, overlaps (statistics are replaced below)
        self.device = torch.device(device)
        if hasattr(host, "overlap"):
            self.overlap = [self._as(o) for o in host.overlap]  # group -> (U_a, P), on the device once
        self.reset()

    def _zeros(self, *shape: int) -> torch.Tensor:
        return torch.zeros(shape, dtype=torch.float64, device=self.device)

    def _as(self, values: Any) -> torch.Tensor:
        return torch.as_tensor(values).to(self.device, torch.float64)

    def statistics(self) -> dict[str, list]:
        """The statistics as host (NumPy) arrays, ready for :meth:`Accumulator.merge`."""
        return {name: [_to_host(part) for part in value] for name, value in super().statistics().items()}

    def merge(self, statistics: dict[str, list]) -> None:
        raise TypeError("merge into the host accumulator: host.merge(device_accumulator.statistics())")

    def empty_like(self) -> DeviceAccumulator:
        other = super().empty_like()
        assert isinstance(other, DeviceAccumulator)
        return other


def _to_host(part: Any) -> Any:
    """One half's statistic: a tensor, a list of per-group tensors or counts, or kept (k, scores) pairs."""
    if isinstance(part, torch.Tensor):
        return part.cpu().numpy()
    if isinstance(part, list):
        return [(x[0], _to_host(x[1])) if isinstance(x, tuple) else _to_host(x) for x in part]
    return part  # a mask count


def staging_on(device: torch.device) -> Callable[[Accumulator], DeviceAccumulator]:
    """The engine's ``staging`` for ``device``: host accumulator -> an empty twin on the device."""
    return lambda host: DeviceAccumulator(host, device)

