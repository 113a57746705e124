"""Read audio into mono float32 at a target rate, with errors a user can act on.

Formats: whatever libsndfile reads (WAV, FLAC, OGG/Vorbis, and MP3 with libsndfile >= 1.1).
Multi-channel audio is averaged to mono; other sample rates are resampled with a polyphase
anti-aliasing filter (``scipy.signal.resample_poly``), never by dropping samples.
"""

from __future__ import annotations

import struct
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import AudioError
from ..timebase import SAMPLE_RATE

# Peak amplitude below which we call audio silent (about -80 dBFS): no model can explain it.
SILENCE_PEAK = 1e-4


def resample(audio: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Polyphase resampling of a 1-D signal from ``orig_rate`` to ``target_rate``."""
    if orig_rate == target_rate:
        return audio
    from scipy.signal import resample_poly

    ratio = Fraction(target_rate, orig_rate)
    out = resample_poly(audio.astype(np.float64), ratio.numerator, ratio.denominator)
    return out.astype(np.float32)


def _wav_lengths(path: Path) -> tuple[float, float] | None:
    """(seconds the WAV header's data chunk declares, seconds the file holds), or None when the file
    is not a RIFF/RIFX WAV or declares no length (streamed files write 0 or 0xFFFFFFFF)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
                return None
            order = "<" if head[:4] == b"RIFF" else ">"
            byte_rate = 0
            while len(chunk := f.read(8)) == 8:
                name, length = chunk[:4], struct.unpack(order + "I", chunk[4:])[0]
                if name == b"data":
                    if length in (0, 0xFFFFFFFF) or not byte_rate:
                        return None
                    return length / byte_rate, max(0, size - f.tell()) / byte_rate
                body = f.read(length + length % 2)  # chunks are padded to an even length
                if name == b"fmt " and len(body) >= 12:
                    byte_rate = struct.unpack(order + "I", body[8:12])[0]
    except OSError:
        return None
    return None


def header_warnings(path: str | Path) -> list[str]:
    """One line for each promise of the file's header that its data does not keep: a WAV whose data
    is shorter than its header says (a copy or download cut short) is read as far as it goes, so
    the result covers less audio than the file claims. Empty for whole files and other formats
    (a truncated FLAC, MP3 or OGG fails to decode, with an error)."""
    lengths = _wav_lengths(Path(path))
    if lengths is None or lengths[1] >= lengths[0] - 1e-3:
        return []
    declared, held = lengths
    return [f"{path} is truncated: its header says {declared:.1f} s of audio but the file holds {held:.1f} s; "
            f"only those {held:.1f} s are used"]


class AudioWarning(UserWarning):
    """Audio that is read, but not all that its file says it holds (the CLI prints one line)."""


def check_header(path: str | Path) -> list[str]:
    """:func:`header_warnings` of ``path``, each also issued as an :class:`AudioWarning`."""
    found = header_warnings(path)
    for line in found:
        warnings.warn(line, AudioWarning, stacklevel=3)
    return found


def _read_file(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    if not path.exists():
        raise AudioError(f"audio file not found: {path}")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile raises several types for bad files
        raise AudioError(
            f"cannot read audio {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
            " (use WAV, FLAC, OGG or MP3; convert other formats with ffmpeg or sox)"
        ) from e
    return data, int(rate)  # data: (samples, channels)


def load_audio(
    source: str | Path | np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    source_rate: int | None = None,
    check_silence: bool = True,
) -> np.ndarray:
    """Load ``source`` (a path, or an array at ``source_rate``) as mono float32, shape (samples,).

    Raises :class:`AudioError` for missing, unreadable, empty or all-silent audio.
    """
    if isinstance(source, np.ndarray):
        if np.issubdtype(source.dtype, np.integer):  # PCM samples: scale to [-1, 1]
            data = source.astype(np.float32) / float(np.iinfo(source.dtype).max)
        else:
            data = np.asarray(source, dtype=np.float32)
        if data.ndim == 2:  # accept (samples, channels) or (channels, samples): fewer = channels
            data = data if data.shape[1] <= data.shape[0] else data.T
        elif data.ndim == 1:
            data = data[:, None]
        else:
            raise AudioError(f"audio array must be 1-D or 2-D, got shape {data.shape}")
        rate = source_rate or sample_rate
        name = "audio array"
    else:
        path = Path(source)
        data, rate = _read_file(path)
        name = str(path)
    if data.shape[0] == 0:
        raise AudioError(f"{name} has no samples (zero-length audio)")
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if not np.all(np.isfinite(mono)):
        raise AudioError(f"{name} contains NaN or infinite samples")
    if check_silence and float(np.max(np.abs(mono))) < SILENCE_PEAK:
        raise AudioError(f"{name} is silent (peak below -80 dBFS): there is no speech to explain")
    return resample(np.ascontiguousarray(mono), rate, sample_rate)
