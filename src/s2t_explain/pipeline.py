"""The library API: audio in, transcript and explanation out.

>>> import s2t_explain as s2t
>>> model = s2t.load_model("whisper-tiny.en")
>>> result = s2t.explain_attention(model, "clip.wav")
>>> result.transcript.text, result.cross_attention.shape   # (L, H, I, T')
>>> result = s2t.explain(model, "clip.wav", saliency="fast", decoding=s2t.DecodingOptions(beam_size=5))

Every argument after ``audio`` is keyword-only and named for what it is: ``decoding=``
(:class:`DecodingOptions`), ``saliency=`` (:class:`SaliencyOptions` or a preset name), ``text=``
(force this text instead of decoding), ``sample_rate=`` (of an array ``audio``). Option types are
checked before any work, with an :class:`OptionError` that names the argument.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .attention.capture import cross_attention
from .audio import check_header, load_audio
from .decoding import DecodingOptions, Transcript
from .decoding.scoring import make_transcript
from .errors import AudioError, EmptyTranscriptError, check_type
from .executors.base import Executor
from .features import Features
from .models.base import SpeechToTextModel
from .results.explanation import Explanation
from .saliency.engine import MapRun
from .saliency.explain import SaliencyJob, saliency_meta
from .saliency.options import SaliencyOptions, preset
from .timebase import SAMPLE_RATE, frame_times


@dataclass
class Prepared:
    """Audio made ready for a model: samples, features and encoder states."""

    audio: np.ndarray  # (samples,) float32 at the model's rate
    features: Features  # values (F, N), T speech frames
    states: torch.Tensor  # (1, S, D) encoder output
    source: str  # file path or "array"
    warnings: tuple[str, ...] = ()  # what the file's header promised and its data did not hold (truncated)

    @property
    def duration(self) -> float:
        return self.audio.shape[0] / SAMPLE_RATE


Audio = str | Path | np.ndarray  # a file path, or samples at ``sample_rate`` (default: the model's)


def _check_model(model: object) -> None:
    check_type(model, SpeechToTextModel, "model", "load it with s2t_explain.load_model(...)")


def prepare(
    model: SpeechToTextModel,
    audio: Audio,
    *,
    sample_rate: int | None = None,
    name: str | None = None,
) -> Prepared:
    """Load ``audio`` (path, or array at ``sample_rate``), check its length, encode it.

    ``name`` labels array input in results (default: the path, or "array").
    """
    _check_model(model)
    check_type(audio, (str, Path, np.ndarray), "audio", "give a file path or an array of samples")
    samples = load_audio(audio, model.sample_rate, source_rate=sample_rate)
    seconds = samples.shape[0] / model.sample_rate
    if model.max_seconds is not None and seconds > model.max_seconds + 1e-6:
        raise AudioError(
            f"audio is {seconds:.1f} s long but {model.name} takes at most {model.max_seconds:.0f} s "
            "per utterance; cut it into shorter clips (e.g. with sox or ffmpeg)"
        )
    features = model.features(samples)
    if features.n_frames < 1 or not torch.isfinite(features.values).all():
        raise AudioError(f"audio is too short ({seconds * 1000:.0f} ms) to compute features; give more speech")
    with torch.no_grad():
        states = model.encode(features.values[None])
    source = name or (str(audio) if not isinstance(audio, np.ndarray) else "array")
    notes = () if isinstance(audio, np.ndarray) else tuple(check_header(audio))
    return Prepared(samples, features, states, source, notes)


def _prepared(model: SpeechToTextModel, audio: Audio | Prepared, sample_rate: int | None) -> Prepared:
    """``audio`` made ready (already-prepared audio is taken as it is)."""
    if isinstance(audio, Prepared):
        _check_model(model)
        return audio
    return prepare(model, audio, sample_rate=sample_rate)


def transcribe(model: SpeechToTextModel, audio: Audio | Prepared, *, decoding: DecodingOptions = DecodingOptions(),
               text: str | None = None, distributions: bool = False, sample_rate: int | None = None) -> Transcript:
    """Decode ``audio`` (or force ``text``) and return the scored token sequence.

    An array ``audio`` is taken at ``sample_rate`` (default: the model's, 16 kHz).
    ``distributions`` keeps the (I, V) log-distributions (for ``Transcript.top_alternatives``).
    """
    check_type(decoding, DecodingOptions, "decoding")
    prepared = _prepared(model, audio, sample_rate)
    return make_transcript(model, prepared.states, decoding, text=text, distributions=distributions)


def explain_attention(model: SpeechToTextModel, audio: Audio | Prepared, *,
                      decoding: DecodingOptions = DecodingOptions(), text: str | None = None,
                      distributions: bool = False, sample_rate: int | None = None) -> Explanation:
    """Transcript plus cross-attention of every layer and head, shape (L, H, I, T').

    ``distributions`` keeps the clean (I, V) log-distributions in the transcript.
    """
    check_type(decoding, DecodingOptions, "decoding")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    prepared = _prepared(model, audio, sample_rate)
    timings["encode"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    transcript = make_transcript(model, prepared.states, decoding, text=text, distributions=distributions)
    timings["decode"] = time.perf_counter() - t0
    if transcript.n_text_tokens == 0:
        raise EmptyTranscriptError(
            "the model produced an empty transcript for this audio; nothing to explain "
            "(force the spoken text if the audio has speech)"
        )
    t0 = time.perf_counter()
    n_enc = model.n_encoder_frames(prepared.features.n_frames)
    attention = cross_attention(model, prepared.states, transcript.ids, n_enc)
    timings["cross_attention"] = time.perf_counter() - t0
    return Explanation(
        transcript=transcript,
        cross_attention=attention,
        frame_times=frame_times(n_enc, model.encoder_stride),
        n_frames=prepared.features.n_frames,
        model=model.name,
        audio=prepared.source,
        duration=prepared.duration,
        alignment_heads=model.alignment_heads,
        timings=timings,
        encoder_stride=model.encoder_stride,
        warnings=list(prepared.warnings),
    )


def explain(
    model: SpeechToTextModel,
    audio: Audio | Prepared,
    *,
    saliency: SaliencyOptions | str = "fast",
    decoding: DecodingOptions = DecodingOptions(),
    text: str | None = None,
    sample_rate: int | None = None,
    progress: bool = True,
    executor: Executor | None = None,
    methods: tuple[str, ...] | list[str] = (),
) -> Explanation:
    """Transcript, cross-attention (L, H, I, T'), SM_X (I, T, F), SM_H (I, T') and run metadata.

    ``saliency`` is a :class:`SaliencyOptions` or a preset name (``fast``, ``paper``); ``progress``
    shows a bar per map (masks/s and reliability). ``executor`` (``s2t_explain.executors``:
    local worker processes, Ray) spreads each map's masks over workers; the maps equal this
    process's for the same seed. ``methods`` (``s2t_explain.methods``) adds other explanations' maps
    (``result.methods``) with their costs.
    """
    check_type(saliency, (SaliencyOptions, str), "saliency", "give SaliencyOptions(...) or a preset name")
    if methods:
        from .methods.catalog import METHODS

        for name in methods:
            METHODS.check(name)  # before any work
    check_type(decoding, DecodingOptions, "decoding")
    if executor is not None:
        check_type(executor, Executor, "executor", "use s2t_explain.executors.executor_for(workers=N)")
    opts = preset(saliency) if isinstance(saliency, str) else saliency
    prepared = _prepared(model, audio, sample_rate)
    result = explain_attention(model, prepared, decoding=decoding, text=text, distributions=True)
    runs: dict[str, MapRun | None] = {}
    with SaliencyJob(model, prepared.features.values, prepared.features.n_frames, prepared.states,
                     result.transcript, opts, progress=progress, executor=executor) as job:
        if opts.input is not None:
            input_run, token_run = job.input_saliency()
            runs["input"], runs["tokens"] = input_run, token_run
            result.input_saliency = input_run.values.astype(np.float32)
            if token_run is not None:
                result.token_saliency = token_run.values.astype(np.float32)
        if opts.encoder is not None:
            encoder_run = job.encoder_saliency()
            runs["encoder"] = encoder_run
            result.encoder_saliency = encoder_run.values.astype(np.float32)
    result.features = prepared.features.values[:, : prepared.features.n_frames].float().cpu().numpy()
    result.saliency = saliency_meta(opts, runs, model)
    for name, run in runs.items():
        if run is not None:
            result.timings[f"{name}_saliency"] = run.seconds
    if methods:
        from .methods import add_methods

        add_methods(result, model, prepared, methods)
    return result
