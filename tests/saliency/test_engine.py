"""Engine invariances on a tiny random Whisper: batch size, seeds, early stopping, halves."""

import numpy as np
import pytest

from helpers import speechlike
from s2t_explain.decoding import DecodingOptions, make_transcript
from s2t_explain.pipeline import prepare
from s2t_explain.saliency.explain import SaliencyJob
from s2t_explain.saliency.options import EncoderSaliencyOptions, InputSaliencyOptions, SaliencyOptions


@pytest.fixture(scope="module")
def setup(tiny_whisper):
    prepared = prepare(tiny_whisper, speechlike(0.8))
    transcript = make_transcript(tiny_whisper, prepared.states, DecodingOptions(), text="one two three")
    return tiny_whisper, prepared, transcript


def make_job(setup, **kwargs):
    model, prepared, transcript = setup
    base = dict(input=InputSaliencyOptions(n_masks=21, granularities=(60, 90)),
                encoder=EncoderSaliencyOptions(n_masks=21), batch_size=4, seed=0)
    base.update(kwargs)
    return SaliencyJob(model, prepared.features.values, prepared.features.n_frames, prepared.states, transcript,
                       SaliencyOptions(**base), progress=False)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7])
def test_batch_size_invariance(setup, batch_size):
    ref_x, _ = make_job(setup, batch_size=5).input_saliency()
    ref_h = make_job(setup, batch_size=5).encoder_saliency()
    x, _ = make_job(setup, batch_size=batch_size).input_saliency()
    h = make_job(setup, batch_size=batch_size).encoder_saliency()
    np.testing.assert_allclose(x.values, ref_x.values, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(h.values, ref_h.values, rtol=1e-4, atol=1e-7)
    assert x.n_masks == ref_x.n_masks == 21


def test_seed_determinism(setup):
    a, _ = make_job(setup, seed=3).input_saliency()
    b, _ = make_job(setup, seed=3).input_saliency()
    c, _ = make_job(setup, seed=4).input_saliency()
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.allclose(a.values, c.values)


def test_token_saliency_is_causal(setup):
    x, tokens = make_job(setup, input=InputSaliencyOptions(n_masks=16, granularities=(60,), p_dec=0.3)).input_saliency()
    I = x.values.shape[0]
    assert tokens is not None and tokens.values.shape == (I, I)
    assert np.all(np.triu(tokens.values, 1) == 0)
    assert np.any(tokens.values != 0)


def test_early_stop_at_target_reliability(setup):
    opts = dict(encoder=EncoderSaliencyOptions(n_masks=4000), input=None, batch_size=50, check_every=2)
    run = make_job(setup, target_reliability=0.5, **opts).encoder_saliency()
    full = make_job(setup, **dict(opts, encoder=EncoderSaliencyOptions(n_masks=400))).encoder_saliency()
    assert run.stopped_early and run.n_masks < 4000
    assert run.curve[-2][1] >= 0.5 or run.reliability >= 0.5
    assert full.curve[-1][0] == 400 and not full.stopped_early


def test_summary_records_what_ran(setup):
    run = make_job(setup).encoder_saliency()
    summary = run.summary()
    assert summary["n_masks"] == 21 and set(summary["groups"]) == {"block1", "block2", "block4"}
    assert -1.0 <= summary["reliability"] <= 1.0


def test_bfloat16_model_runs_the_engine():
    import torch
    from helpers import make_tiny_whisper

    model = make_tiny_whisper(seed=2).to(dtype=torch.bfloat16)
    prepared = prepare(model, speechlike(0.6))
    assert prepared.states.dtype == torch.bfloat16
    transcript = make_transcript(model, prepared.states, DecodingOptions(), text="hello")
    options = SaliencyOptions(input=InputSaliencyOptions(n_masks=8, granularities=(60,)),
                              encoder=EncoderSaliencyOptions(n_masks=8), batch_size=4)
    job = SaliencyJob(model, prepared.features.values, prepared.features.n_frames, prepared.states, transcript,
                      options, progress=False)
    x, _ = job.input_saliency()
    h = job.encoder_saliency()
    assert np.all(np.isfinite(x.values)) and np.all(np.isfinite(h.values))
