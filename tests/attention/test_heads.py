import numpy as np
import pytest

from s2t_explain.attention import aggregate, resolve_heads
from s2t_explain.errors import OptionError


@pytest.fixture
def attn():
    # (L=3, H=2, I=2, T'=4) with value = 10*layer + head everywhere: means are hand-checkable
    L, H = np.meshgrid(np.arange(3), np.arange(2), indexing="ij")
    return np.broadcast_to((10 * L + H)[:, :, None, None], (3, 2, 2, 4)).astype(float)


def test_named_sets():
    assert resolve_heads("all", 2, 2) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert resolve_heads("last-layer", 3, 2) == [(2, 0), (2, 1)]
    assert resolve_heads("alignment", 4, 2, [(3, 1), (2, 0)]) == [(2, 0), (3, 1)]
    assert resolve_heads("alignment", 4, 2, None) == [(2, 0), (2, 1), (3, 0), (3, 1)]  # upper half


def test_patterns():
    assert resolve_heads("layer:1", 3, 2) == [(1, 0), (1, 1)]
    assert resolve_heads("head:2,1", 3, 2) == [(2, 1)]
    assert resolve_heads("[[0, 1], [2, 0]]", 3, 2) == [(0, 1), (2, 0)]
    assert resolve_heads([[0, 1], [0, 1]], 3, 2) == [(0, 1)]  # duplicates collapse


def test_aggregate_means(attn):
    assert np.all(aggregate(attn, [(2, 1)]) == 21)
    assert np.all(aggregate(attn, resolve_heads("layer:1", 3, 2)) == 10.5)
    assert np.allclose(aggregate(attn, resolve_heads("all", 3, 2)), 10.5)
    assert np.all(aggregate(attn, [(0, 0), (2, 1)]) == 10.5)
    assert aggregate(attn, [(0, 0)]).shape == (2, 4)


@pytest.mark.parametrize("spec,message", [
    ("layer:3", "layer 3 does not exist"),
    ("head:0,5", "head 5 does not exist"),
    ("[[0]]", "each head is"),
    ("[]", "empty"),
    ("bogus", "unknown head set"),
    ("head:1", "head:LAYER,HEAD"),
    ("layer:x", "expected an integer"),
    ("[[0, 1", "bad head list"),
])
def test_bad_sets(spec, message):
    with pytest.raises(OptionError, match=message):
        resolve_heads(spec, 3, 2)
