"""Explanation methods other than SPES, scored against it on one utterance, and per-token analysis.

Every method's map is brought to the study's comparison form: per-head maps (L, H, R, T') are
compared at every head/layer granularity and aggregated over ``attention_heads`` for the rest;
input maps (R, T, F) are pooled to encoder frames like SM_X. Agreement uses the study's
statistics and normalization; ``per_token`` keeps each token's row correlation (Pearson) so the
report can show distributions, token kinds and the worst tokens.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..attention.heads import aggregate, resolve_heads
from ..metrics.agreement import agreement, correlate, normalize
from ..metrics.faithfulness import size_auc
from ..metrics.tokens import attention_entropy, row_correlations, token_kinds, word_classes
from ..pooling import pool
from ..results.explanation import Explanation
from ..results.maps import Map
from .options import StudyOptions
from .record import SPES_TARGETS

CHEAP_PAIRS = ("attention-norm", "grad-encoder")  # methods whose per-token agreement with CA is recorded


def method_maps(result: Explanation, runs: dict[str, Map], options: StudyOptions) -> dict[str, dict[str, np.ndarray]]:
    """Per method: ``map`` (R, T') in comparison form, ``heads`` (L, H, R, T') for per-head methods,
    ``full`` (R, T, F) for input methods; R = the study's explained rows."""
    rows = result.text_rows(options.include_eos)
    n_layers, n_heads = result.shape[:2]
    heads = resolve_heads(options.attention_heads, n_layers, n_heads, result.alignment_heads)
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, run in runs.items():
        values = run.values
        if run.grain == "per-head":  # (L, H, I, T')
            per_head = values[:, :, rows]
            out[name] = {"heads": per_head, "map": aggregate(per_head, heads)}
        elif run.grain == "input":  # (I, T, F)
            full = values[rows]
            out[name] = {"full": full, "map": pool(full, result.encoder_stride, options.pooling)}
        else:  # (I, T')
            out[name] = {"map": values[rows]}
    return out


def compare_methods(result: Explanation, maps: dict[str, np.ndarray], runs: dict[str, Map],
                    options: StudyOptions, per_method: dict[str, dict[str, np.ndarray]] | None = None
                    ) -> dict[str, dict[str, Any]]:
    """name -> MethodRecord (see ``study.record``): cost, agreement with SPES, size, per-token r.
    ``per_method``: the runs' :func:`method_maps`, when the caller has them already."""
    out: dict[str, dict[str, Any]] = {}
    for name, m in (per_method if per_method is not None else method_maps(result, runs, options)).items():
        agree: dict[str, dict[str, Any]] = {}
        per_token: dict[str, Any] = {}
        for target, key in SPES_TARGETS.items():
            spes = maps[key]
            agree[target] = {}
            for stat in options.statistics:
                values: dict[str, Any] = {"all": correlate(m["map"], spes, stat, options.normalization)}
                if "heads" in m:
                    values.update({k: v for k, v in agreement(m["heads"], spes, result.alignment_heads, stat,
                                                              options.normalization).items() if k != "all"})
                agree[target][stat] = values
            per_token[target] = row_correlations(m["map"], spes)
        shown = m.get("full", m["map"])
        size = float(np.mean([size_auc(row) for row in normalize(shown, "minmax")]))
        out[name] = {"grain": runs[name].grain, "cost": runs[name].cost.to_dict(), "agreement": agree, "size": size,
                     "per_token": per_token}
    return out


def token_analysis(result: Explanation, maps: dict[str, np.ndarray], method_maps_: dict[str, dict[str, np.ndarray]],
                   options: StudyOptions) -> dict[str, Any]:
    """TokenRecord: per explained token its label, kind, word class, probability, attention entropy
    and row correlations of CA (aggregated) with SM_X pooled, SM_H and the cheap methods."""
    index = np.flatnonzero(result.text_rows(options.include_eos))
    labels = [result.transcript.labels[i] for i in index]
    language = result.transcript.language
    r = {"CA-SMX": row_correlations(maps["CA"], maps["SMX-pooled"]),
         "CA-SMH": row_correlations(maps["CA"], maps["SMH"])}
    for name in CHEAP_PAIRS:
        if name in method_maps_:
            r[f"CA-{name}"] = row_correlations(maps["CA"], method_maps_[name]["map"])
    return {"labels": labels, "kinds": token_kinds(labels, language), "classes": word_classes(labels, language),
            "prob": np.exp(result.transcript.logprobs[index]), "entropy": attention_entropy(maps["CA"]), "r": r}
