"""Pooling of (I, T, F) input maps to the encoder resolution (I, T').

Windows are ``stride`` frames by all F bins (stride = the encoder's time downsampling: Whisper 2,
Speech2Text 4); the last window may be partial. ``max`` (2D max pooling) is the paper's choice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..registry import Registry

Pool = Callable[[np.ndarray, int], np.ndarray]
POOLING: Registry[Pool] = Registry("pooling function")
list_pooling = POOLING.names


def _windows(maps: np.ndarray, stride: int) -> np.ndarray:
    """(I, T, F) -> (I, T', stride, F), padding a partial last window with NaN."""
    i, t, f = maps.shape
    n = -(-t // stride)
    padded = np.full((i, n * stride, f), np.nan, dtype=np.float64)
    padded[:, :t] = maps
    return padded.reshape(i, n, stride, f)


@POOLING.register("max")
def max_pool(maps: np.ndarray, stride: int) -> np.ndarray:
    return np.nanmax(_windows(maps, stride), axis=(2, 3))


@POOLING.register("mean")
def mean_pool(maps: np.ndarray, stride: int) -> np.ndarray:
    return np.nanmean(_windows(maps, stride), axis=(2, 3))


@POOLING.register("max-freq-mean-time")
def max_freq_mean_time(maps: np.ndarray, stride: int) -> np.ndarray:
    return np.nanmean(np.max(_windows(maps, stride), axis=3), axis=2)


@POOLING.register("mean-freq-max-time")
def mean_freq_max_time(maps: np.ndarray, stride: int) -> np.ndarray:
    return np.nanmax(np.mean(_windows(maps, stride), axis=3), axis=2)


def pool(maps: np.ndarray, stride: int, how: str = "max") -> np.ndarray:
    """Pool (I, T, F) to (I, ceil(T / stride)) with a registered function."""
    return POOLING.get(how)(maps, stride)
