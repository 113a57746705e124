"""DTW against a brute-force search over every monotonic path, on planted and random costs."""

import itertools

import numpy as np
import pytest

from s2t_explain.alignment.dtw import cumulative_cost, dtw, path_cost


def all_paths(n, m):
    """Every monotonic path from (0, 0) to (n-1, m-1) with down/right/diagonal steps."""
    def extend(path):
        i, j = path[-1]
        if (i, j) == (n - 1, m - 1):
            yield path
            return
        for di, dj in ((1, 1), (1, 0), (0, 1)):
            if i + di < n and j + dj < m:
                yield from extend(path + [(i + di, j + dj)])
    yield from extend([(0, 0)])


def brute_force(cost):
    best = min(all_paths(*cost.shape), key=lambda p: sum(cost[i, j] for i, j in p))
    return sum(cost[i, j] for i, j in best)


@pytest.mark.parametrize("shape,seed", list(itertools.product([(1, 1), (1, 5), (4, 1), (3, 4), (4, 6), (5, 5)],
                                                             range(3))))
def test_matches_brute_force_on_random_costs(shape, seed):
    cost = np.random.default_rng(seed).random(shape)
    rows, cols = dtw(cost)
    assert path_cost(cost, rows, cols) == pytest.approx(brute_force(cost))
    assert cumulative_cost(cost)[-1, -1] == pytest.approx(brute_force(cost))
    # monotonic, connected, from corner to corner
    assert (rows[0], cols[0]) == (0, 0) and (rows[-1], cols[-1]) == (shape[0] - 1, shape[1] - 1)
    steps = set(zip(np.diff(rows), np.diff(cols)))
    assert steps <= {(1, 1), (1, 0), (0, 1)}


def test_planted_path_is_found():
    n, m = 4, 12
    cost = np.ones((n, m))
    planted = [(0, 0), (0, 1), (0, 2), (1, 3), (1, 4), (2, 5), (2, 6), (2, 7), (2, 8), (3, 9), (3, 10), (3, 11)]
    for i, j in planted:
        cost[i, j] = 0.0
    rows, cols = dtw(cost)
    assert list(zip(rows.tolist(), cols.tolist())) == planted


def test_ties_prefer_the_diagonal_and_stay_monotonic():
    cost = np.zeros((3, 3))  # every path costs 0
    rows, cols = dtw(cost)
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 0), (1, 1), (2, 2)]
    flat = np.zeros((2, 6))
    rows, cols = dtw(flat)
    assert list(rows) == sorted(rows) and list(cols) == sorted(cols) and len(set(cols)) == 6


def test_bad_costs():
    with pytest.raises(ValueError, match="non-empty"):
        dtw(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="NaN"):
        dtw(np.array([[0.0, np.nan]]))


def test_long_input_thirty_seconds_of_frames():
    """20 tokens x 1500 frames (a full 30 s window): still the optimal path."""
    rng = np.random.default_rng(0)
    cost = rng.random((20, 1500))
    rows, cols = dtw(cost)
    assert path_cost(cost, rows, cols) == pytest.approx(cumulative_cost(cost)[-1, -1])
