import numpy as np
import pytest

from helpers import make_toy_job
from s2t_explain.errors import OptionError
from s2t_explain.features.whisper_mel import Features
from s2t_explain.metrics.faithfulness import (
    CURVE_STEPS,
    auc,
    curve_masks,
    input_map,
    random_ranking,
    ranking,
    size_auc,
    size_curve,
)
from s2t_explain.saliency.options import EncoderSaliencyOptions, InputSaliencyOptions, SaliencyOptions
from s2t_explain.study.faithfulness import CurveScorer, faithfulness_curves


def test_auc_trapezoid():
    assert auc([0, 100], [0, 100]) == pytest.approx(50.0)
    assert auc(np.full(21, 40.0)) == pytest.approx(40.0)
    assert auc(CURVE_STEPS.astype(float)) == pytest.approx(50.0)


def test_ranking_breaks_ties_at_random():
    values = np.zeros((10, 8))
    values[3, 5] = 2.0
    order = ranking(values, seed=0)
    assert order[0] == 3 * 8 + 5
    # ties are shuffled, not taken in memory order (which would rank low frequency bins first)
    assert list(order[1:6]) != sorted(order[1:6])
    assert sorted(order) == list(range(80))
    assert sorted(random_ranking(80)) == list(range(80))


def test_curve_masks_deletion_and_insertion():
    order = np.arange(20)[::-1]
    deletion = curve_masks(order, (4, 5), "deletion", np.array([0, 25, 100]))
    assert deletion[0].sum() == 0 and deletion[1].sum() == 5 and deletion[2].all()
    assert deletion[1].ravel()[order[:5]].all()
    insertion = curve_masks(order, (4, 5), "insertion", np.array([0, 25, 100]))
    assert insertion[0].all() and insertion[1].sum() == 15 and insertion[2].sum() == 0
    assert not insertion[1].ravel()[order[:5]].any()  # the top 25% are kept
    with pytest.raises(OptionError):
        curve_masks(order, (4, 5), "sideways")


def test_input_map_broadcasts_encoder_frames():
    maps = np.zeros((2, 3))
    maps[:, 1] = 1.0
    out = input_map(maps, n_frames=5, n_bins=4, stride=2)
    assert out.shape == (5, 4)
    assert (out[2:4] > out[0]).all() and (out[4] < out[2]).all()  # frames 2, 3 <- encoder frame 1
    full = np.random.default_rng(0).random((2, 5, 4))
    assert input_map(full, 5, 4, 2).shape == (5, 4)


def test_size_metric():
    compact = np.zeros(100)
    compact[0] = 1.0
    spread = np.ones(100)
    spread[0] = 0.0
    assert size_auc(compact) < 10 < 90 < size_auc(spread)
    assert size_curve(compact)[0] == 1.0  # every value is >= 0


def test_faithful_ranking_beats_random_on_toy_model():
    """The toy model's output depends only on a known region: ranking it first must score higher."""
    options = SaliencyOptions(input=InputSaliencyOptions(n_masks=8), encoder=EncoderSaliencyOptions(n_masks=8))
    job = make_toy_job(options, frames_in=slice(40, 60), bins=slice(0, 4))
    scorer = CurveScorer(job.model, Features(job.features, job.n_frames), job.transcript, how="logprob")
    n_rows = int((~job.transcript.special).sum())
    truth = np.zeros((n_rows, job.n_frames, 8))
    truth[:, 40:60, 0:4] = 1.0
    anti = 1.0 - truth  # the worst ranking: the region last
    out = faithfulness_curves(scorer, {"truth": truth, "anti": anti}, n_bins=8, stride=2)
    deletion = {k: v["auc"] for k, v in out["deletion"].items()}
    insertion = {k: v["auc"] for k, v in out["insertion"].items()}
    assert deletion["truth"] > deletion["random"] > deletion["anti"]
    assert insertion["truth"] < insertion["random"] < insertion["anti"]
    # curve ends are shared: nothing occluded scores 0, everything occluded is the same for all
    assert out["deletion"]["truth"]["curve"][0] == pytest.approx(0.0, abs=1e-6)
    assert out["deletion"]["truth"]["curve"][-1] == out["deletion"]["random"]["curve"][-1]
