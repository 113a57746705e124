"""Long-form timing metrics: pairing hypothesis words with reference words, and error drift over a file."""

from __future__ import annotations

import math

import numpy as np
import pytest

from s2t_explain.metrics.timing import align_words, drift, match_words, normalize_word


def test_normalize_word_strips_case_space_and_punctuation():
    assert normalize_word(" The") == "the"
    assert normalize_word("field.") == "field"
    assert normalize_word('"Hello,"') == "hello"
    assert normalize_word("don't") == "don't"
    assert normalize_word("'quoted'") == "quoted"
    assert normalize_word(" ...") == ""


def test_identical_words_pair_one_to_one_after_normalizing():
    assert match_words([" The", " dog", " ran."], ["the", "dog", "ran"]) == [(0, 0), (1, 1), (2, 2)]


def test_insertion_deletion_and_substitution():
    # hypothesis: "the big dog ran far"; reference: "the dog sat far away"
    # the-the, big inserted, dog-dog, ran/sat substituted, far-far, away deleted
    hyp, ref = ["the", "big", "dog", "ran", "far"], ["the", "dog", "sat", "far", "away"]
    assert match_words(hyp, ref) == [(0, 0), (2, 1), (4, 3)]
    a = align_words(hyp, ref)
    assert (a.substitutions, a.insertions, a.deletions) == (1, 1, 1)
    assert a.errors == 3 and a.wer == pytest.approx(3 / 5)


def test_substituted_words_do_not_pair():
    assert match_words(["a", "x", "c"], ["a", "b", "c"]) == [(0, 0), (2, 2)]
    a = align_words(["a", "x", "c"], ["a", "b", "c"])
    assert (a.substitutions, a.insertions, a.deletions) == (1, 0, 0)


def test_a_dropped_sentence_is_deleted_and_the_rest_stays_paired():
    ref = "one two three . four five six . seven eight".replace(" .", "").split()
    hyp = ["one", "two", "three", "seven", "eight"]
    assert match_words(hyp, ref) == [(0, 0), (1, 1), (2, 2), (3, 6), (4, 7)]
    assert align_words(hyp, ref).deletions == 3


def test_among_equal_cost_alignments_the_most_matches_win():
    # "a b" vs "b a": two substitutions, or insertion + match + deletion: both cost 2; the one with a match wins
    assert len(match_words(["a", "b"], ["b", "a"])) == 1
    assert match_words(["x", "a"], ["a", "y"]) == [(1, 0)]


def test_empty_and_punctuation_only_words():
    assert match_words([], ["a"]) == []
    assert match_words(["a"], []) == []
    assert align_words([], ["a", "b"]).deletions == 2
    assert align_words(["a"], []).insertions == 1
    assert match_words(["-", "a"], ["", "a"]) == [(1, 1)]  # nothing pairs with an empty word


def test_repeated_words_pair_in_order():
    assert match_words(["the", "the", "cat"], ["the", "cat"]) in ([(0, 0), (2, 1)], [(1, 0), (2, 1)])
    pairs = match_words(["a", "b"] * 3, ["a", "b"] * 3)
    assert pairs == [(i, i) for i in range(6)]


def test_planted_linear_drift_is_recovered_exactly():
    times = np.linspace(0.0, 600.0, 301)  # 10 minutes
    errors = 0.010 + (0.020 / 60.0) * times  # 10 ms offset, +20 ms per minute
    d = drift(errors, times, bins=10)
    assert d["slope_ms_per_min"] == pytest.approx(20.0, abs=1e-9)
    assert d["intercept_ms"] == pytest.approx(10.0, abs=1e-9)
    assert d["correlation"] == pytest.approx(1.0)
    assert d["mae_first_ms"] == pytest.approx(10.0 + 20.0 * 0.5, abs=0.5)  # bin 0-60 s: mean error at 30 s
    assert d["mae_last_ms"] == pytest.approx(10.0 + 20.0 * 9.5, abs=0.5)
    assert [b["n"] for b in d["bins"]] == [30] * 9 + [31]  # the last time lies on the last edge


def test_negative_drift_gives_negative_slope_and_correlation():
    times = [0.0, 60.0, 120.0]
    d = drift([0.0, -0.05, -0.10], times, bins=[0.0, 60.0, 120.0])
    assert d["slope_ms_per_min"] == pytest.approx(-50.0)
    assert d["correlation"] == pytest.approx(-1.0)


def test_zero_drift_gives_slope_zero():
    times = [0.0, 1.0, 2.0, 3.0]
    d = drift([0.1, -0.1, -0.1, 0.1], times, bins=2)  # symmetric around the middle: no trend
    assert d["slope_ms_per_min"] == pytest.approx(0.0, abs=1e-9)
    assert d["correlation"] == pytest.approx(0.0, abs=1e-9)
    assert d["mae_ms"] == pytest.approx(100.0)
    constant = drift([0.05] * 4, times, bins=2)
    assert constant["slope_ms_per_min"] == pytest.approx(0.0, abs=1e-9)
    assert math.isnan(constant["correlation"])  # the error does not vary


def test_bins_by_edges_with_an_empty_bin():
    d = drift([0.1, -0.3], [10.0, 130.0], bins=[0.0, 60.0, 120.0, 180.0])
    assert [b["n"] for b in d["bins"]] == [1, 0, 1]
    assert d["bins"][0]["mae_ms"] == pytest.approx(100.0) and d["bins"][0]["mean_ms"] == pytest.approx(100.0)
    assert math.isnan(d["bins"][1]["mae_ms"])
    assert d["bins"][2]["mean_ms"] == pytest.approx(-300.0)
    assert (d["mae_first_ms"], d["mae_last_ms"]) == (pytest.approx(100.0), pytest.approx(300.0))


def test_bins_span_the_given_duration():
    d = drift([0.1], [10.0], bins=4, duration_s=120.0)
    assert [(b["start_s"], b["end_s"]) for b in d["bins"]][-1] == (90.0, 120.0)
    assert math.isnan(d["slope_ms_per_min"])  # one point: no slope


def test_bad_inputs():
    with pytest.raises(ValueError):
        drift([0.1, 0.2], [1.0], bins=2)
    with pytest.raises(ValueError):
        drift([0.1], [1.0], bins=0)
    with pytest.raises(ValueError):
        drift([0.1], [1.0], bins=[2.0, 1.0])


def _set_builder():
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "make_longform_set.py"
    spec = importlib.util.spec_from_file_location("make_longform_set", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_long_recording_truth_is_exact_and_deterministic(tmp_path):
    """The truth the long-form metrics are scored against: sound exactly inside the words, digital
    silence outside, the asked length, long pauses, the same files from the same seed."""
    import soundfile as sf

    from s2t_explain.study.manifest import read_alignment_manifest

    builder = _set_builder()
    manifest = builder.make_set(tmp_path / "a", [0.75], seed=3)
    (utt,) = read_alignment_manifest(manifest)
    audio, rate = sf.read(str(utt.audio), dtype="float32")
    assert rate == 16_000 and audio.ndim == 1 and audio.size / rate >= 45.0
    inside = np.zeros(audio.size, dtype=bool)
    for _, start, end in utt.words:
        a, b = round(start * rate), round(end * rate)
        assert a == start * rate and b == end * rate  # on the sample grid: the manifest holds them exactly
        inside[a:b] = True
    assert not audio[~inside].any()  # pauses are digital silence
    assert np.abs(audio[inside]).max() > 0.1
    assert all(e1 <= s2 for (_, _, e1), (_, s2, _) in zip(utt.words, utt.words[1:]))
    assert [w for w, _, _ in utt.words] == [w.strip(".") for w in utt.reference.split()]
    pauses = [s2 - e1 for (_, _, e1), (_, s2, _) in zip(utt.words, utt.words[1:])]
    assert sum(p >= 5.0 for p in pauses) >= 2
    again = builder.make_set(tmp_path / "b", [0.75], seed=3)
    assert again.read_text() == manifest.read_text()
    assert (tmp_path / "b" / utt.audio.name).read_bytes() == utt.audio.read_bytes()
