"""Head discovery: rank every (layer, head) for alignment and pick a head set.

Rankings (higher score = better head), each averaged over the given results:
- ``saliency``: Pearson r between the head's cross-attention and a map over time (SM_H by
  default, or any other: ``heads --map NAME``), per-token z-scored, as in the study;
- ``reference``: minus the mean absolute word-boundary error (s) of timestamps from that head
  alone, against reference word timings;
- ``unsupervised`` (needs neither): agreement with the consensus of all heads: Pearson r between
  the head's own alignment matrix (the timestamp recipe applied to that head alone) and the
  matrix of all heads averaged. On whisper-tiny.en its top 8 are exactly the model's published
  alignment heads (Spearman 0.94 with the reference ranking), where concentration x monotonicity
  of each head's attention (``shape_scores``, the obvious cheap cue) picked heads with 3x the
  timing error (README).
Each ranking is registered in ``HEAD_RANKINGS``; :func:`head_scores` averages one over results,
:func:`discover_heads` picks the top ``k`` heads, written ``[[layer, head], ...]`` (the form model
configs use), and :func:`head_spec` turns a user's head choice (``discovered``, a file, a set
name) into what ``word_timestamps`` takes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from ..errors import OptionError
from ..explainers.catalog import canonical
from ..metrics.agreement import agreement
from ..metrics.timing import Spans, mean_boundary_error
from ..registry import Registry
from ..results.explanation import Explanation
from .timestamps import alignment_rows, attention_matrix, word_timestamps


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


def saliency_scores(result: Explanation, which: str = "spes-encoder") -> np.ndarray:
    """(L, H) Pearson r of each head's cross-attention with map ``which`` over frames (SM_H by
    default; input maps such as SM_X max-pooled, other per-head maps averaged over all heads)."""
    if which not in result:
        raise OptionError(f"ranking heads by saliency needs the {canonical(which)} map in the result (it has "
                          f"{', '.join(result.maps)}); compute it first")
    target = result.map_over_frames(which)
    rows = result.text_rows()
    return agreement(result.cross_attention[:, :, rows], target[rows])["head"]


def reference_scores(result: Explanation, reference: Spans) -> np.ndarray:
    """(L, H) minus the mean absolute start/end error (s) of single-head word timestamps."""
    n_layers, n_heads = result.shape[:2]
    out = np.zeros((n_layers, n_heads))
    for l in range(n_layers):
        for h in range(n_heads):
            words = word_timestamps(result, "attention", [[l, h]])
            if len(words) != len(reference):
                out[l, h] = -np.inf
                continue
            out[l, h] = -mean_boundary_error([(w.start, w.end) for w in words], reference)
    return out


@dataclass(frozen=True)
class HeadRanking:
    """One way to score every (layer, head) of one result for alignment (higher = better)."""

    scores: Callable[[Explanation, Spans | None, str], np.ndarray]  # (result, reference, saliency map) -> (L, H)
    needs_map: bool = False  # scores against a map other than cross-attention (``--map``)
    needs_reference: bool = False


HEAD_RANKINGS: Registry[HeadRanking] = Registry("head ranking")
list_head_rankings = HEAD_RANKINGS.names
HEAD_RANKINGS.register("unsupervised")(HeadRanking(lambda r, ref, which: unsupervised_scores(r)))
HEAD_RANKINGS.register("saliency")(HeadRanking(lambda r, ref, which: saliency_scores(r, which), needs_map=True))
HEAD_RANKINGS.register("reference")(
    HeadRanking(lambda r, ref, which: reference_scores(r, ref or []), needs_reference=True))


def per_result_scores(results: Sequence[Explanation], method: str = "unsupervised",
                      references: Sequence[Spans] | None = None, which: str = "spes-encoder") -> list[np.ndarray]:
    """(L, H) scores of ranking ``method`` for each result.

    ``references``: per result, the (start, end) of every word (for ``reference``); ``which``: the
    map the ``saliency`` ranking agrees with (a map name: ``spes-encoder`` = SM_H, ``spes-input``...).
    """
    ranking = HEAD_RANKINGS.get(method)
    if not results:
        raise OptionError("ranking heads needs at least one result")
    if ranking.needs_reference and (references is None or len(references) != len(results)):
        raise OptionError(f"ranking heads by {method} needs reference word timings for every result")
    refs: Sequence[Spans | None] = references if references is not None else [None] * len(results)
    return [ranking.scores(r, ref, which) for r, ref in zip(results, refs)]


def head_scores(results: Sequence[Explanation], method: str = "unsupervised",
                references: Sequence[Spans] | None = None, which: str = "spes-encoder") -> np.ndarray:
    """(L, H) scores of ranking ``method`` averaged over ``results`` (see :func:`per_result_scores`)."""
    return np.mean(per_result_scores(results, method, references, which), axis=0)


def default_head_count(result: Explanation) -> int:
    """How many heads a discovered set has by default: as many as the model's alignment heads (else H)."""
    return len(result.alignment_heads or []) or result.shape[1]


def top_heads(scores: np.ndarray, k: int) -> list[list[int]]:
    """The ``k`` best (layer, head) pairs, best first."""
    if k < 1:
        raise OptionError(f"the number of heads to pick must be >= 1, got {k}")
    flat = np.argsort(-np.nan_to_num(scores, nan=-np.inf), axis=None, kind="stable")[:k]
    return [[int(i), int(j)] for i, j in zip(*np.unravel_index(flat, scores.shape))]


def head_set_document(scores: np.ndarray, k: int, method: str, n_results: int) -> dict[str, Any]:
    """The JSON document ``heads`` writes: the chosen set, how it was chosen, and every head's score."""
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


def discover_heads(results: Sequence[Explanation], method: str = "unsupervised", top: int | None = None,
                   references: Sequence[Spans] | None = None, which: str = "spes-encoder") -> dict[str, Any]:
    """Rank every head over ``results`` with ``method`` and pick the ``top`` best (see :func:`head_scores`).

    Returns the head-set document: ``heads`` ``[[layer, head], ...]``, ``method``, ``results`` and
    every head's ``scores``; :func:`read_head_file` reads it back.
    """
    scores = head_scores(results, method, references, which)
    return head_set_document(scores, top or default_head_count(results[0]), method, len(results))


def head_spec(spec: str | list, result: Explanation, top: int | None = None) -> str | list:
    """A user's head choice for word timestamps, made usable: ``discovered`` (the ``top`` heads of
    this utterance by the unsupervised ranking), a JSON head file, or a head-set spec left as is."""
    if isinstance(spec, str) and spec == "discovered":
        return top_heads(unsupervised_scores(result), top or default_head_count(result))
    if isinstance(spec, str) and (spec.endswith(".json") or Path(spec).is_file()):
        return read_head_file(spec)
    return spec
