"""Estimators, reliability and perturbation paths against brute-force or hand computations."""

import numpy as np
import pytest
import torch

from helpers import speechlike
from s2t_explain.decoding import DecodingOptions, make_transcript
from s2t_explain.models.base import MaskedStateDecoder
from s2t_explain.pipeline import prepare
from s2t_explain.saliency.accumulate import Accumulator
from s2t_explain.saliency.estimators import ESTIMATORS, RIDGE
from s2t_explain.saliency.masks import FrameBlockMasks
from s2t_explain.saliency.perturb import InputPerturber, StatePerturber
from s2t_explain.saliency.reliability import split_half


@pytest.fixture(scope="module")
def recorded():
    family = FrameBlockMasks(12, (1, 3), p=0.5, seed=5)
    rng = np.random.default_rng(0)
    n = 320  # 80 blocks of 2 x 2 masks: each half gets 40 blocks
    scores = rng.random((n, 2))
    acc = Accumulator(family, 2, second_order=True)
    acc.add(list(range(n)), scores)
    return family, scores, acc


def test_mean_estimator_brute_force(recorded):
    family, scores, acc = recorded
    masks = np.stack([family.element_mask(k) for k in range(len(scores))])  # (n, 12)
    expected = (scores.T @ masks) / masks.sum(0)  # mean score over masks occluding each element
    np.testing.assert_allclose(ESTIMATORS.get("mean")(acc, (0, 1)), expected, rtol=1e-10)


def test_regression_estimator_matches_explicit_ridge(recorded):
    family, scores, acc = recorded
    n = len(scores)
    # features: occluded fraction of every unit of both groups, for every mask
    features = []
    for k in range(n):
        occluded = family.element_mask(k).astype(float)
        row = [np.bincount(g.labels, weights=occluded, minlength=g.n_units) / np.bincount(g.labels)
               for g in family.groups]
        features.append(np.concatenate(row))
    X = np.array(features)
    Xc, Sc = X - X.mean(0), scores - scores.mean(0)
    gram = Xc.T @ Xc
    beta = np.linalg.solve(gram + RIDGE * np.diag(np.diag(gram) + 1e-9), Xc.T @ Sc)  # (P, I)
    expected = beta[:12].T[:, family.groups[0].labels] + beta[12:].T[:, family.groups[1].labels]
    np.testing.assert_allclose(ESTIMATORS.get("regression")(acc, (0, 1)), expected, rtol=1e-8, atol=1e-12)


def test_robust_estimator_resists_outlier_masks():
    """Planted additive effects plus a few huge scores: Huber's fit stays close, least squares does not."""
    family = FrameBlockMasks(12, (1,), p=0.5, seed=3)
    n = 400
    masks = np.stack([family.element_mask(k) for k in range(n)]).astype(float)  # (n, 12)
    effects = np.zeros(12)
    effects[4:7] = 1.0
    rng = np.random.default_rng(1)
    scores = masks @ effects + 0.05 * rng.standard_normal(n)
    outliers = rng.choice(n, 12, replace=False)
    scores[outliers] += 40.0 * rng.random(12)  # heavy tail: a few masks cost far more than additive
    scores = scores[:, None]
    fits = {}
    for name in ("regression-smooth", "regression-robust"):
        acc = Accumulator(family, 1, second_order=True, keep_scores=name == "regression-robust")
        acc.add(list(range(n)), scores)
        fits[name] = ESTIMATORS.get(name)(acc, (0, 1))[0]
    r = {k: np.corrcoef(v, effects)[0, 1] for k, v in fits.items()}  # shapes, not the ridge-shrunk scale
    assert r["regression-robust"] > 0.9 > r["regression-smooth"]
    assert set(np.argsort(fits["regression-robust"])[-3:]) == {4, 5, 6}
    with pytest.raises(ValueError, match="keep_scores"):
        ESTIMATORS.get("regression-robust")(Accumulator(family, 1, second_order=True), (0, 1))


def test_halves_are_balanced(recorded):
    family, scores, acc = recorded
    assert acc.n[0] == acc.n[1] == [80, 80]  # each half sees each group equally often


def test_split_half():
    rng = np.random.default_rng(1)
    a = rng.random((3, 50))
    assert split_half(a, a) == pytest.approx(1.0)
    assert split_half(a, 5 * a + 2) == pytest.approx(1.0)  # per-token normalisation
    assert abs(split_half(a, rng.random((3, 50)))) < 0.35
    assert split_half(a, np.ones((3, 50))) == 0.0


@pytest.fixture(scope="module")
def job(tiny_whisper):
    prepared = prepare(tiny_whisper, speechlike(0.7))
    transcript = make_transcript(tiny_whisper, prepared.states, DecodingOptions(), text="a b c")
    return tiny_whisper, prepared, transcript


def test_blended_kv_matches_generic_state_blending(job):
    model, prepared, transcript = job
    tokens = torch.tensor([transcript.ids[:-1]] * 3)
    baseline = torch.randn_like(prepared.states)
    mask = torch.zeros(3, prepared.states.shape[1], dtype=torch.bool)
    mask[0, :10] = True
    mask[1, 5:40:3] = True
    fast = model.masked_state_decoder(prepared.states, baseline).logits(tokens, mask)
    generic = MaskedStateDecoder(model, prepared.states, baseline).logits(tokens, mask)
    torch.testing.assert_close(fast, generic, atol=1e-5, rtol=1e-5)


def test_perturbers_with_empty_and_full_masks(job):
    model, prepared, transcript = job
    T = prepared.features.n_frames
    clean = model.decode(torch.tensor([transcript.ids[:-1]]), prepared.states).logits
    inputs = InputPerturber(model, prepared.features.values, T, transcript.ids)
    torch.testing.assert_close(inputs.logits(np.zeros((2, T, 80), bool)), clean.expand(2, -1, -1), atol=1e-5, rtol=0)
    states = StatePerturber(model, prepared.features.values, prepared.states, T, transcript.ids)
    n_enc = model.n_encoder_frames(T)
    torch.testing.assert_close(states.logits(np.zeros((1, n_enc), bool)), clean, atol=1e-5, rtol=0)
    # every speech frame occluded == decoding the baseline states on the speech frames
    blended = prepared.states.clone()
    blended[:, :n_enc] = states.base[:, :n_enc]
    expected = model.decode(torch.tensor([transcript.ids[:-1]]), blended).logits
    torch.testing.assert_close(states.logits(np.ones((1, n_enc), bool)), expected, atol=1e-5, rtol=1e-5)


def test_accumulator_refuses_scores_of_the_wrong_shape():
    acc = Accumulator(FrameBlockMasks(12, (1, 3), p=0.5, seed=1), n_rows=4)
    acc.add([0, 1], np.ones((2, 4)))  # (B, I)
    for bad in (np.ones((2, 3)), np.ones((3, 4)), np.ones(4), np.ones((4, 2))):
        with pytest.raises(ValueError, match=r"shape \(B, I\) = \(2, 4\)"):
            acc.add([2, 3], bad)
    assert acc.n_masks == 2  # nothing half-added


def test_mask_families_come_from_their_registries():
    from s2t_explain.saliency.masks import ENCODER_MASKS, INPUT_MASKS, EncoderElementMasks, GridMasks
    from s2t_explain.saliency.options import EncoderSaliencyOptions, InputSaliencyOptions

    spectrogram = np.random.default_rng(0).random((40, 16))
    grid = INPUT_MASKS.get("grid").from_options(spectrogram, InputSaliencyOptions(masks="grid"), seed=2)
    direct = GridMasks((40, 16), InputSaliencyOptions().patch_sizes, 0.5, "iid", 2)
    assert all((grid.element_mask(k) == direct.element_mask(k)).all() for k in range(6))
    frames = ENCODER_MASKS.get("frames").from_options((30, 8), EncoderSaliencyOptions(block_sizes=(1, 5)), seed=0)
    assert [g.n_units for g in frames.groups] == [30, 6] and frames.supports_joint_fit
    elements = ENCODER_MASKS.get("elements").from_options((30, 8), EncoderSaliencyOptions(mode="elements"), seed=0)
    assert isinstance(elements, EncoderElementMasks) and not elements.supports_joint_fit
    values = np.arange(2 * 30 * 8, dtype=float).reshape(2, 30, 8)
    assert np.allclose(elements.reported(values), values.mean(axis=-1)) and frames.reported(values) is values
