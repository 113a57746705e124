"""Online accumulation of perturbation scores; memory does not grow with the number of masks.

For every group of a mask family and each of two halves, we keep
  sums   (I, U): sum over masks of score_i x occluded_u,
  counts (U,)  : how many masks occluded unit u,
  totals (I,)  : sum of scores, and n: number of masks,
so estimators can combine groups (granularities) and the two halves give split-half reliability.
With ``second_order`` (for the regression estimator) every mask is also described in *all*
groups' units at once: feature (g', u') = the fraction of unit u' of group g' that the mask
occludes (exact, via the overlap of the partitions), P = sum of all groups' units. Per half we
keep the sums of these features, their Gram matrix (P, P) and their cross-products with the
scores (P, I); memory is P^2 per half, still independent of the number of masks.
With ``keep_scores`` (for the robust estimator, which reweights masks and so cannot use fixed
sums) the mask indices and their scores are kept instead, (N, I) floats; features are
regenerated from the seeded masks when the estimator runs.
Mask k goes to half (k // (2 G)) mod 2 (G groups): each half sees every group equally often and
antithetic pairs (k, k - G) stay in the same half.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..errors import OptionError
from .masks import MaskFamily

MAX_JOINT_UNITS = 3000  # P^2 doubles per half: 72 MB each at this size


def _block_laplacian(family: MaskFamily) -> np.ndarray:
    """Graph Laplacian (P, P) of unit adjacency (units touching along any element axis), per group."""
    blocks = []
    for group in family.groups:
        adjacency = np.zeros((group.n_units, group.n_units))
        labels = group.labels
        for axis in range(labels.ndim):
            a = np.moveaxis(labels, axis, 0)[1:].ravel()
            b = np.moveaxis(labels, axis, 0)[:-1].ravel()
            differ = a != b
            adjacency[a[differ], b[differ]] = 1.0
            adjacency[b[differ], a[differ]] = 1.0
        blocks.append(np.diag(adjacency.sum(axis=1)) - adjacency)
    size = sum(b.shape[0] for b in blocks)
    out = np.zeros((size, size))
    offset = 0
    for b in blocks:
        out[offset : offset + len(b), offset : offset + len(b)] = b
        offset += len(b)
    return out


def _overlaps(family: MaskFamily, a: int) -> np.ndarray:
    """(U_a, P): share of each unit of every group covered by each unit of group a."""
    source = family.groups[a].labels.ravel()
    blocks = []
    for group in family.groups:
        target = group.labels.ravel()
        counts = np.zeros((family.groups[a].n_units, group.n_units))
        np.add.at(counts, (source, target), 1.0)
        blocks.append(counts / np.maximum(counts.sum(axis=0, keepdims=True), 1.0))
    return np.concatenate(blocks, axis=1)


class Accumulator:
    def __init__(self, family: MaskFamily, n_rows: int, second_order: bool = False,
                 keep_scores: bool = False) -> None:
        self.family = family
        self.n_rows = n_rows
        self.second_order = second_order
        self.keep_scores = keep_scores
        g = family.groups
        self.n_joint = sum(x.n_units for x in g)  # P: units of all groups
        if second_order or keep_scores:  # both describe masks in all groups' units
            if self.n_joint > MAX_JOINT_UNITS:  # checked before allocating anything of size P^2
                raise OptionError(
                    f"the regression estimators support at most {MAX_JOINT_UNITS} units over all groups, "
                    f"got {self.n_joint}; use coarser granularities or the mean estimator"
                )
            self.overlap: list[Any] = [_overlaps(family, a) for a in range(len(g))]  # group -> (U_a, P)
            self._laplacian: np.ndarray | None = None
        self.reset()

    def reset(self) -> None:
        """Set every accumulated statistic to its empty value."""
        g, p, rows, z = self.family.groups, self.n_joint, self.n_rows, self._zeros
        self.kept: list[list[tuple[int, Any]]] = [[], []]  # per half: (mask index, scores (I,))
        if self.second_order:
            self.feature_sum = [z(p) for _ in range(2)]
            self.gram = [z(p, p) for _ in range(2)]
            self.cross = [z(p, rows) for _ in range(2)]
        self.sums = [[z(rows, x.n_units) for x in g] for _ in range(2)]
        self.counts = [[z(x.n_units) for x in g] for _ in range(2)]
        self.totals = [[z(rows) for _ in g] for _ in range(2)]
        self.n = [[0 for _ in g] for _ in range(2)]

    # Storage hooks: NumPy float64 here; DeviceAccumulator keeps the same statistics as tensors.
    def _zeros(self, *shape: int) -> Any:
        return np.zeros(shape)

    def _as(self, values: Any) -> Any:
        """``values`` as a float64 array of this accumulator's storage."""
        return np.asarray(values, dtype=np.float64)

    STATISTICS = ("sums", "counts", "totals", "n", "feature_sum", "gram", "cross", "kept")

    def statistics(self) -> dict[str, list]:
        """The accumulated statistics alone (what a worker sends back; no family, no overlaps)."""
        return {name: getattr(self, name) for name in self.STATISTICS if hasattr(self, name)}

    def merge(self, statistics: dict[str, list]) -> None:
        """Add another accumulator's :meth:`statistics` over the same family (disjoint masks): sums
        add, so masks split over workers give the statistics of one run over all of them."""
        for name, theirs in statistics.items():
            ours = getattr(self, name)
            for h in range(2):
                if name == "kept":
                    ours[h].extend(theirs[h])
                elif isinstance(ours[h], list):  # per group
                    for g in range(len(ours[h])):
                        ours[h][g] = ours[h][g] + theirs[h][g]
                else:
                    ours[h] = ours[h] + theirs[h]

    def empty_like(self) -> Accumulator:
        """A zeroed accumulator of the same family and kind, sharing the (costly) overlap matrices."""
        other = copy.copy(self)  # shallow: the family, overlaps and Laplacian are shared
        other.reset()
        return other

    def half_of(self, k: int) -> int:
        return (k // (2 * len(self.family.groups))) % 2

    def add(self, ks: list[int], scores: Any) -> None:
        """Add masks ``ks`` with their scores (B, I): one row per mask, one column per explained token.
        Masks of one (half, group) go in together: sums += scores^T @ occluded, (I, B) @ (B, U)."""
        if tuple(scores.shape) != (len(ks), self.n_rows):
            raise ValueError(f"scores for {len(ks)} masks must have shape (B, I) = {(len(ks), self.n_rows)}, "
                             f"got {tuple(scores.shape)}")
        scores = self._as(scores)
        keys = [(self.half_of(k), self.family.group_of(k)) for k in ks]
        for h, g in sorted(set(keys)):
            at = [i for i, key in enumerate(keys) if key == (h, g)]
            s = scores[at]  # (n, I)
            occluded = self._as(np.stack([self.family.unit_mask(ks[i]) for i in at]))  # (n, U) 0/1
            self.sums[h][g] += s.T @ occluded
            self.counts[h][g] += occluded.sum(0)
            self.totals[h][g] += s.sum(0)
            self.n[h][g] += len(at)
            if self.keep_scores:
                self.kept[h].extend((ks[i], row) for i, row in zip(at, s))
            if self.second_order:
                x = occluded @ self.overlap[g]  # (n, P) occluded fractions of every group's units
                self.feature_sum[h] += x.sum(0)
                self.gram[h] += x.T @ x
                self.cross[h] += x.T @ s

    def features(self, ks: list[int]) -> np.ndarray:
        """(len(ks), P): every group's occluded unit fractions for masks ``ks`` (regenerated from the seed)."""
        return np.stack([self.family.unit_mask(k).astype(np.float64) @ self.overlap[self.family.group_of(k)]
                         for k in ks])

    @property
    def laplacian(self) -> np.ndarray:
        """(P, P) graph Laplacian of neighbouring units within each group (built on first use)."""
        if self._laplacian is None:
            self._laplacian = _block_laplacian(self.family)
        return self._laplacian

    @property
    def n_masks(self) -> int:
        return sum(sum(x) for x in self.n)
