"""Time constants of the audio front end and frame <-> seconds conversions, in one place.

Whisper's front end (also used for the Speech2Text adapter's frame rate):
16 kHz audio, 25 ms windows (N_FFT = 400 samples) every 10 ms (HOP_LENGTH = 160 samples), so
100 feature frames per second. Whisper always sees a 30 s window = 3000 frames; its encoder
halves the time axis (conv stride 2), so one encoder frame covers 20 ms and the window is
1500 encoder frames. Speech2Text's encoder subsamples by 4 (40 ms per encoder frame).
"""

from __future__ import annotations

import math

import numpy as np

SAMPLE_RATE = 16_000  # Hz
N_FFT = 400  # samples in one analysis window (25 ms)
HOP_LENGTH = 160  # samples between frames (10 ms)
FRAMES_PER_SECOND = SAMPLE_RATE // HOP_LENGTH  # 100 feature frames per second
CHUNK_SECONDS = 30  # Whisper's fixed input window
N_SAMPLES = CHUNK_SECONDS * SAMPLE_RATE  # 480_000 samples in the window
N_FRAMES = N_SAMPLES // HOP_LENGTH  # 3000 feature frames in the window
WHISPER_ENCODER_STRIDE = 2  # conv2 has stride 2: 1500 encoder frames per window
TIMESTAMP_TOKEN_SECONDS = 0.02  # Whisper's timestamp tokens <|0.00|> ... <|30.00|> step by 20 ms


def n_feature_frames(n_samples: int) -> int:
    """Number of feature frames T that carry speech for ``n_samples`` of audio (Whisper rule)."""
    return n_samples // HOP_LENGTH


def n_encoder_frames(n_frames: int, stride: int = WHISPER_ENCODER_STRIDE) -> int:
    """Encoder frames T' that see at least one speech frame: ceil(T / stride)."""
    return math.ceil(n_frames / stride)


def seconds_per_encoder_frame(stride: int = WHISPER_ENCODER_STRIDE) -> float:
    """Seconds covered by one encoder frame of the given stride (Whisper 0.02, Speech2Text 0.04)."""
    return stride / FRAMES_PER_SECOND


def frames_to_seconds(frames: float | np.ndarray, stride: int = 1) -> float | np.ndarray:
    """Start time in seconds of (encoder) frame index ``frames``; stride 1 = feature frames."""
    return frames * stride / FRAMES_PER_SECOND


def seconds_to_frames(seconds: float, stride: int = 1) -> int:
    """Index of the (encoder) frame that contains time ``seconds``."""
    return int(math.floor(seconds * FRAMES_PER_SECOND / stride + 1e-9))


def frame_times(n: int, stride: int = 1) -> np.ndarray:
    """Start times (s) of ``n`` consecutive frames of the given stride, shape (n,)."""
    return np.arange(n, dtype=np.float64) * stride / FRAMES_PER_SECOND
