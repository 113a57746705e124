"""Faithfulness of an explanation: deletion and insertion curves, and size (compactness).

An explanation is first reduced to one map over the input elements (T, F): each token's map is
normalized (z-score by default), the tokens are averaged, and (I, T') maps are broadcast back to
the ``stride`` feature frames x F bins that each encoder frame covers. Elements are ranked by that
map (ties broken at random with a fixed seed, so broadcast maps are not ranked by frequency).
- Deletion: occlude the top p% of elements, p = 0, 5, ..., 100; insertion: occlude all but the top
  p%. Each perturbed input is scored (see ``study.faithfulness``: re-decoding with WER/BLEU/chrF,
  or the cheaper log-probability drop of the fixed hypothesis); AUC = trapezoid area over p / 100.
  With WER, a faithful ranking makes the error rise fast under deletion (higher AUC) and fall fast
  under insertion (lower AUC).
- Size: for thresholds t = 0, 0.05, ..., 1, the share of min-max-normalized values >= t; AUC over t
  (lower = more compact).
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from .agreement import normalize

CURVE_STEPS = np.arange(0, 101, 5)  # percent of input elements
SIZE_THRESHOLDS = np.linspace(0.0, 1.0, 21)
MODES = ("deletion", "insertion")


def input_map(maps: np.ndarray, n_frames: int, n_bins: int, stride: int, norm: str = "zscore") -> np.ndarray:
    """Reduce (I, T, F) or (I, T') maps to one (T, F) map over the input elements."""
    if maps.ndim == 3:
        if maps.shape[1:] != (n_frames, n_bins):
            raise ValueError(f"input map shape {maps.shape[1:]} != (T, F) = {(n_frames, n_bins)}")
        return normalize(maps, norm).mean(axis=0)
    if maps.ndim != 2:
        raise ValueError(f"expected (I, T, F) or (I, T') maps, got shape {maps.shape}")
    per_frame = normalize(maps, norm).mean(axis=0)  # (T',)
    frames = np.repeat(per_frame, stride)[:n_frames]  # (T,)
    if frames.shape[0] < n_frames:
        raise ValueError(f"{maps.shape[1]} encoder frames x stride {stride} cover fewer than {n_frames} frames")
    return np.broadcast_to(frames[:, None], (n_frames, n_bins)).copy()


def ranking(values: np.ndarray, seed: int = 0) -> np.ndarray:
    """Flat element indices, most important first; ties in random order (fixed ``seed``)."""
    flat = np.ravel(values)
    tiebreak = np.random.default_rng(seed).random(flat.shape[0])
    return np.lexsort((tiebreak, -flat))


def random_ranking(n_elements: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(n_elements)


def curve_masks(order: np.ndarray, shape: tuple[int, int], mode: str,
                steps: np.ndarray = CURVE_STEPS) -> np.ndarray:
    """(len(steps), T, F) bool masks, True = occluded, for deletion or insertion along ``order``."""
    if mode not in MODES:
        raise OptionError(f"unknown curve {mode!r}; use deletion or insertion")
    n = order.shape[0]
    masks = np.zeros((len(steps), n), dtype=bool)
    for s, pct in enumerate(steps):
        k = int(round(pct / 100 * n))
        if mode == "deletion":
            masks[s, order[:k]] = True
        else:
            masks[s, order[k:]] = True
    return masks.reshape(len(steps), *shape)


def auc(values: np.ndarray | list[float], steps: np.ndarray = CURVE_STEPS) -> float:
    """Area under a curve over percent ``steps`` by the trapezoid rule, divided by 100."""
    y = np.asarray(values, dtype=np.float64)
    x = np.asarray(steps, dtype=np.float64)
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / 100.0)


def size_curve(values: np.ndarray) -> np.ndarray:
    """Share of min-max-normalized values >= t for each threshold in SIZE_THRESHOLDS."""
    v = np.ravel(values).astype(np.float64)
    lo, hi = v.min(), v.max()
    scaled = (v - lo) / (hi - lo) if hi > lo else np.ones_like(v)
    return np.array([(scaled >= t).mean() for t in SIZE_THRESHOLDS])


def size_auc(values: np.ndarray) -> float:
    """Size / compactness in percent: AUC of ``size_curve`` over t in [0, 1] x 100 (lower = more compact)."""
    curve = size_curve(values)
    return float(100.0 * np.sum((curve[1:] + curve[:-1]) / 2 * np.diff(SIZE_THRESHOLDS)))
