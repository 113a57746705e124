"""Timing checks: no zero-length or overlapping words, edges out of silence, per-word agreement."""

import numpy as np
import pytest

from s2t_explain.alignment.checks import clean_words, snap_to_speech, timing_agreement, with_confidence
from s2t_explain.alignment.timestamps import Word


def words(*spans):
    return [Word(f" w{k}", s, e, 0.9) for k, (s, e) in enumerate(spans)]


def spans(ws):
    return [(pytest.approx(w.start), pytest.approx(w.end)) for w in ws]


def test_overlaps_split_at_their_middle_and_zero_length_words_grow_into_free_time():
    fixed = clean_words(words((0.0, 1.0), (0.8, 1.5), (2.0, 2.0), (2.5, 2.5)), min_word=0.1)
    assert spans(fixed) == [(0.0, 0.9), (0.9, 1.5), (2.0, 2.1), (2.5, 2.6)]


def test_a_zero_length_word_between_touching_words_takes_time_from_its_neighbour():
    fixed = clean_words(words((0.0, 1.0), (1.0, 1.0), (1.0, 2.0)), min_word=0.1)
    assert spans(fixed) == [(0.0, 1.0), (1.0, 1.1), (1.1, 2.0)]


def test_clean_words_invariants_on_random_timings():
    rng = np.random.default_rng(0)
    for _ in range(200):
        starts = np.sort(rng.uniform(0, 10, 12))
        ws = words(*[(s, s + d) for s, d in zip(starts, rng.choice([0.0, 0.01, 0.3, 2.0], 12))])
        fixed = clean_words(ws, min_word=0.02)
        assert all(b.start >= a.end - 1e-9 for a, b in zip(fixed, fixed[1:]))  # no overlap
        assert all(w.end - w.start >= 0.02 - 1e-9 for w in fixed)  # room for 0.02 s each: none is zero-length
        assert [w.word for w in fixed] == [w.word for w in ws]


def test_snap_moves_edges_out_of_silence_only():
    speech = np.zeros(500, dtype=bool)
    speech[100:150] = speech[300:350] = True  # speech at 1.0-1.5 s and 3.0-3.5 s
    # a word stretched over the pause before it (Whisper's contiguous words), one already in speech,
    # and one whose span holds no speech (left alone)
    snapped = snap_to_speech(words((1.5, 3.5), (1.0, 1.4), (4.0, 4.5)), speech)
    assert spans(snapped) == [(3.0, 3.5), (1.0, 1.4), (4.0, 4.5)]


def test_agreement_is_intersection_over_union():
    a, b = words((0.0, 1.0), (2.0, 3.0), (5.0, 5.0)), words((0.5, 1.5), (4.0, 5.0), (5.0, 5.0))
    assert timing_agreement(a, b) == pytest.approx([1 / 3, 0.0, 1.0])
    assert [w.confidence for w in with_confidence(a, b)] == pytest.approx([1 / 3, 0.0, 1.0])
    assert with_confidence(a, b)[0].to_dict()["confidence"] == pytest.approx(0.3333)
