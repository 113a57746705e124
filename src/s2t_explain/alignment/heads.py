"""Head discovery: rank every (layer, head) for alignment and pick a head set.

Rankings (higher score = better head), each averaged over the given results:
- ``saliency``: Pearson r between the head's cross-attention and a saliency map (SM_H by
  default, or pooled SM_X), per-token z-scored, as in the study;
- ``reference``: minus the mean absolute word-boundary error (s) of timestamps from that head
  alone, against reference word timings;
- ``unsupervised`` (needs neither): agreement with the consensus of all heads: Pearson r between
  the head's own alignment matrix (the timestamp recipe applied to that head alone) and the
  matrix of all heads averaged. On whisper-tiny.en its top 8 are exactly the model's published
  alignment heads (Spearman 0.94 with the reference ranking), where concentration x monotonicity
  of each head's attention (``shape_scores``, the obvious cheap cue) picked heads with 3x the
  timing error (README).
The chosen set is the top ``k`` heads, written ``[[layer, head], ...]`` (the form model configs use).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from ..errors import OptionError
from ..metrics.agreement import agreement
from ..pooling import pool
from ..results.explanation import Explanation
from .timestamps import alignment_rows, attention_matrix

METHODS = ("unsupervised", "saliency", "reference")


def unsupervised_scores(result: Explanation) -> np.ndarray:
    """(L, H) Pearson r of each head's alignment matrix with the all-heads consensus matrix."""
    rows = alignment_rows(result)
    consensus = attention_matrix(result, rows, "all").ravel()
    n_layers, n_heads = result.shape[:2]
    scores = np.zeros((n_layers, n_heads))
    for l in range(n_layers):
        for h in range(n_heads):
            own = attention_matrix(result, rows, [[l, h]]).ravel()
            scores[l, h] = float(np.corrcoef(own, consensus)[0, 1]) if own.std() > 0 else 0.0
    return scores


def shape_scores(result: Explanation) -> np.ndarray:
    """(L, H) concentration x monotonicity of each head's attention (a weaker unsupervised cue)."""
    rows = alignment_rows(result)
    att = result.cross_attention[:, :, rows].astype(np.float64)  # (L, H, R, T')
    sums = att.sum(-1, keepdims=True)
    att = np.divide(att, sums, out=np.zeros_like(att), where=sums > 0)
    concentration = att.max(-1).mean(-1)  # (L, H)
    frames = np.arange(att.shape[-1])
    centroid = (att * frames).sum(-1)  # (L, H, R)
    order = np.arange(att.shape[2])
    mono = np.zeros(att.shape[:2])
    if att.shape[2] > 1:
        for l in range(att.shape[0]):
            for h in range(att.shape[1]):
                if np.ptp(centroid[l, h]) == 0:
                    continue  # a constant centroid is not monotonic
                rho = spearmanr(order, centroid[l, h]).statistic
                mono[l, h] = max(float(rho), 0.0) if np.isfinite(rho) else 0.0
    return concentration * mono


def saliency_scores(result: Explanation, which: str = "encoder") -> np.ndarray:
    """(L, H) Pearson r of each head's cross-attention with SM_H (``encoder``) or pooled SM_X (``input``)."""
    if which == "encoder":
        target = result.encoder_saliency
    else:
        target = None if result.input_saliency is None else pool(result.input_saliency, result.encoder_stride, "max")
    if target is None:
        raise OptionError(f"ranking heads by saliency needs {which} saliency in the result; compute it first")
    rows = result.text_rows()
    return agreement(result.cross_attention[:, :, rows], target[rows])["head"]


def reference_scores(result: Explanation, reference: list[tuple[float, float]]) -> np.ndarray:
    """(L, H) minus the mean absolute start/end error (s) of single-head word timestamps."""
    from .timestamps import word_timestamps

    n_layers, n_heads = result.shape[:2]
    out = np.zeros((n_layers, n_heads))
    for l in range(n_layers):
        for h in range(n_heads):
            words = word_timestamps(result, "attention", [[l, h]])
            if len(words) != len(reference):
                out[l, h] = -np.inf
                continue
            err = [abs(w.start - s) + abs(w.end - e) for w, (s, e) in zip(words, reference)]
            out[l, h] = -float(np.mean(err)) / 2
    return out


def top_heads(scores: np.ndarray, k: int) -> list[list[int]]:
    """The ``k`` best (layer, head) pairs, best first."""
    if k < 1:
        raise OptionError(f"the number of heads to pick must be >= 1, got {k}")
    flat = np.argsort(-np.nan_to_num(scores, nan=-np.inf), axis=None, kind="stable")[:k]
    return [[int(i), int(j)] for i, j in zip(*np.unravel_index(flat, scores.shape))]


def head_set_document(scores: np.ndarray, k: int, method: str, n_results: int) -> dict[str, Any]:
    return {"heads": top_heads(scores, k), "method": method, "results": n_results,
            "scores": [[l, h, round(float(scores[l, h]), 5)] for l, h in top_heads(scores, scores.size)]}


def read_head_file(path: str | Path) -> list[list[int]]:
    """A head list ``[[l, h], ...]`` or a head-set document ``{"heads": [...]}`` from a JSON file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise OptionError(f"cannot read head set {path}: {e}") from None
    heads = data.get("heads") if isinstance(data, dict) else data
    if not isinstance(heads, list) or not all(isinstance(p, list) and len(p) == 2 for p in heads):
        raise OptionError(f"{path} holds no head list; expected [[layer, head], ...] or {{\"heads\": [...]}}")
    return heads
