"""Where speech is: an energy detector on the 10 ms envelope (ours, dependency-free).

A frame is speech when its level is above (loud level - ``threshold_db``), the loud level being
the 95th percentile of the file; above (noise floor + ``floor_margin_db``), the floor being the
10th percentile, when that is below the loud level (a file that is nearly all speech has no
floor); and above -80 dB, so digital silence is silence whatever the rest of the file holds.
Dips shorter than ``min_silence`` are closed, bursts shorter than ``min_speech`` dropped, and
every region is padded by ``speech_pad``. This finds pauses in clean and moderately noisy
recordings; it is not a speech/music/noise classifier (for that, cut the file with a neural VAD
first and give the pieces as segments).
"""

from __future__ import annotations

import numpy as np

from ..timebase import FRAMES_PER_SECOND
from .options import LongformOptions

Regions = list[tuple[float, float]]  # (start, end) seconds
SILENCE_DB = -80.0  # frames quieter than this (RMS, dB re full scale) are never speech, as in audio.io


def speech_frames(level_db: np.ndarray, options: LongformOptions) -> np.ndarray:
    """(frames,) bool: speech per 10 ms frame, after closing short dips and dropping short bursts."""
    if level_db.size == 0:
        return np.zeros(0, dtype=bool)
    loud, floor = np.percentile(level_db, 95), np.percentile(level_db, 10)
    threshold = loud - options.threshold_db
    if floor + options.floor_margin_db < loud:  # a noise floor below the speech: stay above it too
        threshold = max(threshold, floor + options.floor_margin_db)
    speech = level_db > max(threshold, SILENCE_DB)
    speech = _fill_runs(speech, False, int(round(options.min_silence * FRAMES_PER_SECOND)))
    return _fill_runs(speech, True, int(round(options.min_speech * FRAMES_PER_SECOND)))


def _fill_runs(mask: np.ndarray, value: bool, shorter_than: int) -> np.ndarray:
    """Flip interior runs of ``value`` shorter than ``shorter_than`` frames (runs touching an end stay
    when they are silence, so a file's lead-in is never called speech)."""
    out = mask.copy()
    change = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    bounds = np.concatenate([[0], change, [mask.size]])
    for a, b in zip(bounds[:-1], bounds[1:]):
        if mask[a] == value and b - a < shorter_than and (value or (a > 0 and b < mask.size)):
            out[a:b] = not value
    return out


def speech_regions(speech: np.ndarray, options: LongformOptions, duration: float) -> Regions:
    """Padded (start, end) seconds of each speech run, overlapping pads merged."""
    change = np.flatnonzero(np.diff(np.concatenate([[0], speech.astype(np.int8), [0]])))
    pad = options.speech_pad
    regions: Regions = []
    for a, b in zip(change[::2], change[1::2]):
        s, e = max(0.0, float(a) / FRAMES_PER_SECOND - pad), min(duration, float(b) / FRAMES_PER_SECOND + pad)
        if regions and s <= regions[-1][1]:
            regions[-1] = (regions[-1][0], e)
        else:
            regions.append((s, e))
    return regions
