"""Hand-checkable toy models: the saliency mass lands on the region the output depends on."""

import numpy as np
import pytest
import torch

from helpers import make_toy_job
from s2t_explain.saliency.options import EncoderSaliencyOptions, InputSaliencyOptions, SaliencyOptions
from s2t_explain.saliency.scorers import SCORERS

FRAMES_IN = slice(40, 60)  # input frames of the bright block
ENC_FRAMES = slice(20, 30)  # the encoder frames they become (stride 2)
BINS = slice(0, 4)
N_SPEECH = 120


def job(options: SaliencyOptions):  # type: ignore[no-untyped-def]
    return make_toy_job(options, FRAMES_IN, ENC_FRAMES, BINS, N_SPEECH)


def mass_inside(row: np.ndarray, region: tuple) -> float:
    """Share of the saliency above the outside level (the map's median) that lies in ``region``.

    The paper's estimator gives every element outside the region the same expected value (the
    mean score), so mass is measured as excess over that level.
    """
    excess = np.clip(row - np.median(row), 0, None)
    return float(excess[region].sum() / excess.sum())


def top_precision(row: np.ndarray, region: tuple) -> float:
    """Share of the |region| highest elements that lie inside the region."""
    inside = np.zeros(row.shape, dtype=bool)
    inside[region] = True
    top = np.argsort(-row.ravel())[: inside.sum()]
    return float(inside.ravel()[top].mean())


@pytest.mark.parametrize("design,estimator", [("iid", "mean"), ("balanced", "mean"), ("antithetic", "mean"),
                                              ("iid", "regression"), ("antithetic", "regression")])
def test_input_saliency_lands_on_the_region(design, estimator):
    # grid patches aligned with the region: the estimator alone decides where the mass goes
    options = SaliencyOptions(
        input=InputSaliencyOptions(n_masks=6000, masks="grid", patch_sizes=((20, 4), (10, 4), (20, 2)),
                                   design=design),
        encoder=None, batch_size=50, estimator=estimator)
    run, _ = job(options).input_saliency()
    assert run.values.shape == (3, N_SPEECH, 8)  # I = word, word, <eot>
    for row in run.values:
        assert mass_inside(row, (FRAMES_IN, BINS)) > 0.9
    assert run.reliability > 0.9


def test_superpixels_find_the_region():
    # SLIC segments do not follow the block's edges exactly, so some mass leaks to neighbours
    options = SaliencyOptions(
        input=InputSaliencyOptions(n_masks=600, granularities=(40, 60, 80), reference_frames=N_SPEECH),
        encoder=None, batch_size=50)
    run, _ = job(options).input_saliency()
    for row in run.values:
        assert top_precision(row, (FRAMES_IN, BINS)) > 0.9
        assert mass_inside(row, (FRAMES_IN, BINS)) > 0.5


def test_encoder_saliency_lands_on_the_frames():
    options = SaliencyOptions(input=None, encoder=EncoderSaliencyOptions(n_masks=2000), batch_size=100)
    run = job(options).encoder_saliency()
    assert run.values.shape == (3, N_SPEECH // 2)
    for row in run.values:
        assert mass_inside(row, (ENC_FRAMES,)) > 0.9


def test_encoder_element_mode_reduces_over_width():
    options = SaliencyOptions(input=None, encoder=EncoderSaliencyOptions(n_masks=1000, mode="elements"),
                              batch_size=100)
    run = job(options).encoder_saliency()
    assert run.values.shape == (3, N_SPEECH // 2)
    assert top_precision(run.values[0], (ENC_FRAMES,)) >= 0.9


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def test_scorers_match_hand_computation():
    d = np.array([1.0, -1.0, 0.5])
    z_clean, z_pert = 0.9, -0.3
    p, q = softmax(z_clean * d), softmax(z_pert * d)
    clean_logp = torch.tensor(np.log(p), dtype=torch.float32)[None].expand(2, 3)  # (I=2, V)
    logits = torch.tensor(z_pert * d, dtype=torch.float32)[None, None].expand(1, 2, 3)  # (B=1, I, V)
    targets = torch.tensor([2, 0])
    kl = SCORERS.get("kl")(clean_logp, logits, targets)
    assert kl.shape == (1, 2)
    np.testing.assert_allclose(kl.numpy()[0], [np.sum(p * np.log(p / q))] * 2, rtol=1e-5)
    drop = SCORERS.get("prob_drop")(clean_logp, logits, targets)
    np.testing.assert_allclose(drop.numpy()[0], [p[2] - q[2], p[0] - q[0]], rtol=1e-5)


def test_unperturbed_input_scores_zero():
    j = job(SaliencyOptions(input=InputSaliencyOptions(n_masks=8), encoder=None))
    logits = j.model.decode(torch.tensor([j.transcript.ids[:-1]]), j.states).logits
    np.testing.assert_allclose(j._scores(logits), 0.0, atol=1e-6)
