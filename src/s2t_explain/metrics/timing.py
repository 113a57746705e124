"""Word-timing accuracy: predicted word boundaries against exact reference boundaries.

Metrics over all words of all utterances: mean absolute error of starts, of ends and of both
(ms); the share of boundaries within each collar (20/50/100/200 ms); and F1 at each collar between
the predicted and the reference boundary sets (greedy one-to-one matching by distance, so a method
that cannot place pauses between words loses recall there).
"""

from __future__ import annotations

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
