"""Word-timing accuracy: predicted word boundaries against exact reference boundaries.

Metrics over all words of all utterances: mean absolute error of starts, of ends and of both
(ms); the share of boundaries within each collar (20/50/100/200 ms); and F1 at each collar between
the predicted and the reference boundary sets (greedy one-to-one matching by distance, so a method
that cannot place pauses between words loses recall there).

Long-form recordings (ours): ``match_words`` pairs a hypothesis's words with the reference's by
an edit alignment of normalized words (a long transcript has insertions, deletions and
substitutions, so words are not paired by position), and ``drift`` measures whether the signed
error grows over the file (least-squares slope in ms per minute, correlation, MAE per time bin).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

COLLARS = (0.02, 0.05, 0.1, 0.2)  # seconds

Spans = list[tuple[float, float]]  # (start, end) in seconds per word of one utterance


def boundary_f1(predicted: list[float], reference: list[float], collar: float) -> tuple[int, int, int]:
    """(matches, predicted count, reference count): greedy one-to-one matching by distance within ``collar``."""
    pred = sorted(set(round(p, 4) for p in predicted))
    ref = sorted(reference)
    pairs = sorted((abs(p - r), i, j) for i, p in enumerate(pred) for j, r in enumerate(ref) if abs(p - r) <= collar)
    used_p: set[int] = set()
    used_r: set[int] = set()
    for _, i, j in pairs:
        if i not in used_p and j not in used_r:
            used_p.add(i)
            used_r.add(j)
    return len(used_p), len(pred), len(ref)


def score_words(predicted: list[Spans], reference: list[Spans]) -> dict[str, Any]:
    """Metrics over utterances; each a list of (start, end) per word, the same words in the same order."""
    starts = np.concatenate([[p[0] - r[0] for p, r in zip(ps, rs)] for ps, rs in zip(predicted, reference)])
    ends = np.concatenate([[p[1] - r[1] for p, r in zip(ps, rs)] for ps, rs in zip(predicted, reference)])
    both = np.abs(np.concatenate([starts, ends]))
    out: dict[str, Any] = {"words": int(starts.size), "mae_start_ms": 1000 * float(np.abs(starts).mean()),
                           "mae_end_ms": 1000 * float(np.abs(ends).mean()), "mae_ms": 1000 * float(both.mean())}
    for c in COLLARS:
        out[f"within_{int(c * 1000)}ms"] = float((both <= c).mean())
        m = p = r = 0
        for ps, rs in zip(predicted, reference):
            dm, dp, dr = boundary_f1([t for w in ps for t in w], [t for w in rs for t in w], c)
            m, p, r = m + dm, p + dp, r + dr
        precision, recall = m / max(p, 1), m / max(r, 1)
        out[f"f1_{int(c * 1000)}ms"] = 2 * precision * recall / (precision + recall) if m else 0.0
    return out


def mean_boundary_error(predicted: Spans, reference: Spans) -> float:
    """Mean absolute start/end error (s) of one utterance's words (the same words in the same order)."""
    return float(np.mean([abs(p[0] - r[0]) + abs(p[1] - r[1]) for p, r in zip(predicted, reference)])) / 2


# --- long-form: pairing hypothesis words with reference words, and error drift over a file ----------------------

_WORD_PUNCT = re.compile(r"[^\w']+")


def normalize_word(word: str) -> str:
    """Lower case, NFKC, punctuation removed (apostrophes kept inside a word): ``" Field."`` -> ``"field"``."""
    return _WORD_PUNCT.sub("", unicodedata.normalize("NFKC", word).lower()).strip("'")


@dataclass(frozen=True)
class WordAlignment:
    """A word-level edit alignment: the pairs of equal words and the edit counts (as in WER)."""

    pairs: list[tuple[int, int]]  # (hypothesis index, reference index) of equal words, in order
    substitutions: int
    insertions: int  # hypothesis words aligned to no reference word
    deletions: int  # reference words aligned to no hypothesis word
    hypothesis_words: int
    reference_words: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.insertions + self.deletions

    @property
    def wer(self) -> float:
        """Word error rate (a fraction, not clipped); 0 or inf for an empty reference."""
        if self.reference_words == 0:
            return 0.0 if self.hypothesis_words == 0 else float("inf")
        return self.errors / self.reference_words


def align_words(hypothesis: list[str], reference: list[str]) -> WordAlignment:
    """Minimum edit alignment of normalized words (substitution, insertion, deletion cost 1 each);
    among alignments of equal cost, the one with the most equal pairs. Only equal words pair.

    Dynamic programming over (hypothesis x reference) with one vectorized row at a time: the
    cost of an edit is ``K`` and of a match ``-1`` (K > any number of matches), so the least
    total is the least edits first and the most matches second. A word that normalizes to
    nothing (punctuation only) never equals another.
    """
    hyp = [normalize_word(w) for w in hypothesis]
    ref = [normalize_word(w) for w in reference]
    n, m = len(hyp), len(ref)
    big = np.int64(n + m + 1)
    ref_ids: dict[str, int] = {}
    ref_codes = np.array([ref_ids.setdefault(w, len(ref_ids)) if w else -1 for w in ref], dtype=np.int64)
    steps = np.arange(m + 1, dtype=np.int64) * big
    cost = np.empty((n + 1, m + 1), dtype=np.int64)
    cost[0] = steps
    for i in range(1, n + 1):
        code = ref_ids.get(hyp[i - 1], -2) if hyp[i - 1] else -2
        diagonal = cost[i - 1, :-1] + np.where(ref_codes == code, -1, big)
        row = np.empty(m + 1, dtype=np.int64)
        row[0] = cost[i - 1, 0] + big
        row[1:] = np.minimum(cost[i - 1, 1:] + big, diagonal)  # insertion of hyp[i-1] / diagonal
        row = np.minimum.accumulate(row - steps) + steps  # deletions along the row: row[j] <= row[j-1] + big
        cost[i] = row
    pairs: list[tuple[int, int]] = []
    subs = ins = dels = 0
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            equal = bool(hyp[i - 1]) and hyp[i - 1] == ref[j - 1]
            if cost[i, j] == cost[i - 1, j - 1] + (-1 if equal else big):
                if equal:
                    pairs.append((i - 1, j - 1))
                else:
                    subs += 1
                i, j = i - 1, j - 1
                continue
        if i > 0 and cost[i, j] == cost[i - 1, j] + big:
            ins += 1
            i -= 1
        else:
            dels += 1
            j -= 1
    pairs.reverse()
    return WordAlignment(pairs, subs, ins, dels, n, m)


def match_words(hypothesis: list[str], reference: list[str]) -> list[tuple[int, int]]:
    """(hypothesis index, reference index) of the words the edit alignment pairs as equal (see ``align_words``).

    Words are compared after ``normalize_word`` (lower case, punctuation stripped), so
    ``[" The", " dog."]`` pairs with ``["the", "dog"]``; substituted, inserted and deleted words
    are left out. Indices rise in both lists.
    """
    return align_words(hypothesis, reference).pairs


def drift(errors_s: list[float] | np.ndarray, times_s: list[float] | np.ndarray,
          bins: int | list[float] | np.ndarray = 10, duration_s: float | None = None) -> dict[str, Any]:
    """Does the timing error change over a file? Signed errors (predicted - reference, s) at their times (s).

    ``slope_ms_per_min``: least-squares slope of the signed error against time (ms of error per
    minute of audio); ``intercept_ms`` its value at time 0; ``correlation``: Pearson's r of error
    and time (NaN when either is constant); ``mae_ms`` over all; ``bins``: per time bin (``bins``
    equal bins over [0, ``duration_s`` or the last time], or a list of bin edges in seconds) its
    ``start_s``, ``end_s``, ``n``, ``mae_ms`` and ``mean_ms`` (signed; NaN for an empty bin);
    ``mae_first_ms`` / ``mae_last_ms``: MAE of the first and last non-empty bin. Flat error over the
    file: slope near 0 and bins of similar MAE.
    """
    err = np.asarray(errors_s, dtype=np.float64)
    t = np.asarray(times_s, dtype=np.float64)
    if err.shape != t.shape or err.ndim != 1:
        raise ValueError(f"errors and times must be 1-D of the same length, got {err.shape} and {t.shape}")
    if isinstance(bins, int):
        if bins < 1:
            raise ValueError(f"need at least one bin, got {bins}")
        end = duration_s if duration_s is not None else (float(t.max()) if t.size else 0.0)
        edges = np.linspace(0.0, end, bins + 1)
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bin edges must be at least two rising times")
    nan = float("nan")
    out: dict[str, Any] = {"n": int(err.size), "mae_ms": 1000 * float(np.abs(err).mean()) if err.size else nan,
                           "slope_ms_per_min": nan, "intercept_ms": nan, "correlation": nan}
    if err.size >= 2 and np.ptp(t) > 0:
        tc = t - t.mean()
        slope = float((tc * (err - err.mean())).sum() / (tc * tc).sum())  # s of error per s of audio
        out["slope_ms_per_min"] = 1000 * 60 * slope
        out["intercept_ms"] = 1000 * (float(err.mean()) - slope * float(t.mean()))
        if np.ptp(err) > 0:
            out["correlation"] = float(np.corrcoef(t, err)[0, 1])
    # a time on the last edge belongs to the last bin; times outside the edges to none
    index = np.searchsorted(edges, t, side="right") - 1
    index[t == edges[-1]] = edges.size - 2
    rows = []
    for b in range(edges.size - 1):
        e = err[index == b]
        rows.append({"start_s": float(edges[b]), "end_s": float(edges[b + 1]), "n": int(e.size),
                     "mae_ms": 1000 * float(np.abs(e).mean()) if e.size else nan,
                     "mean_ms": 1000 * float(e.mean()) if e.size else nan})
    out["bins"] = rows
    filled = [r for r in rows if r["n"]]
    out["mae_first_ms"] = filled[0]["mae_ms"] if filled else nan
    out["mae_last_ms"] = filled[-1]["mae_ms"] if filled else nan
    return out
