"""Long recordings end to end: plan windows, explain or align each, stitch the words into one timeline.

Results are one :class:`Explanation` per window plus an index, not one result with a window axis:
windows differ in tokens (I) and speech frames (T'), so a window axis would pad every map to the
largest window, and a one-hour file would have to sit in memory or in one file that is rewritten
as windows finish. Per-window files are written atomically as each window ends, so a run keeps its
memory at one window's worth, resumes where it stopped, and every tool for one utterance (``html``,
``timestamps RESULT.npz``, the explorer) works on a window as it is. ``OUT/index.json`` (schema
in :func:`index_document`) lists the windows with their times in the file, the stitched words and
any failed windows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..alignment.checks import clean_words, snap_to_speech, with_confidence
from ..alignment.heads import head_spec
from ..alignment.timestamps import Word, timestamp_source, word_timestamps
from ..audio import check_header
from ..decoding import DecodingOptions
from ..errors import AudioError, EmptyTranscriptError, OptionError, check_type
from ..explainers.catalog import KINDS, resolve_maps
from ..files import write_json
from ..models.base import SpeechToTextModel
from ..results.explanation import Explanation
from ..runfolder import RunFolder, attempt, failure_reason, stored_config
from ..saliency.options import SaliencyOptions, preset
from .options import LongformOptions
from .stitch import append, owned, shift
from .stream import AudioStream
from .vad import speech_frames
from .windows import WINDOWINGS, Window

INDEX_VERSION = 1
SENTENCE_END = (".", "?", "!", "。", "？", "！")
SEGMENT_GAP = 1.0  # seconds of pause that start a new output segment (ours)


@dataclass
class LongResult:
    """Stitched words of a long recording, per timestamp source, with the windows they came from."""

    audio: str
    duration: float
    model: str
    windows: list[Window]
    words: dict[str, list[Word]]  # source -> words in file time, each exactly once, checked
    window_texts: list[str | None]  # each window's transcript (None: silent, empty or failed)
    failures: list[dict[str, Any]] = field(default_factory=list)  # {"window", "start", "end", "reason"}
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # about the input (a truncated file)

    @property
    def text(self) -> str:
        first = next(iter(self.words.values()), [])
        return "".join(w.word for w in first).strip()

    def segments(self, source: str) -> list[dict[str, Any]]:
        """Whisper tools' segments: words grouped up to a sentence end or a pause over SEGMENT_GAP."""
        groups: list[list[Word]] = []
        for w in self.words[source]:
            if not groups or groups[-1][-1].word.rstrip().endswith(SENTENCE_END) or \
                    w.start - groups[-1][-1].end > SEGMENT_GAP:
                groups.append([])
            groups[-1].append(w)
        return [{"id": k, "start": round(g[0].start, 3), "end": round(g[-1].end, 3),
                 "text": "".join(w.word for w in g), "words": [w.to_dict() for w in g]}
                for k, g in enumerate(groups)]

    def to_whisper_json(self, source: str, heads: Any = None) -> dict[str, Any]:
        return {"text": self.text, "duration": round(self.duration, 3), "segments": self.segments(source),
                "source": source, "heads": heads if source == "attention" else None,
                "windows": [w.to_dict() for w in self.windows], "failed_windows": self.failures}


def window_maps(sources: Sequence[str], maps: Sequence[str], saliency: SaliencyOptions | None) -> list[str]:
    """The map names each window computes, checked here (not in every window): those ``sources``
    time words from, plus ``maps``; with ``saliency`` and no ``maps``, also the SPES maps the
    options configure (as ``explain`` by default). SPES maps need ``saliency`` with that map."""
    from ..pipeline import requested_maps

    wanted = [*(timestamp_source(s).map for s in sources), *maps]
    if saliency is None:
        names = resolve_maps(wanted)
        spes = [n for n in names if KINDS[n].family == "spes"]
        if spes:
            raise OptionError(f"{spes[0]} needs saliency options")
        return list(names)
    if not maps:
        wanted += requested_maps(None, saliency)
    return list(requested_maps(wanted, saliency))


def window_result(model: SpeechToTextModel, samples: np.ndarray, name: str, decoding: DecodingOptions,
                  saliency: SaliencyOptions | None, maps: list[str]) -> Explanation | None:
    """One window explained with ``maps`` (cross-attention at least); None when the model says nothing there."""
    from ..pipeline import explain, explain_attention, prepare

    prepared = prepare(model, samples, sample_rate=model.sample_rate, name=name)
    try:
        if maps == ["attention"]:
            return explain_attention(model, prepared, decoding=decoding)
        return explain(model, prepared, maps=maps, saliency=saliency or "fast", decoding=decoding, progress=False)
    except EmptyTranscriptError:
        return None


def window_words(result: Explanation, window: Window, sources: Sequence[str], heads: str | list,
                 top: int | None = None, speech: np.ndarray | None = None) -> dict[str, list[Word]]:
    """Words of one window per source, in file time, only those whose middle the window owns.

    ``speech`` (10 ms frames of the whole file) snaps word edges out of silence first, so a word
    after a pause is judged by where it is said, not by the pause it was stretched over.

    When ``attention`` and a saliency source are both asked for, each word carries the agreement of
    the two timings as its ``confidence`` (``alignment.checks.timing_agreement``).
    """
    raw = {s: word_timestamps(result, s, head_spec(heads, result, top) if s == "attention" else "alignment")
           for s in sources}
    others = [s for s in sources if s != "attention"]
    if "attention" in raw and others:
        attention = raw["attention"]
        raw["attention"] = with_confidence(attention, raw[others[0]])
        for s in others:
            raw[s] = with_confidence(raw[s], attention)
    out = {}
    for s, words in raw.items():
        words = shift(words, window.start)
        out[s] = owned(snap_to_speech(words, speech) if speech is not None else words, window)
    return out


def release_memory() -> None:
    """Hand freed heap back to the system after a window (glibc only; elsewhere a no-op).

    Windows differ in tokens and frames, so each allocates tensors of new sizes; glibc keeps the
    freed blocks, fragmented, and the resident size creeps up window after window (measured with
    SM_H over 21 windows: 760 MB to 1.37 GB without this, about 530 MB after every window with it).
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)  # type: ignore[union-attr]
    except (OSError, AttributeError, TypeError):
        pass


def run_config(stream: AudioStream, model: SpeechToTextModel, decoding: DecodingOptions,
               saliency: SaliencyOptions | None, options: LongformOptions, maps: Sequence[str]) -> dict[str, Any]:
    """What the per-window results depend on (``run.json``; every key checked when a run folder is
    resumed). Not the heads that time attention (words are timed again from the stored results)
    nor ``options.maps`` (``maps`` holds every map the windows keep)."""
    windowing = {k: v for k, v in asdict(options).items() if k not in ("heads", "top", "maps")}
    return json.loads(json.dumps({
        "version": INDEX_VERSION, "audio": stream.name, "samples": stream.frames, "rate": stream.rate,
        "model": model.name, "decoding": asdict(decoding), "saliency": asdict(saliency) if saliency else None,
        "maps": list(maps), "longform": windowing}))


def index_document(long: LongResult, config: dict[str, Any], files: list[str | None], done: bool,
                   heads: Any) -> dict[str, Any]:
    """``index.json``: config, windows (times, result file or null, transcript), words per source, failures."""
    return {"config": config, "complete": done, "duration": round(long.duration, 3), "seconds": round(long.seconds, 2),
            "windows": [{**w.to_dict(), "result": f, "text": t} for w, f, t in zip(long.windows, files,
                                                                                   long.window_texts)],
            "failed_windows": long.failures, "text": long.text,
            "words": {s: [w.to_dict() for w in ws] for s, ws in long.words.items()}, "heads": heads,
            **({"warnings": long.warnings} if long.warnings else {})}


def run_long(model: SpeechToTextModel, audio: str | Path | np.ndarray, *, sources: Sequence[str] = ("attention",),
             saliency: SaliencyOptions | str | None = None, decoding: DecodingOptions = DecodingOptions(),
             options: LongformOptions = LongformOptions(), out: str | Path | None = None,
             progress: bool = True) -> LongResult:
    """Transcribe, explain and time a recording of any length, window by window.

    ``audio``: a file, or an array at the model's sample rate. ``sources``: timestamp sources to
    stitch (map names, ``list_timestamp_sources()``); SPES maps need ``saliency`` with that map;
    ``options``: the windowing, the heads that time attention (``heads``, ``top``) and the other
    maps each window keeps (``maps``). ``out``: a run folder (``runfolder.RunFolder``: locked, its
    settings checked on resume) for one result per window (``windows/wNNNN.npz``) and
    ``index.json``; an existing folder made with the same settings is resumed, its finished windows
    read back instead of recomputed. Without ``out`` nothing is kept but the words, so memory
    stays at one window's worth for any length. A window that fails is recorded in ``failures``
    (and ``failures/wNNNN.json``) and the rest go on (``runfolder``'s failure rule).
    """
    check_type(decoding, DecodingOptions, "decoding")
    check_type(options, LongformOptions, "options")
    if isinstance(saliency, str):
        saliency = preset(saliency)
    if saliency is not None:
        check_type(saliency, SaliencyOptions, "saliency")
    if not sources:
        raise OptionError("give at least one timestamp source")
    names = window_maps(sources, options.maps, saliency)
    model.check_task(decoding.task, decoding.language)
    t0 = time.perf_counter()
    stream = AudioStream(audio, model.sample_rate)
    level = stream.envelope()
    speech = speech_frames(level, options)
    if not speech.any():
        raise AudioError(f"{stream.name} is silent: the speech detector found nothing to transcribe")
    windows = WINDOWINGS.get(options.windowing)().plan(stream.duration, level, speech, options)
    job = _LongJob(model, stream, sources, saliency, decoding, options, names, speech if options.snap else None)
    long = LongResult(stream.name, stream.duration, model.name, windows, {s: [] for s in sources},
                      [None] * len(windows), warnings=[] if isinstance(audio, np.ndarray) else check_header(audio))
    with ExitStack() as stack:
        if out is not None:
            _refuse_earlier_layout(Path(out))
        folder = None if out is None else stack.enter_context(
            RunFolder(out, run_config(stream, model, decoding, saliency, options, names), what="windows"))
        bar = tqdm(total=len(windows), desc="windows", unit="win", disable=not progress, dynamic_ncols=True)
        stack.callback(bar.close)
        for w in windows:
            job.window(long, w, folder)
            release_memory()
            bar.set_postfix_str(f"{min(w.end, stream.duration):.0f}/{stream.duration:.0f} s of audio", refresh=False)
            bar.update(1)
            long.seconds = time.perf_counter() - t0
            job.write_index(long, folder, done=False)
        for s in sources:
            long.words[s] = clean_words(long.words[s], options.min_word)
        long.seconds = time.perf_counter() - t0
        job.write_index(long, folder, done=True)
    return long


def _refuse_earlier_layout(out: Path) -> None:
    """A folder written before maps had names records its settings differently (``methods``):
    say so instead of listing every setting as changed."""
    if out.is_dir():
        old = stored_config(out)
        if old is not None and "methods" in old and "maps" not in old:
            raise OptionError(f"{out} was written by an earlier version of s2t-explain (its settings are recorded "
                              "differently); use a new output folder")


@dataclass
class _LongJob:
    """What every window of one ``run_long`` call shares, and what it does with each."""

    model: SpeechToTextModel
    stream: AudioStream
    sources: Sequence[str]
    saliency: SaliencyOptions | None
    decoding: DecodingOptions
    options: LongformOptions
    maps: list[str]
    speech: np.ndarray | None  # 10 ms speech frames of the whole file, to snap word edges (None: no snap)
    files: dict[int, str] = field(default_factory=dict)  # window index -> its result file name

    def result(self, w: Window, folder: RunFolder | None) -> Explanation | None:
        """The window's result: read back from a resumed folder, or computed (and saved)."""
        file = folder.path / "windows" / f"w{w.index:04d}.npz" if folder is not None else None
        if file is not None and file.exists():
            return Explanation.load(file)
        samples = self.stream.read(w.start, w.end)
        if self.stream.is_silent(samples):
            return None
        result = window_result(self.model, samples, f"{self.stream.name}#{w.start:.2f}-{w.end:.2f}", self.decoding,
                               self.saliency, self.maps)
        if result is not None and file is not None:
            result.save(file)
        return result

    def window(self, long: LongResult, w: Window, folder: RunFolder | None) -> None:
        """Explain and time window ``w`` into ``long``; a failure is recorded (the failure rule)."""
        def words() -> dict[str, list[Word]] | None:
            result = self.result(w, folder)
            if result is None:
                return None
            if folder is not None:
                self.files[w.index] = f"w{w.index:04d}.npz"
            long.window_texts[w.index] = result.transcript.text
            return window_words(result, w, self.sources, self.options.heads, self.options.top, self.speech)

        found = attempt(words)
        name = f"w{w.index:04d}"
        if isinstance(found, Exception):
            record = {"window": w.index, "start": round(w.start, 3), "end": round(w.end, 3),
                      "reason": failure_reason(found)}
            long.failures.append(record)
            if folder is not None:
                folder.failed(name, record)
            return
        if folder is not None:
            folder.succeeded(name)
        for s, ws in (found or {}).items():
            append(long.words[s], ws)

    def write_index(self, long: LongResult, folder: RunFolder | None, done: bool) -> None:
        if folder is not None:
            files = [self.files.get(w.index) for w in long.windows]
            write_json(folder.path / "index.json", index_document(long, folder.config, files, done,
                                                                  self.options.heads))
