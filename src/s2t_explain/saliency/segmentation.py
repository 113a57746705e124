"""SLIC superpixels of the spectrogram, at several granularities, computed once per utterance."""

from __future__ import annotations

import numpy as np


def scaled_segment_counts(granularities: tuple[int, ...], n_frames: int, reference: int = 500,
                          max_frames: int = 750) -> list[int]:
    """SPES scaling: n_segments * min(T, max_frames) / reference, rounded, at least 1."""
    scale = min(n_frames, max_frames) / reference
    return [max(1, int(round(g * scale))) for g in granularities]


def slic_segments(features: np.ndarray, n_segments: int, compactness: float = 0.1,
                  sigma: float = 0.0) -> np.ndarray:
    """Superpixel labels 0..K-1 of ``features`` (T, F), min-max scaled to [0, 1]; shape (T, F).

    SLIC may return fewer segments than asked; labels are made contiguous.
    """
    from skimage.segmentation import slic

    lo, hi = float(features.min()), float(features.max())
    image = (features - lo) / (hi - lo) if hi > lo else np.zeros_like(features)
    labels = slic(image.astype(np.float64), n_segments=n_segments, compactness=compactness, sigma=sigma,
                  channel_axis=None, start_label=0, enforce_connectivity=True)
    _, contiguous = np.unique(labels, return_inverse=True)
    return contiguous.reshape(labels.shape).astype(np.int32)
