"""Estimators: turn accumulated sums into a map over the explained elements, shape (I, *elements).

``mean`` (the paper's): for every element, the mean score over the masks that occluded it,
pooling all groups (granularities); 0 where never occluded.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..registry import Registry
from .accumulate import Accumulator

# (accumulator, halves to use) -> map (I, *element_shape)
Estimator = Callable[[Accumulator, tuple[int, ...]], np.ndarray]
ESTIMATORS: Registry[Estimator] = Registry("estimator")


@ESTIMATORS.register("mean")
def occlusion_mean(acc: Accumulator, halves: tuple[int, ...] = (0, 1)) -> np.ndarray:
    shape = acc.family.element_shape
    num = np.zeros((acc.n_rows, *shape))
    den = np.zeros(shape)
    for g, group in enumerate(acc.family.groups):
        sums = np.sum([acc.sums[h][g] for h in halves], axis=0)  # (I, U)
        counts = np.sum([acc.counts[h][g] for h in halves], axis=0)  # (U,)
        num += sums[:, group.labels]
        den += counts[group.labels]
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)
