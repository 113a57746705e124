"""Online accumulation of perturbation scores; memory does not grow with the number of masks.

For every group of a mask family and each of two halves, we keep
  sums   (I, U): sum over masks of score_i x occluded_u,
  counts (U,)  : how many masks occluded unit u,
  totals (I,)  : sum of scores, and n: number of masks,
so estimators can combine groups (granularities) and the two halves give split-half reliability.
Mask k goes to half (k // (2 G)) mod 2 (G groups): each half sees every group equally often and
antithetic pairs (k, k - G) stay in the same half.
"""

from __future__ import annotations

import numpy as np

from .masks import MaskFamily


class Accumulator:
    def __init__(self, family: MaskFamily, n_rows: int) -> None:
        self.family = family
        self.n_rows = n_rows
        g = family.groups
        self.sums = [[np.zeros((n_rows, x.n_units)) for x in g] for _ in range(2)]
        self.counts = [[np.zeros(x.n_units) for x in g] for _ in range(2)]
        self.totals = [[np.zeros(n_rows) for _ in g] for _ in range(2)]
        self.n = [[0 for _ in g] for _ in range(2)]

    def half_of(self, k: int) -> int:
        return (k // (2 * len(self.family.groups))) % 2

    def add(self, ks: list[int], scores: np.ndarray) -> None:
        """Add masks ``ks`` with their scores (B, I)."""
        for k, s in zip(ks, scores):
            h, g = self.half_of(k), self.family.group_of(k)
            occluded = self.family.unit_mask(k)
            self.sums[h][g] += s[:, None] * occluded[None, :]
            self.counts[h][g] += occluded
            self.totals[h][g] += s
            self.n[h][g] += 1

    @property
    def n_masks(self) -> int:
        return sum(sum(x) for x in self.n)
