"""DTW speed: our row-vectorized DTW against a plain Python double loop, side by side.

Both compute the same cumulative cost (checked) for N tokens x M encoder frames; printed: the
time of each (best of --rounds) and the ratio.

Usage: python benchmarks/dtw_speed.py [--tokens 20] [--frames 1500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from s2t_explain.alignment.dtw import cumulative_cost, dtw


def double_loop(cost: np.ndarray) -> np.ndarray:
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    c = cost.tolist()
    t = total.tolist()
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            t[i][j] = c[i - 1][j - 1] + min(t[i - 1][j - 1], t[i - 1][j], t[i][j - 1])
    return np.array(t)[1:, 1:]


def best_of(fn, rounds: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=20)
    ap.add_argument("--frames", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    cost = np.random.default_rng(0).random((args.tokens, args.frames))
    assert np.allclose(cumulative_cost(cost), double_loop(cost))
    ours = best_of(lambda: dtw(cost), args.rounds)
    loop = best_of(lambda: double_loop(cost), args.rounds)
    print(f"{args.tokens} tokens x {args.frames} frames: ours (with back-trace) {ours * 1000:.1f} ms, "
          f"Python double loop (cost only) {loop * 1000:.1f} ms, ratio {loop / ours:.1f}x")


if __name__ == "__main__":
    main()
