"""Word timestamps from a (tokens x encoder frames) map: cross-attention or saliency, then DTW.

Cross-attention, Whisper's recipe in our words: take the chosen heads' maps (H, R, T') over the
text rows plus the end-of-text row, renormalise each row over the speech frames, standardise
every frame across tokens (per head), median-filter along time (width 7), average the heads,
and find the cheapest monotonic token-to-frame path through the negated matrix (DTW). Saliency:
pooled SM_X or SM_H rows, each token z-scored over time (scores differ in size between tokens),
then the same filter and DTW. A token starts at the first frame the path gives it; a word runs
from its first token's start to the start of the next word (the end-of-text row closes the last).

Edges (ours): ``contiguous`` keeps those spans (Whisper's behaviour: no pauses, and the first
word starts at 0); ``trim`` shrinks each word to the frames of its span where its evidence (the
largest value over its tokens' rows) reaches EDGE_THRESHOLD. Saliency is low wherever nothing
the token depends on is said, so trimming finds pauses; cross-attention, standardised across
tokens, always names some token, so trimming leaves it unchanged (measured in the README).
Default: ``trim`` for saliency, ``contiguous`` for cross-attention.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import median_filter

from ..decoding.words import group_words
from ..errors import OptionError
from ..explainers.catalog import KINDS, canonical
from ..normalization import normalize_rows
from ..results.explanation import Explanation
from ..results.maps import FRAME_GRAINS
from .dtw import dtw

MEDIAN_WIDTH = 7  # Whisper's
EDGE_THRESHOLD = 1.0  # (ours) z units; chosen on align-set clips en_01-08, checked on en_09-16 (README)
EDGES = ("contiguous", "trim")


@dataclass(frozen=True)
class Word:
    word: str  # with its leading space, as Whisper's tools write it
    start: float  # seconds
    end: float
    probability: float  # mean probability of its tokens
    confidence: float | None = None  # agreement of attention and saliency timings (alignment.checks)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"word": self.word, "start": round(self.start, 3), "end": round(self.end, 3),
                               "probability": round(self.probability, 4)}
        if self.confidence is not None:
            out["confidence"] = round(self.confidence, 4)
        return out


def alignment_rows(result: Explanation) -> np.ndarray:
    """(I,) bool: the text-token rows and the end-of-text row (if the sequence ended)."""
    return result.text_rows(include_eos=True)


def _standardize(x: np.ndarray, axis: int) -> np.ndarray:
    sd = x.std(axis=axis, keepdims=True)
    return np.divide(x - x.mean(axis=axis, keepdims=True), sd, out=np.zeros_like(x), where=sd > 0)


# (result, rows, heads) -> (R, T') alignment matrix, higher = more likely aligned
MatrixFn = Callable[[Explanation, np.ndarray, "str | list"], np.ndarray]


@dataclass(frozen=True)
class TimestampSource:
    """A map words can be timed from: how to build its alignment matrix, and the map it reads."""

    matrix: MatrixFn
    map: str = "attention"  # the map name (explainers.catalog) the matrix is built from
    edges: str = "contiguous"  # default edge mode (see the module docs)


def attention_matrix(result: Explanation, rows: np.ndarray, heads: str | list = "alignment") -> np.ndarray:
    """Whisper's recipe over the chosen heads: (R, T')."""
    pairs = result.heads(heads)
    maps = np.stack([result.cross_attention[l, h][rows] for l, h in pairs]).astype(np.float64)  # (H, R, T')
    sums = maps.sum(axis=-1, keepdims=True)
    maps = np.divide(maps, sums, out=np.zeros_like(maps), where=sums > 0)  # renormalise over speech frames
    maps = _standardize(maps, axis=1)  # each frame across tokens, per head
    maps = median_filter(maps, size=(1, 1, MEDIAN_WIDTH), mode="nearest")
    return maps.mean(axis=0)


def saliency_matrix(name: str) -> MatrixFn:
    """Matrix of any other map over time (SM_H; SM_X and input maps max-pooled; per-head maps
    averaged over all heads): rows z-scored, median-filtered."""

    def matrix(result: Explanation, rows: np.ndarray, heads: str | list = "alignment") -> np.ndarray:
        if name not in result:
            raise OptionError(f"this result has no {name} map (it has {', '.join(result.maps)}); compute it "
                              "first (explain --maps) or time words from cross-attention")
        z = normalize_rows(result.map_over_frames(name)[rows])  # each token over time
        return median_filter(z, size=(1, MEDIAN_WIDTH), mode="nearest")

    return matrix


def list_timestamp_sources() -> list[str]:
    """Every map over time words can be timed from (``--from NAME``): its name is the source's."""
    return [k.name for k in KINDS.values() if k.grain in FRAME_GRAINS]


def timestamp_source(name: str) -> TimestampSource:
    """The source of map ``name`` (older names such as ``saliency-encoder`` or ``method:grad-input``
    are understood): cross-attention with Whisper's recipe, any other map with the saliency recipe.
    An unknown name, or a map with no time axis, fails with the names that work."""
    try:
        key = canonical(name)
    except OptionError:
        raise OptionError(f"unknown timestamp source {name!r}; choose one of: "
                          f"{', '.join(list_timestamp_sources())}") from None
    if key not in list_timestamp_sources():
        raise OptionError(f"{key} is a {KINDS[key].grain} map, not a map over time; words can be timed from: "
                          f"{', '.join(list_timestamp_sources())}")
    if key == "attention":
        return TimestampSource(attention_matrix)
    return TimestampSource(saliency_matrix(key), key, "trim")


def token_starts(matrix: np.ndarray) -> np.ndarray:
    """(R, T') -> (R,) first frame index of each row on the DTW path through -matrix."""
    rows, cols = dtw(-matrix)
    first = np.full(matrix.shape[0], -1)
    for r, c in zip(rows[::-1], cols[::-1]):
        first[r] = c
    return first


def word_timestamps(result: Explanation, source: str = "attention", heads: str | list = "alignment",
                    edges: str | None = None) -> list[Word]:
    """Words of the transcript with start/end times (s) and probabilities.

    ``edges``: ``contiguous`` or ``trim`` (default: trim for saliency sources, contiguous for attention).
    """
    kind = timestamp_source(source)  # an unknown source fails here, naming the valid ones
    edges = edges or kind.edges
    if edges not in EDGES:
        raise OptionError(f"unknown edge mode {edges!r}; use {', '.join(EDGES)}")
    rows = alignment_rows(result)
    index = np.flatnonzero(rows)  # row numbers in the full (I,) order
    labels = [result.transcript.labels[i] for i in index]
    is_eot = [result.transcript.labels[i] == "<|endoftext|>" for i in index]
    spans = group_words(labels, special=is_eot, language=result.transcript.language)
    if not spans:
        raise OptionError("the transcript is empty: there are no words to time")
    matrix = kind.matrix(result, rows, heads)
    starts = token_starts(matrix)
    times = result.frame_times
    step = result.seconds_per_frame
    n_frames = matrix.shape[1]
    probs = np.exp(result.transcript.logprobs[index])
    words = []
    for k, span in enumerate(spans):
        first = span.tokens[0]
        nxt = spans[k + 1].tokens[0] if k + 1 < len(spans) else (len(index) - 1 if is_eot[-1] else None)
        a = int(starts[first])
        b = int(starts[nxt]) if nxt is not None and nxt != first else n_frames  # frames [a, b)
        b = max(b, a + 1)
        if edges == "trim":
            evidence = matrix[list(span.tokens), a:b].max(axis=0)
            on = np.flatnonzero(evidence >= EDGE_THRESHOLD)
            if on.size:
                a, b = a + int(on[0]), a + int(on[-1]) + 1
        start = float(times[a])
        end = float(times[b]) if b < n_frames else float(times[-1]) + step
        text = "".join(labels[t] for t in span.tokens)
        words.append(Word(text if text.startswith(" ") else " " + text.lstrip(), start, end,
                          float(probs[list(span.tokens)].mean())))
    return words


def to_whisper_json(result: Explanation, words: list[Word], source: str, heads: Any) -> dict[str, Any]:
    """The JSON word schema of Whisper tools: ``segments[].words[]`` with word, start, end, probability."""
    segment = {"id": 0, "start": words[0].start if words else 0.0, "end": words[-1].end if words else 0.0,
               "text": " " + result.transcript.text.strip(), "words": [w.to_dict() for w in words]}
    return {"text": result.transcript.text, "language": result.transcript.language, "segments": [segment],
            "source": source, "heads": heads if canonical(source) == "attention" else None}
