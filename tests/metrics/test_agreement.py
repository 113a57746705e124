import numpy as np
import pytest

from s2t_explain.errors import OptionError
from s2t_explain.metrics.agreement import agreement, correlate, normalize, pearson, spearman
from s2t_explain.metrics.stats import bootstrap_mean


def test_pearson_and_spearman_known_cases():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    assert pearson(a, 2 * a + 1) == pytest.approx(1.0)
    assert pearson(a, -a) == pytest.approx(-1.0)
    # monotone but not linear: Spearman 1, Pearson below 1
    assert spearman(a, a**3) == pytest.approx(1.0)
    assert pearson(a, a**3) < 0.99
    # hand-computed: x = [1, 2, 3], y = [1, 3, 2] -> r = 0.5
    assert pearson(np.array([1.0, 2, 3]), np.array([1.0, 3, 2])) == pytest.approx(0.5)
    assert np.isnan(pearson(a, np.ones(4)))


def test_correlate_normalizes_each_token_row():
    rng = np.random.default_rng(0)
    base = rng.random((3, 10))
    scaled = base * np.array([[1.0], [100.0], [0.01]]) + np.array([[5.0], [-3.0], [0.0]])
    # per-token scale and offset do not matter after z-scoring (they would without it)
    assert correlate(base, scaled) == pytest.approx(1.0)
    assert pearson(base, scaled) < 0.9
    assert correlate(base, scaled, norm="minmax") == pytest.approx(1.0)
    with pytest.raises(OptionError):
        normalize(base, "softmax")
    with pytest.raises(ValueError):
        correlate(base, base[:2])


def test_agreement_granularities_on_planted_heads():
    rng = np.random.default_rng(1)
    saliency = rng.random((4, 12))
    attention = rng.random((2, 3, 4, 12))
    attention[1, 2] = saliency * 3.0  # one head equals the map (up to scale)
    out = agreement(attention, saliency, alignment_heads=[(1, 2)])
    assert out["head"].shape == (2, 3) and out["layer"].shape == (2,)
    assert out["best-head"] == pytest.approx(1.0)
    assert out["best-head-index"] == (1, 2)
    assert out["alignment"] == pytest.approx(1.0)
    # layer 1 holds the planted head, so it agrees more than layer 0
    assert out["layer"][1] > out["layer"][0]
    # "all" is the correlation of the mean map, not the mean of correlations
    expected = correlate(attention.mean((0, 1)), saliency)
    assert out["all"] == pytest.approx(expected)
    assert agreement(attention, saliency)["alignment"] is None


def test_bootstrap_interval():
    mean, low, high = bootstrap_mean([0.5] * 10)
    assert (mean, low, high) == (0.5, 0.5, 0.5)
    values = np.random.default_rng(0).normal(0.4, 0.1, 50)
    mean, low, high = bootstrap_mean(values)
    assert low < mean < high
    assert mean == pytest.approx(values.mean())
    assert high - low == pytest.approx(2 * 1.96 * values.std() / np.sqrt(50), rel=0.3)
    assert bootstrap_mean([np.nan, 1.0]) == (1.0, 1.0, 1.0)
    assert all(np.isnan(bootstrap_mean([])))
