"""Timing checks users of Whisper timing tools ask for, applied after alignment.

- ``clean_words``: no zero-length and no overlapping words. Overlaps are split at their middle;
  a word shorter than ``min_word`` grows into the free time around it (after it first, then
  before it), then takes time from the next word while that stays long enough; words crowded
  beyond that push their followers later by what is missing (at most ``min_word`` each).
- ``snap_to_speech``: a word edge that lies in detected silence moves onto the nearest speech
  inside the word's own span, so a word after a long pause is not pulled into the pause (the
  contiguous words of Whisper's recipe start where the previous word ended). A word whose span
  holds no speech at all is left where the aligner put it.
- ``timing_agreement``: per word, the overlap of its attention timing and its saliency timing
  over their union (intersection over union, 0 = disjoint, 1 = identical): a per-word confidence
  that two independent explanations put it in the same place.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..timebase import FRAMES_PER_SECOND
from .timestamps import Word


def clean_words(words: list[Word], min_word: float = 0.02) -> list[Word]:
    """Words in order with start < end, each at least ``min_word`` long where the timeline allows, none overlapping."""
    spans = [[w.start, w.end] for w in words]
    for k in range(1, len(spans)):  # overlaps (and inverted order) split at the middle
        if spans[k][0] < spans[k - 1][1]:
            mid = (max(spans[k][0], spans[k - 1][0]) + spans[k - 1][1]) / 2
            spans[k - 1][1] = max(mid, spans[k - 1][0])
            spans[k][0] = mid
            spans[k][1] = max(spans[k][1], mid)
    for k, span in enumerate(spans):
        short = min_word - (span[1] - span[0])
        if short <= 1e-9:
            continue
        after = (spans[k + 1][0] if k + 1 < len(spans) else np.inf) - span[1]
        grow = min(short, max(after, 0.0))
        span[1] += grow
        short -= grow
        before = span[0] - (spans[k - 1][1] if k > 0 else 0.0)
        grow = min(short, max(before, 0.0))
        span[0] -= grow
        short -= grow
        if short > 1e-9 and k + 1 < len(spans):  # no free time: take it from the next word
            take = min(short, max(spans[k + 1][1] - spans[k + 1][0] - min_word, 0.0))
            span[1] += take
            spans[k + 1][0] += take
    for k, span in enumerate(spans):  # what is still short (crowded words) pushes its followers by the rest
        span[0] = max(span[0], spans[k - 1][1]) if k else span[0]
        span[1] = max(span[1], span[0] + min_word)
    return [replace(w, start=float(s), end=float(e)) for w, (s, e) in zip(words, spans)]


def snap_to_speech(words: list[Word], speech: np.ndarray, offset: float = 0.0) -> list[Word]:
    """Move word edges out of silence; ``speech`` is a (frames,) bool mask of 10 ms frames from ``offset`` s."""
    out = []
    for w in words:
        a = int(np.floor((w.start - offset) * FRAMES_PER_SECOND))
        b = int(np.ceil((w.end - offset) * FRAMES_PER_SECOND))
        a, b = max(a, 0), min(b, speech.size)
        on = np.flatnonzero(speech[a:b]) if b > a else np.zeros(0, dtype=int)
        if on.size == 0:
            out.append(w)
            continue
        start = max(w.start, offset + (a + on[0]) / FRAMES_PER_SECOND)
        end = min(w.end, offset + (a + on[-1] + 1) / FRAMES_PER_SECOND)
        out.append(replace(w, start=float(start), end=float(max(end, start))))
    return out


def timing_agreement(first: list[Word], second: list[Word]) -> list[float]:
    """Per word pair: |intersection| / |union| of the two timings (1.0 for two identical instants)."""
    out = []
    for a, b in zip(first, second, strict=True):
        union = max(a.end, b.end) - min(a.start, b.start)
        inter = max(0.0, min(a.end, b.end) - max(a.start, b.start))
        out.append(1.0 if union <= 0 else inter / union)
    return out


def with_confidence(words: list[Word], reference: list[Word]) -> list[Word]:
    """``words`` with ``confidence`` = their timing agreement with ``reference`` (the same words)."""
    return [replace(w, confidence=c) for w, c in zip(words, timing_agreement(words, reference))]
