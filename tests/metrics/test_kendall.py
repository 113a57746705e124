import numpy as np
import pytest

from s2t_explain.metrics.agreement import CORRELATIONS, correlate, kendall


def test_kendall_concordant_and_reversed():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    assert kendall(a, a**3) == pytest.approx(1.0)  # any increasing map is perfectly concordant
    assert kendall(a, -a) == pytest.approx(-1.0)


def test_kendall_hand_computed():
    # pairs (1,2) and (1,3) concordant, (2,3) discordant: tau = (2 - 1) / 3
    assert kendall(np.array([1.0, 2, 3]), np.array([1.0, 3, 2])) == pytest.approx(1 / 3)
    # flattened like the other statistics: a (2, 2) map is the same four values
    assert kendall(np.array([[1.0, 2], [3, 4]]), np.array([[1.0, 2], [4, 3]])) == pytest.approx(4 / 6)


def test_kendall_tau_b_with_ties():
    # y ties the pair (1, 2): 5 concordant, 0 discordant, 6 pairs, 1 tied in y only
    # tau-b = (5 - 0) / sqrt(6 * (6 - 1))
    x, y = np.array([1.0, 2, 3, 4]), np.array([1.0, 1, 2, 3])
    assert kendall(x, y) == pytest.approx(5 / np.sqrt(30))
    assert np.isnan(kendall(x, np.ones(4)))  # constant input: undefined, like pearson
    assert np.isnan(kendall(np.ones(1), np.ones(1)))


def test_kendall_is_registered():
    assert CORRELATIONS.names() == ["pearson", "spearman", "kendall"]
    assert CORRELATIONS.get("kendall") is kendall
    rng = np.random.default_rng(0)
    base = rng.random((3, 6))
    assert correlate(base, base * 2 + 1, statistic="kendall") == pytest.approx(1.0)
