"""Agreement between cross-attention and saliency maps, at every head/layer granularity.

Maps are compared on the flattened (I, T') matrix of one utterance after per-token normalization
(z-score by default, min-max as an option): Pearson r (the paper's statistic) and Spearman rho.
Granularities, for a cross-attention tensor (L, H, I, T'):
  ``head``      (L, H) one value per (layer, head);
  ``layer``     (L,)   each layer's heads averaged;
  ``all``       all heads of all layers averaged;
  ``alignment`` the model's alignment heads averaged;
  ``best-head`` the single head with the highest value (and which one).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import kendalltau, rankdata

from ..normalization import normalize_rows
from ..registry import Registry

Correlation = Callable[[np.ndarray, np.ndarray], float]
CORRELATIONS: Registry[Correlation] = Registry("correlation")
list_correlations = CORRELATIONS.names


def normalize(maps: np.ndarray, how: str = "zscore") -> np.ndarray:
    """Per-token normalization of (I, ...) maps: ``zscore`` (default) or ``minmax`` (see ``NORMALIZATIONS``)."""
    return normalize_rows(maps, how)


@CORRELATIONS.register("pearson")
def pearson(a: np.ndarray, b: np.ndarray) -> float:
    x, y = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    x, y = x - x.mean(), y - y.mean()
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denom) if denom > 0 else float("nan")


@CORRELATIONS.register("spearman")
def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return pearson(rankdata(np.ravel(a)), rankdata(np.ravel(b)))


@CORRELATIONS.register("kendall")
def kendall(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall tau-b of the flattened maps (ties counted as in tau-b); NaN when undefined (constant input)."""
    x, y = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    if x.size < 2:
        return float("nan")
    return float(kendalltau(x, y).statistic)


def correlate(a: np.ndarray, b: np.ndarray, statistic: str = "pearson", norm: str = "zscore") -> float:
    """Correlation of two (I, T') maps of one utterance after per-token normalization."""
    if a.shape != b.shape:
        raise ValueError(f"maps differ in shape: {a.shape} vs {b.shape}")
    return CORRELATIONS.get(statistic)(normalize(a, norm), normalize(b, norm))


def agreement(
    attention: np.ndarray,
    saliency: np.ndarray,
    alignment_heads: list[tuple[int, int]] | None = None,
    statistic: str = "pearson",
    norm: str = "zscore",
) -> dict:
    """Correlation of cross-attention (L, H, I, T') with a saliency map (I, T') at every granularity.

    Returns {"head": (L, H) array, "layer": (L,) array, "all": float, "alignment": float or None,
    "best-head": float, "best-head-index": (layer, head)}.
    """
    n_layers, n_heads = attention.shape[:2]
    target = normalize(saliency, norm)
    stat = CORRELATIONS.get(statistic)

    def corr(ca: np.ndarray) -> float:
        return stat(normalize(ca, norm), target)

    heads = np.array([[corr(attention[l, h]) for h in range(n_heads)] for l in range(n_layers)])
    layers = np.array([corr(attention[l].mean(0)) for l in range(n_layers)])
    align = None
    if alignment_heads:
        align = corr(np.mean([attention[l, h] for l, h in alignment_heads], axis=0))
    best = np.unravel_index(np.nanargmax(heads), heads.shape) if np.isfinite(heads).any() else (0, 0)
    return {
        "head": heads,
        "layer": layers,
        "all": corr(attention.mean((0, 1))),
        "alignment": align,
        "best-head": float(heads[best]),
        "best-head-index": (int(best[0]), int(best[1])),
    }
