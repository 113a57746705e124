"""What a corpus yields: utterances (a file, a segment of a file, or embedded audio) and bad entries.

:meth:`Utterance.load` reads only the utterance's own samples: a segment (``start``/``end`` seconds
inside a longer recording) is reached by seeking, so a one-hour recording cut into utterances is
never read whole. The checks and the resampling are ``audio.io.load_audio``'s.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.io import load_audio
from ..errors import AudioError
from ..timebase import SAMPLE_RATE

# A segment may end this far past the end of its recording and is cut at the end, as Kaldi's
# extract-segments does (--max-overshoot=0.5): segment lists are often rounded up.
MAX_OVERSHOOT_S = 0.5


@dataclass(frozen=True)
class Utterance:
    """One entry of a corpus.

    ``audio`` is the file (relative paths are already resolved against the corpus). ``start`` and
    ``end`` (seconds, either may be None: the file's start or end) make the utterance a segment of
    it. ``data`` holds the encoded file itself (a Hugging Face dataset's embedded bytes); ``audio``
    is then only its name.
    """

    id: str
    audio: Path
    reference: str | None = None
    language: str | None = None
    task: str | None = None
    start: float | None = None
    end: float | None = None
    data: bytes | None = field(default=None, repr=False)

    @property
    def segment(self) -> tuple[float, float | None] | None:
        """(start, end) in seconds when the utterance is part of its file (end None: to the end)."""
        if self.start is None and self.end is None:
            return None
        return (self.start or 0.0, self.end)

    @property
    def source(self) -> str:
        """The audio in words, for results and messages: the path, its segment, "(embedded)"."""
        name = str(self.audio) + (" (embedded)" if self.data is not None else "")
        segment = self.segment
        if segment is None:
            return name
        end = "end" if segment[1] is None else f"{segment[1]:.2f}"
        return f"{name} [{segment[0]:.2f}-{end} s]"

    def load(self, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
        """The utterance's samples: mono float32 at ``sample_rate``, only its segment read from disk.

        Raises :class:`AudioError` (one line) for a missing or undecodable file, a segment outside
        the file or with end <= start, and for empty, non-finite or silent audio.
        """
        if self.data is None and self.segment is None:
            return load_audio(self.audio, sample_rate)  # the whole file: load_audio as it is
        frames, rate = self._read_frames()
        mono = frames.mean(axis=1) if frames.shape[1] > 1 else frames[:, 0]
        try:
            return load_audio(np.ascontiguousarray(mono), sample_rate, source_rate=rate)
        except AudioError as e:  # load_audio names its input "audio array": name ours
            raise AudioError(str(e).replace("audio array", self.source, 1)) from None

    def _read_frames(self) -> tuple[np.ndarray, int]:
        """(frames, channels) of the segment, and the file's sample rate."""
        import soundfile as sf

        handle: Any
        if self.data is not None:
            handle, what = io.BytesIO(self.data), f"the embedded audio of {self.id} ({self.audio})"
        else:
            if not self.audio.exists():
                raise AudioError(f"audio file not found: {self.audio}")
            if self.audio.is_dir():
                raise AudioError(f"{self.audio} is a folder, not an audio file")
            handle, what = str(self.audio), str(self.audio)
        try:
            sound = sf.SoundFile(handle)
        except Exception as e:  # libsndfile raises several types for bad files
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise AudioError(f"cannot read audio {what}: {reason} (use WAV, FLAC, OGG or MP3; convert other "
                             "formats with ffmpeg or sox)") from None
        with sound:
            rate, total = int(sound.samplerate), int(sound.frames)
            first, last = self._bounds(rate, total)
            try:
                if first:
                    sound.seek(first)
                frames = sound.read(last - first, dtype="float32", always_2d=True)
            except Exception as e:
                reason = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise AudioError(f"cannot decode audio {what}: {reason}") from None
        return frames, rate

    def _bounds(self, rate: int, total: int) -> tuple[int, int]:
        """The segment as [first, last) frames of a file of ``total`` frames, checked."""
        start = self.start or 0.0
        seconds = total / rate
        if not np.isfinite(start) or start < 0:
            raise AudioError(f"{self.source}: segment start {start} s is not a time in the file")
        if self.end is not None and not (np.isfinite(self.end) and self.end > start):
            raise AudioError(f"{self.source}: segment end {self.end} s is not after its start {start} s")
        first = int(round(start * rate))
        if first >= total:
            raise AudioError(f"{self.source}: segment starts at {start:.2f} s, past the end of "
                             f"{self.audio.name} ({seconds:.2f} s)")
        if self.end is None:
            return first, total
        last = int(round(self.end * rate))
        if last > total and (last - total) / rate > MAX_OVERSHOOT_S:
            raise AudioError(f"{self.source}: segment ends at {self.end:.2f} s, past the end of "
                             f"{self.audio.name} ({seconds:.2f} s)")
        return first, min(last, total)


@dataclass(frozen=True)
class TimedUtterance(Utterance):
    """An utterance of an alignment manifest: its reference words with exact times.

    Word times are seconds in the utterance's own audio (what :meth:`load` returns): corpora give
    them in their file or recording, and a segment's words are shifted by its start when read.
    """

    words: list[tuple[str, float, float]] = field(default_factory=list)  # (word, start s, end s)

    @property
    def spans(self) -> list[tuple[float, float]]:
        """(start, end) of every reference word, in seconds."""
        return [(s, e) for _, s, e in self.words]


@dataclass(frozen=True)
class BadLine:
    """An entry that cannot become an utterance, and why (recorded as a failure; the run goes on)."""

    id: str  # the entry's id if it had a usable one, else its place id ("_line-N", "_row-N"...: see place_id)
    line: int  # 1-based line (or row) of the corpus file that gave it; 0 when there is none
    reason: str
