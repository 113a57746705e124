import numpy as np
import pytest

from s2t_explain.errors import OptionError
from s2t_explain.metrics.tokens import (
    ENGLISH_FUNCTION_WORDS,
    TOKEN_KINDS,
    attention_entropy,
    auroc,
    row_correlations,
    summarize_by,
    token_kinds,
    word_classes,
    worst_tokens,
)

LABELS = [" The", " light", "house", " keeper", ",", " watched", "."]


def test_row_correlations_by_hand():
    a = np.array([[1.0, 2, 3], [1.0, 1, 1], [1.0, 2, 3]])
    b = np.array([[1.0, 3, 2], [1.0, 2, 3], [3.0, 2, 1]])
    r = row_correlations(a, b)
    assert r.shape == (3,)
    # row 0: x - mean = [-1, 0, 1], y - mean = [-1, 1, 0] -> 1 / sqrt(2 * 2) = 0.5
    assert r[0] == pytest.approx(0.5)
    assert np.isnan(r[1])  # constant row
    assert r[2] == pytest.approx(-1.0)
    assert row_correlations(a, b, "kendall")[0] == pytest.approx(1 / 3)
    assert row_correlations(a, b, "spearman")[0] == pytest.approx(0.5)


def test_row_correlations_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        row_correlations(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(OptionError, match="kendall"):  # the error lists the valid names
        row_correlations(np.ones((2, 3)), np.ones((2, 3)), "cosine")


def test_token_kinds_on_whisper_labels():
    assert token_kinds(LABELS) == [
        "first", "word-initial", "continuation", "word-initial", "punctuation", "word-initial", "punctuation",
    ]
    assert set(token_kinds(LABELS)) == set(TOKEN_KINDS)
    # a word opened by a free-standing quote: its first letters still start the word
    assert token_kinds([" The", ' "', "light", '"']) == ["first", "punctuation", "word-initial", "punctuation"]


def test_token_kinds_spaceless_languages():
    labels = ["我", "们", "。", "好"]
    assert token_kinds(labels, "zh") == ["first", "word-initial", "punctuation", "word-initial"]
    assert token_kinds(labels, "en") == ["first", "continuation", "punctuation", "continuation"]


def test_word_classes():
    assert word_classes(LABELS) == ["function", "content", "content", "content", None, "content", None]
    assert word_classes(LABELS, "en") == word_classes(LABELS)
    assert word_classes([" It", "'s", " Don", "\u2019t", "."]) == ["function"] * 4 + [None]
    # an opening quote joins the word with its space inside ('" The"'): still "the"
    assert word_classes(['"', " The", '"']) == [None, "function", None]
    assert word_classes(LABELS, "de") == [None] * len(LABELS)
    assert 100 <= len(ENGLISH_FUNCTION_WORDS) <= 250
    assert all(w == w.lower() for w in ENGLISH_FUNCTION_WORDS)


def test_attention_entropy():
    attention = np.array([
        [1.0, 1, 1, 1],  # uniform -> 1
        [0.0, 5, 0, 0],  # one-hot -> 0
        [1.0, 1, 0, 0],  # two of four frames -> log 2 / log 4
        [-1.0, 2, 2, 0],  # negatives clipped: same as the row above
        [0.0, 0, 0, 0],  # no distribution -> NaN
    ])
    h = attention_entropy(attention)
    assert h[:4] == pytest.approx([1.0, 0.0, 0.5, 0.5])
    assert np.isnan(h[4])
    with pytest.raises(ValueError):
        attention_entropy(np.ones(4))


def test_auroc():
    y = np.array([False, False, True, True])
    assert auroc(np.array([0.1, 0.2, 0.8, 0.9]), y) == pytest.approx(1.0)
    assert auroc(np.array([0.9, 0.8, 0.2, 0.1]), y) == pytest.approx(0.0)
    assert auroc(np.ones(4), y) == pytest.approx(0.5)
    # pos 0.4 beats neg 0.1 and ties neg 0.4 (1/2); pos 0.8 beats both: (1 + 0.5 + 1 + 1) / 4
    assert auroc(np.array([0.1, 0.4, 0.4, 0.8]), np.array([False, True, False, True])) == pytest.approx(0.875)
    # NaN scores are dropped; an empty class gives NaN
    assert auroc(np.array([0.1, np.nan, 0.8, 0.9]), y) == pytest.approx(1.0)
    assert np.isnan(auroc(np.array([np.nan, np.nan, 0.8, 0.9]), y))
    assert np.isnan(auroc(np.ones(3), np.ones(3, dtype=bool)))


def test_summarize_by():
    out = summarize_by(np.array([1.0, 2, 3, np.nan, 10]), ["b", "a", "b", "b", None])
    assert list(out) == ["b", "a"]  # first-seen order, None skipped
    assert out["b"] == {"n": 2, "mean": 2.0, "median": 2.0, "q25": 1.5, "q75": 2.5}
    assert out["a"] == {"n": 1, "mean": 2.0, "median": 2.0, "q25": 2.0, "q75": 2.0}
    empty = summarize_by(np.array([np.nan]), ["c"])["c"]
    assert empty["n"] == 0 and np.isnan(empty["mean"])
    with pytest.raises(ValueError):
        summarize_by(np.ones(2), ["a"])


def test_worst_tokens():
    values = np.array([0.5, np.nan, -1.0, 0.2, np.inf])
    labels = ["a", "b", "c", "d", "e"]
    assert worst_tokens(values, labels, k=2) == [(2, "c", -1.0), (3, "d", 0.2)]
    assert worst_tokens(values, labels) == [(2, "c", -1.0), (3, "d", 0.2), (0, "a", 0.5)]
