"""One utterance of a study: explain it, then compare and judge the maps.

Returns the :class:`Explanation` (saved as the utterance's ``.npz``) and a JSON-ready record
(:class:`~s2t_explain.study.record.UtteranceRecord`; ``study.record`` documents every key):
- ``agreement``: for each pair (``CA-SMX``: cross-attention vs pooled SM_X, ``CA-SMH``) and each
  statistic, the correlation per (layer, head), per layer, over all heads, over the alignment
  heads and for the best head; ``SMX-SMH``: one value per statistic;
- ``faithfulness``: deletion / insertion curves and AUCs per scoring, for cross-attention
  (aggregated over ``attention_heads``), pooled SM_X, full-resolution SM_X, SM_H and a random ranking;
- ``size``: compactness (percent) of each map;
- ``methods``: each other explanation method (``StudyOptions.methods``) scored against SPES, with its
  cost (``study.methods``); their maps join the faithfulness curves and are kept in the ``.npz``;
- ``tokens``: per-token kinds, probabilities, attention entropy and row correlations;
- ``reliability``, ``masks``, the transcript, its WER/BLEU against the reference, and timings;
- ``audio`` (the file) and, for an utterance that is part of it, ``segment``: [start, end] seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from ..audio import check_header
from ..corpora import Utterance
from ..decoding import DecodingOptions
from ..errors import OptionError
from ..metrics.agreement import agreement, correlate, normalize
from ..metrics.faithfulness import size_auc
from ..metrics.text import TEXT_METRICS
from ..models.base import SpeechToTextModel
from ..pipeline import Prepared, explain, prepare
from ..pooling import pool
from ..results.explanation import Explanation
from ..results.maps import Map
from .faithfulness import CurveScorer, faithfulness_curves
from .methods import compare_methods, method_maps, token_analysis
from .options import StudyOptions
from .pairs import compare_pairs
from .record import (
    RELIABILITY_KEYS,
    STUDY_MAPS,
    Comparison,
    FaithfulnessRecord,
    FidelityRecord,
    Timings,
    UtteranceRecord,
)

EXPLANATIONS = ("CA", "SMX-pooled", "SMX", "SMH")  # the maps judged by faithfulness and size


def study_maps(result: Explanation, options: StudyOptions) -> dict[str, np.ndarray]:
    """The maps over the explained rows (R): ``CA-heads`` (L, H, R, T'), ``CA`` (R, T') aggregated over
    ``attention_heads``, ``SMX`` (R, T, F), ``SMX-pooled`` and ``SMH`` (R, T')."""
    missing = sorted({name for name in STUDY_MAPS.values() if name not in result})
    if missing:
        raise ValueError(f"the result has no {', '.join(missing)} map to compare")
    rows = result.text_rows(options.include_eos)
    smx = result["spes-input"].values[rows]
    return {
        "CA-heads": result.cross_attention[:, :, rows],
        "CA": result.aggregate(options.attention_heads, text_only=False)[rows],
        "SMX": smx,
        "SMX-pooled": pool(smx, result.encoder_stride, options.pooling),
        "SMH": result["spes-encoder"].values[rows],
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()] if value.ndim else _jsonable(value.item())
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return _jsonable(value.item())
    return value


def compare(result: Explanation, options: StudyOptions, maps: dict[str, np.ndarray] | None = None) -> Comparison:
    """Agreement at every granularity and the size of each map (no model needed)."""
    maps = study_maps(result, options) if maps is None else maps
    record: dict[str, Any] = {"agreement": {}, "size": {}}
    for pair, saliency in (("CA-SMX", maps["SMX-pooled"]), ("CA-SMH", maps["SMH"])):
        record["agreement"][pair] = {
            stat: agreement(maps["CA-heads"], saliency, result.alignment_heads, stat, options.normalization)
            for stat in options.statistics
        }
    record["agreement"]["SMX-SMH"] = {
        stat: correlate(maps["SMX-pooled"], maps["SMH"], stat, options.normalization) for stat in options.statistics
    }
    for name in EXPLANATIONS:
        per_token = normalize(maps[name], "minmax")
        record["size"][name] = float(np.mean([size_auc(row) for row in per_token]))
    return _jsonable(record)


def analyze(model: SpeechToTextModel, utterance: Utterance, options: StudyOptions, task: str = "transcribe",
            language: str | None = None,
            stage: Callable[[str], None] | None = None) -> tuple[Explanation, UtteranceRecord]:
    """Explain one utterance and measure agreement and faithfulness; ``stage(name)`` reports progress."""
    say = stage or (lambda _: None)
    t0 = time.perf_counter()
    decoding = DecodingOptions(task=utterance.task or task, language=utterance.language or language)
    model.check_task(decoding.task, decoding.language)
    if options.against == "reference" and not utterance.reference:  # before any model work
        raise OptionError("scoring against the reference needs a reference text for every utterance")
    say("decoding")
    samples = utterance.load(model.sample_rate)  # only the utterance's segment is read
    prepared = prepare(model, samples, sample_rate=model.sample_rate, name=utterance.source)
    say("saliency")
    result = explain(model, prepared, saliency=options.saliency, decoding=decoding, progress=False)
    if utterance.data is None:  # read from a file: a truncated one is warned about and recorded
        result.warnings = check_header(utterance.audio)
    t_explain = time.perf_counter() - t0
    maps = study_maps(result, options)
    runs: dict[str, Map] = {}
    if options.methods:
        from ..methods import add_methods

        say("methods")
        runs = add_methods(result, model, prepared, options.methods, options.method_options)  # kept in the .npz
    per_method = method_maps(result, runs, options)
    t1 = time.perf_counter()
    faithfulness = _faithfulness(model, prepared, result, utterance, options, maps, per_method, say)
    timings: Timings = {"explain": t_explain, "faithfulness": time.perf_counter() - t1,
                        "total": time.perf_counter() - t0}
    record = _record(result, utterance, options, maps, faithfulness, timings)
    if runs:
        record["methods"] = _jsonable(compare_methods(result, maps, runs, options, per_method))
    record["tokens"] = _jsonable(token_analysis(result, maps, per_method, options))
    if options.pairs:
        record["pairs"] = _jsonable(compare_pairs(result, options.pairs, result.text_rows(options.include_eos),
                                                  options.statistics, options.pooling, options.attention_heads,
                                                  options.normalization))
    fidelity = (result["spes-input"].reliability or {}).get("fidelity") if "spes-input" in result else None
    if fidelity is not None:  # SM_X's fidelity class, as its map recorded it (explainers.spes)
        record["fidelity"] = cast(FidelityRecord, fidelity)
    return result, _jsonable(record)


def _metric(result: Explanation, options: StudyOptions) -> str:
    return "wer" if result.transcript.task == "transcribe" else options.translation_metric


def _faithfulness(model: SpeechToTextModel, prepared: Prepared, result: Explanation, utterance: Utterance,
                  options: StudyOptions, maps: dict[str, np.ndarray], per_method: dict[str, dict[str, np.ndarray]],
                  say: Callable[[str], None]) -> dict[str, FaithfulnessRecord]:
    """Deletion/insertion curves of every explanation, per scoring of ``options.scorings``."""
    against = utterance.reference if options.against == "reference" else None
    explanations = {name: maps[name] for name in EXPLANATIONS}
    explanations.update({name: m.get("full", m["map"]) for name, m in per_method.items()})
    assert options.saliency.input is not None  # the study needs both maps (StudyOptions checks)
    out: dict[str, FaithfulnessRecord] = {}
    for how in options.scorings:
        say(f"faithfulness ({how})")
        scorer = CurveScorer(model, prepared.features, result.transcript, how=how, metric=_metric(result, options),
                             against=against, baseline=options.saliency.input.baseline,
                             batch_size=options.saliency.batch_size)
        curves = faithfulness_curves(scorer, explanations, prepared.features.values.shape[0], result.encoder_stride,
                                     options.normalization, steps=options.steps, seed=options.seed)
        out[how] = _jsonable(curves)
    return out


def _record(result: Explanation, utterance: Utterance, options: StudyOptions, maps: dict[str, np.ndarray],
            faithfulness: dict[str, FaithfulnessRecord], timings: Timings) -> UtteranceRecord:
    """The utterance's record (``study.record.UtteranceRecord``) but for methods and tokens."""
    comparison = compare(result, options, maps)
    transcript = result.transcript
    saliency_runs: dict[str, dict[str, Any]] = {
        key: run for name, key in RELIABILITY_KEYS.items()  # in this order
        if name in result and (run := result[name].reliability) is not None}
    record: UtteranceRecord = {
        "agreement": comparison["agreement"],
        "size": comparison["size"],
        "faithfulness": faithfulness,
        "id": utterance.id,
        "audio": str(utterance.audio),
        "task": transcript.task,
        "language": transcript.language,
        "hypothesis": transcript.text,
        "reference": utterance.reference,
        "n_tokens": int(maps["CA"].shape[0]),
        "duration_s": result.duration,
        "model": result.model,
        "reliability": {name: run.get("reliability") for name, run in saliency_runs.items()},
        "reliability_pooled": {name: run.get("reliability_pooled") for name, run in saliency_runs.items()},
        "masks": {name: run.get("n_masks") for name, run in saliency_runs.items()},
        "timings_s": timings,
    }
    if utterance.segment is not None:  # where in ``audio`` the utterance lies (seconds)
        cast(dict[str, Any], record)["segment"] = [utterance.segment[0], utterance.segment[0] + result.duration]
    if result.warnings:
        record["warnings"] = result.warnings
    if utterance.reference:
        metric = _metric(result, options)
        record["reference_score"] = {metric: TEXT_METRICS.get(metric)(transcript.text, utterance.reference)}
    return record
