"""Split-half reliability of a saliency map, on per-token normalised maps.

Two independent half-estimates A and B; each token's row is z-scored over its elements (the form
the comparisons use); r = Pearson(A, B) over all selected rows; reliability of the full estimate
= Spearman-Brown 2r / (1 + r). On raw maps, differences in score size between tokens make even
pure noise look reliable, hence the normalisation.
"""

from __future__ import annotations

import numpy as np

from ..normalization import normalize_rows


def split_half(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman-Brown corrected correlation of two half-maps (I, ...), per-token normalised."""
    x, y = normalize_rows(a).ravel(), normalize_rows(b).ravel()
    if x.std() == 0 or y.std() == 0:
        return 0.0
    r = float(np.corrcoef(x, y)[0, 1])
    return 2 * r / (1 + r) if r > -1 else -1.0


def spearman_brown_masks(reliability: float, n_masks: int, target: float) -> float:
    """Masks needed to reach ``target`` from ``reliability`` at ``n_masks`` (Spearman-Brown prophecy)."""
    if reliability <= 0:
        return float("inf")
    factor = target * (1 - reliability) / (reliability * (1 - target))
    return n_masks * factor
