"""Per-token (per-row) normalisation of maps: the one place for the ``zscore`` / ``minmax`` choice.

Every comparison of maps (agreement, reliability, faithfulness, word timestamps, figures)
normalises each token's row over all of its elements first, because raw scores differ in size
from token to token. NumPy only: importing this module loads neither torch nor the saliency engine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .registry import Registry

# (R, E) float64 rows -> (R, E) normalised rows
RowNormalization = Callable[[np.ndarray], np.ndarray]
NORMALIZATIONS: Registry[RowNormalization] = Registry("normalization")
list_normalizations = NORMALIZATIONS.names


@NORMALIZATIONS.register("zscore")
def _zscore(flat: np.ndarray) -> np.ndarray:
    """Mean 0, standard deviation 1 per row (a constant row becomes 0): the paper's choice."""
    sd = flat.std(1, keepdims=True)
    return np.divide(flat - flat.mean(1, keepdims=True), sd, out=np.zeros_like(flat), where=sd > 0)


@NORMALIZATIONS.register("minmax")
def _minmax(flat: np.ndarray) -> np.ndarray:
    """Scaled to [0, 1] per row (a constant row becomes 0)."""
    lo, hi = flat.min(1, keepdims=True), flat.max(1, keepdims=True)
    return np.divide(flat - lo, hi - lo, out=np.zeros_like(flat), where=(hi - lo) > 0)


def normalize_rows(maps: np.ndarray, how: str = "zscore") -> np.ndarray:
    """Normalise each row of (I, ...) ``maps`` over all of that row's elements; float64, same shape."""
    flat = maps.reshape(maps.shape[0], -1).astype(np.float64)
    return NORMALIZATIONS.get(how)(flat).reshape(maps.shape)
