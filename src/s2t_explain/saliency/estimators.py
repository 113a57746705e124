"""Estimators: turn accumulated sums into a map over the explained elements, shape (I, *elements).

``mean`` (the paper's): for every element, the mean score over the masks that occluded it,
pooling all groups (granularities); 0 where never occluded.

``regression`` (ours): one ridge least-squares fit over all masks of all groups, of the scores
on the occluded fraction of every unit of every group (granularities share strength: each mask
informs every granularity's units through their overlaps, instead of only its own group's
1 / G of the masks); an element's value is the sum of its units' effects. Fitting the effects
jointly also removes the variance that other occluded units add to the mean estimator.

``regression-smooth`` (ours): the same fit with a graph-Laplacian penalty that pulls the effects
of touching units together (sharing strength across neighbouring segments): much less variance
for some bias (measured agreement with the paper's estimator in the README).

``regression-robust`` (ours): ``regression-smooth`` fitted with Huber's loss (iteratively
reweighted least squares, per token): masks whose score the additive model misses by far (KL is
heavy-tailed: occluding a whole word at once costs much more than the sum of its parts) get
less weight instead of dominating the fit. It keeps every mask's scores, (N, I) floats.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..registry import Registry
from .accumulate import Accumulator

# (accumulator, halves to use) -> map (I, *element_shape)
Estimator = Callable[[Accumulator, tuple[int, ...]], np.ndarray]
ESTIMATORS: Registry[Estimator] = Registry("estimator")
list_estimators = ESTIMATORS.names


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


# (ours) penalties chosen on recorded runs of the demo clip; see benchmarks/saliency_convergence.py
RIDGE = 3.0  # x each feature's own variance (regression)
RIDGE_WITH_SMOOTHING = 1.0
SMOOTHING = 1.0  # x the mean feature variance, on differences between neighbouring units


@ESTIMATORS.register("regression")
def joint_regression(acc: Accumulator, halves: tuple[int, ...] = (0, 1)) -> np.ndarray:
    """Ridge fit of scores on every group's occluded unit fractions; element = sum of its units' effects."""
    return _joint_fit(acc, halves, RIDGE, 0.0)


@ESTIMATORS.register("regression-smooth")
def smooth_joint_regression(acc: Accumulator, halves: tuple[int, ...] = (0, 1)) -> np.ndarray:
    """``regression`` plus a penalty pulling neighbouring units' effects together (trades bias for variance)."""
    return _joint_fit(acc, halves, RIDGE_WITH_SMOOTHING, SMOOTHING)


HUBER = 1.345  # residuals beyond HUBER x a robust scale (1.4826 MAD) get weight HUBER * scale / |r|
HUBER_ITERATIONS = 5


@ESTIMATORS.register("regression-robust")
def robust_joint_regression(acc: Accumulator, halves: tuple[int, ...] = (0, 1)) -> np.ndarray:
    """``regression-smooth`` with Huber's loss, fitted by iteratively reweighted least squares."""
    if not acc.keep_scores:
        raise ValueError("the robust estimator needs an Accumulator(keep_scores=True)")
    kept = [item for h in halves for item in acc.kept[h]]
    if len(kept) < 2:
        return np.zeros((acc.n_rows, *acc.family.element_shape))
    x = acc.features([k for k, _ in kept])  # (n, P)
    scores = np.stack([s for _, s in kept])  # (n, I)
    n = x.shape[0]
    centered = x - x.mean(axis=0)
    variances = np.einsum("np,np->p", centered, centered)  # diag of the centered Gram matrix
    penalty = RIDGE_WITH_SMOOTHING * np.diag(variances + 1e-9) + SMOOTHING * float(variances.mean()) * acc.laplacian
    beta = np.zeros((acc.n_rows, x.shape[1]))
    for i in range(acc.n_rows):
        w = np.ones(n)
        for _ in range(HUBER_ITERATIONS + 1):
            total = w.sum()
            xc = x - (w @ x) / total
            y = scores[:, i] - (w @ scores[:, i]) / total
            gram = (xc * w[:, None]).T @ xc
            b = np.linalg.solve(gram + penalty * (total / n), (xc * w[:, None]).T @ y)
            residual = y - xc @ b
            scale = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
            if scale <= 0:
                break
            w = np.minimum(1.0, HUBER * scale / np.maximum(np.abs(residual), 1e-300))
        beta[i] = b
    return _to_elements(acc, beta)


def _to_elements(acc: Accumulator, beta: np.ndarray) -> np.ndarray:
    """Unit effects (I, P) -> element map (I, *element_shape): each element sums its units' effects."""
    out = np.zeros((acc.n_rows, *acc.family.element_shape))
    offset = 0
    for group in acc.family.groups:
        out += beta[:, offset : offset + group.n_units][:, group.labels]
        offset += group.n_units
    return out


def _joint_fit(acc: Accumulator, halves: tuple[int, ...], ridge: float, smoothing: float) -> np.ndarray:
    if not acc.second_order:
        raise ValueError("the regression estimator needs an Accumulator(second_order=True)")
    n = sum(sum(acc.n[h]) for h in halves)
    if n < 2:
        return np.zeros((acc.n_rows, *acc.family.element_shape))
    gram = np.sum([acc.gram[h] for h in halves], axis=0)  # (P, P)
    cross = np.sum([acc.cross[h] for h in halves], axis=0)  # (P, I)
    mean_x = np.sum([acc.feature_sum[h] for h in halves], axis=0) / n  # (P,)
    mean_s = np.sum([acc.totals[h][g] for h in halves for g in range(len(acc.family.groups))], axis=0) / n
    centered_gram = gram - n * np.outer(mean_x, mean_x)
    centered_cross = cross - n * np.outer(mean_x, mean_s)
    # ridge scaled by each feature's own variance, so units of every size are shrunk alike
    penalty = ridge * np.diag(np.diag(centered_gram) + 1e-9)
    if smoothing:
        penalty += smoothing * float(np.diag(centered_gram).mean()) * acc.laplacian
    beta = np.linalg.solve(centered_gram + penalty, centered_cross).T  # (I, P)
    return _to_elements(acc, beta)


NEEDS_SECOND_ORDER = {"regression", "regression-smooth"}  # Gram sums
NEEDS_SCORES = {"regression-robust"}  # every mask's scores (refitted with weights)
JOINT_FITS = NEEDS_SECOND_ORDER | NEEDS_SCORES  # one effect per unit of every group
