"""Running explanation methods on one utterance (imports the implementations, which register
themselves in ``catalog.METHODS``)."""

from __future__ import annotations

import torch

from ..decoding import DecodingOptions
from ..decoding.scoring import make_transcript
from ..decoding.transcript import Transcript
from ..errors import OptionError, check_type
from ..models.base import SpeechToTextModel
from ..pipeline import Audio, Prepared, _prepared
from ..results import Explanation
from ..saliency.perturb import silenced_features
from . import attention, gradients  # noqa: F401  (registers the methods)
from .base import Context, MethodMap
from .catalog import METHODS, MethodOptions, list_methods


def explain_methods(model: SpeechToTextModel, audio: Audio | Prepared, methods: list[str] | tuple[str, ...], *,
                    options: MethodOptions = MethodOptions(), decoding: DecodingOptions = DecodingOptions(),
                    text: str | None = None, transcript: Transcript | None = None,
                    sample_rate: int | None = None) -> dict[str, MethodMap]:
    """Run each named method on one utterance; returns name -> :class:`MethodMap` (map and cost).

    The token sequence is the decoded hypothesis (or ``text`` forced, or a given ``transcript``),
    the same one SPES and cross-attention explain.
    """
    check_type(options, MethodOptions, "options")
    if not methods:
        raise OptionError("no explanation method asked for; choose from: " + ", ".join(list_methods()))
    runners = {name: METHODS.get(name)() for name in methods}  # unknown names fail before any work
    prepared = _prepared(model, audio, sample_rate)
    if transcript is None:
        transcript = make_transcript(model, prepared.states, decoding, text=text)
    values = prepared.features.values
    ctx = Context(model, values, prepared.features.n_frames, prepared.states, transcript,
                  silenced_features(values, prepared.features.n_frames))
    with torch.no_grad():  # methods turn gradients on where they need them
        return {name: run(name, ctx, options) for name, run in runners.items()}


def add_methods(result: Explanation, model: SpeechToTextModel, prepared: Prepared, methods: list[str] | tuple[str, ...],
                options: MethodOptions = MethodOptions()) -> dict[str, MethodMap]:
    """Run ``methods`` on the utterance of ``result`` (its own transcript) and store their maps in
    ``result.methods`` and their costs in ``result.saliency["methods"]``; returns the runs."""
    runs = explain_methods(model, prepared, methods, options=options, transcript=result.transcript)
    for name, run in runs.items():
        result.methods[name] = run.values.astype("float32")
        result.timings[f"method:{name}"] = run.cost.seconds
    result.saliency.setdefault("methods", {}).update(
        {name: {"grain": run.grain, **run.cost.to_dict()} for name, run in runs.items()})
    result.saliency["method_options"] = {"ig_steps": options.ig_steps, "token_batch": options.token_batch,
                                         "absolute": options.absolute}
    return runs
