"""The bundled real model on a demo clip: maps are finite and non-trivial; reliability rises with N."""

import numpy as np
import pytest

from helpers import clip_path
from s2t_explain.pipeline import explain, explain_attention, prepare
from s2t_explain.saliency.explain import SaliencyJob
from s2t_explain.saliency.options import (
    COARSE_GRANULARITIES,
    EncoderSaliencyOptions,
    InputSaliencyOptions,
    SaliencyOptions,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prepared(tiny_en):
    p = prepare(tiny_en, clip_path("en_1"))
    return p, explain_attention(tiny_en, p).transcript


def encoder_run(tiny_en, prepared, n):
    p, transcript = prepared
    options = SaliencyOptions(input=None, encoder=EncoderSaliencyOptions(n_masks=n), batch_size=64)
    return SaliencyJob(tiny_en, p.features.values, p.features.n_frames, p.states, transcript, options,
                       progress=False).encoder_saliency()


def test_encoder_reliability_rises_with_masks(tiny_en, prepared):
    small, large = encoder_run(tiny_en, prepared, 48), encoder_run(tiny_en, prepared, 768)
    assert large.reliability > small.reliability + 0.2
    assert large.reliability > 0.7
    values = large.values[~prepared[1].special]
    assert np.all(np.isfinite(values)) and values.std() > 0
    # the most salient encoder frame of each word lies inside the speech, ordered roughly in time
    peaks = values.argmax(axis=1)
    assert np.corrcoef(np.arange(len(peaks)), peaks)[0, 1] > 0.8


def test_input_saliency_is_finite_and_nontrivial(tiny_en, prepared):
    p, _ = prepared
    options = SaliencyOptions(input=InputSaliencyOptions(n_masks=48, granularities=COARSE_GRANULARITIES),
                              encoder=EncoderSaliencyOptions(n_masks=48), batch_size=8)
    result = explain(tiny_en, p, saliency=options, progress=False)
    L, H, I, T = result.shape
    assert result["spes-input"].values.shape == (I, p.features.n_frames, 80)
    assert result["spes-encoder"].values.shape == (I, T)
    assert np.all(np.isfinite(result["spes-input"].values)) and result["spes-input"].values.std() > 0
    runs = {name: result[name].reliability for name in ("spes-input", "spes-encoder")}
    assert runs["spes-input"]["n_masks"] == 48 and runs["spes-encoder"]["n_masks"] == 48
    assert set(runs["spes-input"]["groups"]) == {f"slic{g}" for g in COARSE_GRANULARITIES}
    assert "split-half reliability" in result.reliability_report()


@pytest.mark.slow
def test_bfloat16_perturbation_maps_match_float32(tiny_en, prepared):
    from dataclasses import replace

    p, _ = prepared
    options = SaliencyOptions(input=InputSaliencyOptions(n_masks=64, granularities=COARSE_GRANULARITIES),
                              encoder=EncoderSaliencyOptions(n_masks=256), batch_size=16, estimator="regression")
    full = explain(tiny_en, p, saliency=options, progress=False)
    low = explain(tiny_en, p, saliency=replace(options, precision="bfloat16"), progress=False)
    for name in ("spes-input", "spes-encoder"):
        r = np.corrcoef(full[name].values.ravel(), low[name].values.ravel())[0, 1]
        assert r > 0.99, (name, r)
