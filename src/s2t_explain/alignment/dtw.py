"""Dynamic time warping between tokens (rows) and encoder frames (columns).

A path runs from (0, 0) to (N-1, M-1) with steps down (i+1, j), right (i, j+1) or diagonal
(i+1, j+1); it minimises the summed cost of the cells it visits. Each row of the cumulative cost
is computed at once: with A[j] = cost[i, j] + min(D[i-1, j-1], D[i-1, j]) and C = cumsum(cost[i]),
D[i, j] = min_k<=j (A[k] + C[j] - C[k]) = C[j] + running-min(A - C)[j], so the only Python loop
is over the N tokens (plus the back-trace), not over N x M cells. Ties are broken in a fixed
order: diagonal, then down, then right.
"""

from __future__ import annotations

import numpy as np


def cumulative_cost(cost: np.ndarray) -> np.ndarray:
    """(N, M) cost -> (N, M) cumulative cost of the best monotonic path ending in each cell."""
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or 0 in cost.shape:
        raise ValueError(f"DTW needs a non-empty 2-D cost matrix, got shape {cost.shape}")
    if not np.isfinite(cost).all():
        raise ValueError("DTW cost matrix has NaN or infinite entries")
    n, m = cost.shape
    total = np.empty((n, m))
    total[0] = np.cumsum(cost[0])
    for i in range(1, n):
        prev = total[i - 1]
        best_above = prev.copy()  # D[i-1, j]
        best_above[1:] = np.minimum(prev[1:], prev[:-1])  # min(D[i-1, j], D[i-1, j-1])
        a = cost[i] + best_above
        c = np.cumsum(cost[i])
        total[i] = c + np.minimum.accumulate(a - c)
    return total


def dtw(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best monotonic path through ``cost`` (N, M): (row indices, column indices), both ascending."""
    total = cumulative_cost(cost)
    i, j = total.shape[0] - 1, total.shape[1] - 1
    rows, cols = [i], [j]
    while i > 0 or j > 0:
        candidates = []
        if i > 0 and j > 0:
            candidates.append((total[i - 1, j - 1], 0, i - 1, j - 1))
        if i > 0:
            candidates.append((total[i - 1, j], 1, i - 1, j))
        if j > 0:
            candidates.append((total[i, j - 1], 2, i, j - 1))
        _, _, i, j = min(candidates)
        rows.append(i)
        cols.append(j)
    return np.array(rows[::-1]), np.array(cols[::-1])


def path_cost(cost: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> float:
    return float(np.asarray(cost, dtype=np.float64)[rows, cols].sum())
