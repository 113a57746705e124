import numpy as np
import pytest

from s2t_explain.errors import OptionError
from s2t_explain.pooling import pool


@pytest.fixture
def maps():
    # one token, T = 5 frames, F = 2 bins; values chosen so each function gives a different answer
    return np.array([[[1, 2], [3, 4], [5, 0], [0, 0], [9, 1]]], dtype=float)


def test_max(maps):
    assert pool(maps, 2, "max").tolist() == [[4, 5, 9]]  # last window is partial (one frame)


def test_mean(maps):
    assert pool(maps, 2, "mean").tolist() == [[2.5, 1.25, 5.0]]


def test_mixed(maps):
    assert pool(maps, 2, "max-freq-mean-time").tolist() == [[3.0, 2.5, 9.0]]
    assert pool(maps, 2, "mean-freq-max-time").tolist() == [[3.5, 2.5, 5.0]]


def test_stride_four_and_unknown(maps):
    assert pool(maps, 4, "max").tolist() == [[5, 9]]
    with pytest.raises(OptionError, match="unknown pooling function"):
        pool(maps, 2, "median")
