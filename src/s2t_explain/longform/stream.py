"""A long recording read in pieces: never the whole file in memory.

``AudioStream`` gives mono float32 samples at the model's rate for any time range (read with a
seek, resampled with a margin on both sides so piecewise resampling has no edge artefacts) and an
energy envelope computed block by block. One hour at 16 kHz is 230 MB of float32; a 30-s window
is 1.9 MB, and the envelope (one value per 10 ms) 1.4 MB.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..audio.io import SILENCE_PEAK, resample
from ..errors import AudioError
from ..timebase import FRAMES_PER_SECOND, SAMPLE_RATE

MARGIN = 0.05  # seconds read beyond each end of a piece before resampling
BLOCK_SECONDS = 60.0  # envelope: seconds read at a time


class AudioStream:
    """A file (or an in-memory array) to read piecewise as mono at ``sample_rate``."""

    def __init__(self, source: str | Path | np.ndarray, sample_rate: int = SAMPLE_RATE, source_rate: int | None = None):
        self.sample_rate = sample_rate
        self._array: np.ndarray | None = None
        if isinstance(source, np.ndarray):
            from ..audio.io import load_audio

            self._array = load_audio(source, sample_rate, source_rate=source_rate, check_silence=False)
            self.rate, self.frames, self.name = sample_rate, int(self._array.shape[0]), "array"
        else:
            import soundfile as sf

            path = Path(source)
            if not path.is_file():
                raise AudioError(f"audio file not found: {path}" if not path.exists() else f"{path} is not a file")
            try:
                info = sf.info(str(path))
            except Exception as e:  # libsndfile raises several types for bad files
                raise AudioError(f"cannot read audio {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
                                 " (use WAV, FLAC, OGG or MP3)") from e
            self.rate, self.frames, self.name = int(info.samplerate), int(info.frames), str(path)
            self.path = path
        if self.frames == 0:
            raise AudioError(f"{self.name} has no samples (zero-length audio)")

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    def _raw(self, first: int, last: int) -> np.ndarray:
        """Mono samples [first, last) at the file's rate."""
        first, last = max(0, first), min(self.frames, last)
        if self._array is not None:
            return self._array[first:last]
        import soundfile as sf

        try:
            with sf.SoundFile(str(self.path)) as f:
                f.seek(first)
                data = f.read(last - first, dtype="float32", always_2d=True)
        except Exception as e:
            raise AudioError(f"cannot read {self.name} at {first / self.rate:.2f} s: {e}") from e
        mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
        if not np.all(np.isfinite(mono)):
            raise AudioError(f"{self.name} contains NaN or infinite samples")
        return np.ascontiguousarray(mono, dtype=np.float32)

    def read(self, start: float, end: float) -> np.ndarray:
        """Samples of [start, end) seconds at ``sample_rate``, shape (round((end - start) * rate),)."""
        want = int(round((end - start) * self.sample_rate))
        if self.rate == self.sample_rate:
            first = int(round(start * self.rate))
            piece = self._raw(first, first + want)
            return np.pad(piece, (0, want - piece.shape[0])) if piece.shape[0] < want else piece
        # start the piece on a sample that both rates share (every rate/gcd source samples), so its
        # resampled samples fall exactly on the whole file's output grid
        g = math.gcd(self.rate, self.sample_rate)
        src_step, out_step = self.rate // g, self.sample_rate // g
        block = int((max(0.0, start - MARGIN) * self.rate) // src_step)
        first = block * src_step
        piece = resample(self._raw(first, int(round((end + MARGIN) * self.rate))), self.rate, self.sample_rate)
        skip = int(round(start * self.sample_rate)) - block * out_step
        out = piece[skip:skip + want]
        return np.pad(out, (0, want - out.shape[0])) if out.shape[0] < want else out

    def envelope(self) -> np.ndarray:
        """(frames,) level in dB (re full scale, floored at -120) of each 10 ms frame of the file."""
        hop = self.rate / FRAMES_PER_SECOND  # source samples per frame (may be fractional: 22050 Hz)
        n = int(self.frames // hop)
        out = np.empty(n, dtype=np.float32)
        per_block = max(1, int(BLOCK_SECONDS * FRAMES_PER_SECOND))
        for f0 in range(0, n, per_block):
            f1 = min(n, f0 + per_block)
            edges = np.floor(np.arange(f0, f1 + 1) * hop).astype(np.int64)
            x = self._raw(int(edges[0]), int(edges[-1])).astype(np.float64)
            power = np.add.reduceat(x * x, edges[:-1] - edges[0]) / np.maximum(np.diff(edges), 1)
            out[f0:f1] = 10 * np.log10(np.maximum(power, 1e-12))
        return out

    def is_silent(self, samples: np.ndarray) -> bool:
        return samples.size == 0 or float(np.max(np.abs(samples))) < SILENCE_PEAK
