"""Whisper's log-mel features, written from the published recipe.

Recipe: 25 ms Hann windows every 10 ms (centered STFT, reflect padding), power spectrum, a
Slaney-style mel filter bank (80 or 128 bins, 0-8 kHz), log10 with a floor of 1e-10, dynamic
range clipped to 8 (log10 units) below the maximum, then ``(x + 4) / 4``. Audio is padded with
30 s of zeros and the first 3000 frames are kept, so the model always sees a 30 s window.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..timebase import HOP_LENGTH, N_FFT, N_FRAMES, N_SAMPLES, SAMPLE_RATE, n_feature_frames


@dataclass(frozen=True)
class Features:
    """Model input features for one utterance.

    ``values`` has shape (F, N): F mel bins (or filterbank bins) by N input frames
    (N = 3000 for Whisper's padded window). Only the first ``n_frames`` = T frames hold speech.
    """

    values: torch.Tensor  # (F, N)
    n_frames: int  # T: frames that carry speech

    @property
    def n_bins(self) -> int:
        return int(self.values.shape[0])


def _hz_to_mel(hz: float | np.ndarray) -> np.ndarray:
    # Slaney scale: linear below 1 kHz (3 mel per 200 Hz), logarithmic above.
    f_sp, min_log_hz, min_log_mel = 200.0 / 3, 1000.0, 15.0
    logstep = np.log(6.4) / 27.0
    hz = np.asarray(hz, dtype=np.float64)
    lin = hz / f_sp
    log = min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep
    return np.where(hz >= min_log_hz, log, lin)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    f_sp, min_log_hz, min_log_mel = 200.0 / 3, 1000.0, 15.0
    logstep = np.log(6.4) / 27.0
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


@lru_cache(maxsize=4)
def mel_filters(n_mels: int, sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT) -> np.ndarray:
    """Slaney-normalized triangular mel filter bank, shape (n_mels, n_fft // 2 + 1)."""
    fft_freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    mel_points = np.linspace(_hz_to_mel(0.0), _hz_to_mel(sample_rate / 2), n_mels + 2)
    hz_points = _mel_to_hz(mel_points)  # (n_mels + 2,) filter edges
    widths = np.diff(hz_points)
    ramps = hz_points[:, None] - fft_freqs[None, :]  # (n_mels + 2, n_freqs)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz_points[2:] - hz_points[:-2]))[:, None]  # equal area per filter
    return weights.astype(np.float32)


def log_mel_spectrogram(audio: np.ndarray, n_mels: int = 80) -> Features:
    """Whisper input features of 16 kHz mono ``audio``: values shape (n_mels, 3000)."""
    n_samples = int(audio.shape[0])
    padded = torch.from_numpy(np.concatenate([audio, np.zeros(N_SAMPLES, np.float32)]))
    window = torch.hann_window(N_FFT)
    stft = torch.stft(padded, N_FFT, HOP_LENGTH, window=window, return_complex=True)
    power = stft[:, :-1].abs() ** 2  # (n_fft/2 + 1, frames); the last frame is dropped
    mel = torch.from_numpy(mel_filters(n_mels)) @ power  # (n_mels, frames)
    log_spec = torch.clamp(mel, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    values = ((log_spec + 4.0) / 4.0)[:, :N_FRAMES].contiguous()
    return Features(values=values, n_frames=min(n_feature_frames(n_samples), N_FRAMES))
