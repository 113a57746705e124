import numpy as np
import pytest

from s2t_explain.errors import OptionError
from s2t_explain.saliency.masks import FrameBlockMasks, GridMasks, SuperpixelMasks
from s2t_explain.saliency.segmentation import scaled_segment_counts


@pytest.fixture(scope="module")
def spectrogram():
    rng = np.random.default_rng(0)
    t = np.arange(300)[:, None]
    f = np.arange(80)[None, :]
    return np.sin(t / 9.0) * np.cos(f / 7.0) + 0.1 * rng.standard_normal((300, 80))


def test_segment_counts_scale_with_duration():
    assert scaled_segment_counts((2000, 2500, 3000), 500) == [2000, 2500, 3000]
    assert scaled_segment_counts((2000, 2500, 3000), 250) == [1000, 1250, 1500]
    assert scaled_segment_counts((2000, 2500, 3000), 1500) == [3000, 3750, 4500]  # capped at 750 frames
    assert scaled_segment_counts((1,), 10) == [1]


def test_superpixel_groups(spectrogram):
    family = SuperpixelMasks(spectrogram, (100, 200, 400), p=0.5)
    counts = [g.n_units for g in family.groups]
    assert counts == sorted(counts) and counts[0] > 10  # finer granularity, more segments
    for g in family.groups:
        assert g.labels.shape == (300, 80)
        assert set(np.unique(g.labels)) == set(range(g.n_units))  # contiguous labels


@pytest.mark.parametrize("design", ["iid", "balanced", "antithetic"])
def test_occlusion_rate(spectrogram, design):
    family = SuperpixelMasks(spectrogram, (100, 200), p=0.5, design=design, seed=1)
    rates = [family.element_mask(k).mean() for k in range(600)]
    assert abs(np.mean(rates) - 0.5) < 0.02
    assert family.group_of(0) == 0 and family.group_of(1) == 1 and family.group_of(2) == 0


def test_design_details():
    family = FrameBlockMasks(100, (1, 4), p=0.3, design="balanced")
    for k in range(10):
        m = family.unit_mask(k)
        assert m.sum() == round(0.3 * m.size)
    anti = FrameBlockMasks(100, (1, 4), p=0.5, design="antithetic")
    for k in range(2, 200, 4):  # mask k and k-2 (one cycle of 2 groups earlier) are complements
        assert np.array_equal(anti.unit_mask(k), ~anti.unit_mask(k - 2))
    with pytest.raises(OptionError, match="p = 0.5"):
        FrameBlockMasks(10, (1,), p=0.3, design="antithetic")
    with pytest.raises(OptionError, match="unknown mask design"):
        FrameBlockMasks(10, (1,), p=0.3, design="sobol")


def test_iid_occlusion_rate_for_small_p():
    family = FrameBlockMasks(500, (1,), p=0.1)
    assert abs(np.mean([family.unit_mask(k).mean() for k in range(400)]) - 0.1) < 0.01


def test_masks_do_not_depend_on_access_order():
    a = FrameBlockMasks(50, (1, 2, 4), p=0.5, seed=7)
    b = FrameBlockMasks(50, (1, 2, 4), p=0.5, seed=7)
    late = b.unit_mask(500).copy()
    assert np.array_equal(a.unit_mask(500), late)
    assert np.array_equal(a.unit_mask(3), b.unit_mask(3))


def test_blocks_and_grid_labels():
    blocks = FrameBlockMasks(10, (1, 4), p=0.5)
    assert blocks.groups[1].labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    assert blocks.groups[1].n_units == 3
    grid = GridMasks((5, 4), ((2, 2),), p=0.5)
    assert grid.groups[0].labels.tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3], [4, 4, 5, 5]]
