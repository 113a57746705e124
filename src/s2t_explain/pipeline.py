"""The library API: audio in, transcript and explanation out.

>>> import s2t_explain as s2t
>>> model = s2t.load_model("whisper-tiny.en")
>>> result = s2t.explain_attention(model, "clip.wav")
>>> result.transcript.text, result["attention"].values.shape   # (L, H, I, T')
>>> result = s2t.explain(model, "clip.wav", decoding=s2t.DecodingOptions(beam_size=5))  # preset "faithful"

Every argument after ``audio`` is keyword-only and named for what it is: ``decoding=``
(:class:`DecodingOptions`), ``saliency=`` (:class:`SaliencyOptions` or a preset name), ``text=``
(force this text instead of decoding), ``sample_rate=`` (of an array ``audio``; ``explain`` takes a
:class:`Prepared` for that: ``prepare(model, samples, sample_rate=...)``). Option types are checked
before any work, with an :class:`OptionError` that names the argument.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from .audio import check_header, load_audio
from .decoding import DecodingOptions, Transcript
from .decoding.scoring import make_transcript
from .errors import AudioError, EmptyTranscriptError, OptionError, check_type
from .executors.base import Executor
from .explainers.base import Session
from .explainers.catalog import named_maps, resolve_maps
from .explainers.run import explain_maps
from .features import Features
from .models.base import SpeechToTextModel
from .results.explanation import Explanation
from .saliency.options import DEFAULT_PRESET, SaliencyOptions, preset
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


def prepared_audio(model: SpeechToTextModel, audio: Audio | Prepared, sample_rate: int | None) -> Prepared:
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
    prepared = prepared_audio(model, audio, sample_rate)
    return make_transcript(model, prepared.states, decoding, text=text, distributions=distributions)


def explain_attention(model: SpeechToTextModel, audio: Audio | Prepared, *,
                      decoding: DecodingOptions = DecodingOptions(), text: str | None = None,
                      distributions: bool = False, sample_rate: int | None = None) -> Explanation:
    """Transcript plus cross-attention of every layer and head: ``result["attention"]``, (L, H, I, T').

    ``distributions`` keeps the clean (I, V) log-distributions in the transcript.
    """
    check_type(decoding, DecodingOptions, "decoding")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    prepared = prepared_audio(model, audio, sample_rate)
    timings["encode"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    transcript = make_transcript(model, prepared.states, decoding, text=text, distributions=distributions)
    timings["decode"] = time.perf_counter() - t0
    if transcript.n_text_tokens == 0:
        raise EmptyTranscriptError(
            "the model produced an empty transcript for this audio; nothing to explain "
            "(force the spoken text if the audio has speech)"
        )
    with Session(model, prepared, transcript) as session:
        maps = explain_maps(session, ["attention"])
    timings["cross_attention"] = maps["attention"].cost.seconds
    return Explanation(
        transcript=transcript,
        maps=maps,
        frame_times=frame_times(model.n_encoder_frames(prepared.features.n_frames), model.encoder_stride),
        n_frames=prepared.features.n_frames,
        model=model.name,
        audio=prepared.source,
        duration=prepared.duration,
        alignment_heads=model.alignment_heads,
        timings=timings,
        encoder_stride=model.encoder_stride,
        provenance={"device": str(model.device), "dtype": str(model.dtype).replace("torch.", "")},
        warnings=list(prepared.warnings),
    )


def requested_maps(maps: str | tuple[str, ...] | list[str] | None, options: SaliencyOptions) -> tuple[str, ...]:
    """The map names ``explain`` computes (checked, in catalogue order): ``maps`` resolved
    (``explainers.resolve_maps``), or by default cross-attention plus the SPES maps ``options``
    configure (``spes-token`` too when previous-token masking is on)."""
    if maps is None:
        names = ["attention"]
        if options.input is not None:
            names += ["spes-input"] + (["spes-token"] if options.input.p_dec > 0 else [])
        if options.encoder is not None:
            names.append("spes-encoder")
        return resolve_maps(names)
    names, named = list(resolve_maps(maps)), named_maps(maps)
    for name, part in (("spes-input", options.input), ("spes-encoder", options.encoder)):
        if name in named and part is None:
            raise OptionError(f"{name} asked for, but the saliency options leave it out "
                              f"(SaliencyOptions.{name.split('-')[1]} is None)")
        if part is None:
            names = [n for n in names if n != name]  # a group brings only the SPES maps the options set
    token_masks = options.input is not None and options.input.p_dec > 0
    if not token_masks:
        if "spes-token" in named_maps(maps):
            raise OptionError("spes-token needs previous-token masking: set InputSaliencyOptions(p_dec=...) above 0 "
                              "(the paper uses 0.5)")
        names = [n for n in names if n != "spes-token"]  # a group (all, spes) brings it only with token masks
    elif "spes-input" in names:
        names.append("spes-token")  # free: the same masks
    return resolve_maps(names)


def explain(
    model: SpeechToTextModel,
    audio: Audio | Prepared,
    *,
    maps: str | tuple[str, ...] | list[str] | None = None,
    saliency: SaliencyOptions | str = DEFAULT_PRESET,
    decoding: DecodingOptions = DecodingOptions(),
    text: str | None = None,
    progress: bool = True,
    executor: Executor | None = None,
) -> Explanation:
    """Transcript and explanation maps: by default cross-attention (L, H, I, T'), SM_X (I, T, F) and
    SM_H (I, T'), each with its cost and (SPES) masks and reliability.

    ``maps`` names what to compute (``list_maps()``; groups ``all``, ``spes``, ``methods``;
    cross-attention always comes). ``saliency`` is a :class:`SaliencyOptions` or a preset name
    (``faithful``: the paper's setting at the masks it needs, the default; ``fast``: a quick look
    that is not the paper's map; ``paper``: all 20000 masks); ``progress`` shows a bar per SPES
    map (masks/s and reliability).
    ``executor`` (``s2t_explain.executors``: local worker processes, Ray) spreads each SPES map's
    masks over workers; the maps equal this process's for the same seed. ``audio`` is a file, an
    array at the model's rate or a :class:`Prepared` (an array at another rate: ``prepare(model,
    samples, sample_rate=...)`` first).
    """
    check_type(saliency, (SaliencyOptions, str), "saliency", "give SaliencyOptions(...) or a preset name")
    check_type(decoding, DecodingOptions, "decoding")
    if executor is not None:
        check_type(executor, Executor, "executor", "use s2t_explain.executors.executor_for(workers=N)")
    opts = preset(saliency) if isinstance(saliency, str) else saliency
    names = requested_maps(maps, opts)  # unknown names fail before any work
    if {"spes-input", "spes-token", "spes-encoder"} & set(names):  # what runs is what each SPES map records
        opts = replace(opts, input=opts.input if {"spes-input", "spes-token"} & set(names) else None,
                       encoder=opts.encoder if "spes-encoder" in names else None)
    prepared = prepared_audio(model, audio, None)
    result = explain_attention(model, prepared, decoding=decoding, text=text, distributions=True)
    with Session(model, prepared, result.transcript, opts, progress=progress, executor=executor) as session:
        result.maps.update(explain_maps(session, [n for n in names if n not in result.maps]))
    result.features = prepared.features.values[:, : prepared.features.n_frames].float().cpu().numpy()
    for name in names:
        if name != "attention":
            result.timings[name] = result.maps[name].cost.seconds
    return result
