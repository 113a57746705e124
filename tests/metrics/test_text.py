import pytest

from s2t_explain.metrics.text import bleu, chrf, edit_distance, normalize_text, wer


def test_normalize_text():
    assert normalize_text("Hello, World!  It's  FINE.") == "hello world it's fine"
    assert normalize_text("'quoted' words") == "quoted words"


def test_edit_distance():
    assert edit_distance(list("kitten"), list("sitting")) == 3
    assert edit_distance([], ["a", "b"]) == 2
    assert edit_distance(["a"], []) == 1


def test_wer_known_values_and_clip():
    assert wer("the cat sat", "the cat sat") == 0.0
    assert wer("the cat sat", "the cat sat on") == pytest.approx(25.0)  # one deletion of four words
    assert wer("The cat, sat.", "the cat sat") == 0.0
    assert wer("a b c d e f g h", "x y") == 100.0  # 8 edits / 2 words clipped at 100
    assert wer("", "") == 0.0 and wer("words", "") == 100.0


def test_bleu_and_chrf():
    assert bleu("the cat is on the mat", "the cat is on the mat") == pytest.approx(100.0)
    assert bleu("", "the cat") == 0.0
    # hand-computed: hyp "the cat" vs ref "the cat sat": p1 = 2/2, p2 = (1+1)/(1+1), p3, p4 = 1/1
    # (add-one), brevity exp(1 - 3/2)
    assert bleu("the cat", "the cat sat") == pytest.approx(100 * 2.718281828 ** (1 - 1.5), rel=1e-6)
    assert chrf("the cat", "the cat") == pytest.approx(100.0)
    assert 0 < chrf("a cat", "the cat") < 100
    assert chrf("xyz", "abc") == 0.0
