"""Engine invariances on a tiny random Whisper: batch size, seeds, early stopping, halves."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from helpers import make_toy_job, speechlike
from s2t_explain.decoding import DecodingOptions, make_transcript
from s2t_explain.errors import OptionError
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


@pytest.mark.parametrize("estimator", ["mean", "regression"])
def test_batch_size_invariance_across_chunks_and_early_stop(estimator):
    """Hundreds of masks cross the mask-drawing chunks; early stopping happens at the same count."""
    runs = []
    for batch_size in (7, 64):
        options = SaliencyOptions(input=None, encoder=EncoderSaliencyOptions(n_masks=600), batch_size=batch_size,
                                  estimator=estimator, target_reliability=0.9, check_every=50)
        runs.append(make_toy_job(options).encoder_saliency())
    a, b = runs
    assert a.n_masks == b.n_masks < 600 and a.stopped_early and b.stopped_early
    assert [n for n, _ in a.curve] == [n for n, _ in b.curve]
    np.testing.assert_allclose(a.values, b.values, rtol=1e-5, atol=1e-7 * np.abs(b.values).max())


def test_seed_determinism(setup):
    a, _ = make_job(setup, seed=3).input_saliency()
    b, _ = make_job(setup, seed=3).input_saliency()
    c, _ = make_job(setup, seed=4).input_saliency()
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.allclose(a.values, c.values)


def test_token_saliency_shape_and_rows(setup):
    x, tokens = make_job(setup, input=InputSaliencyOptions(n_masks=16, granularities=(60,), p_dec=0.3)).input_saliency()
    I = x.values.shape[0]
    assert tokens is not None and tokens.values.shape == (I, I)
    assert np.any(np.tril(tokens.values) != 0)
    assert tokens.reliability is None  # not measured for token saliency


def test_early_stop_at_target_reliability(setup):
    opts = dict(encoder=EncoderSaliencyOptions(n_masks=4000), input=None, batch_size=50, check_every=100)
    run = make_job(setup, target_reliability=0.5, **opts).encoder_saliency()
    full = make_job(setup, **dict(opts, encoder=EncoderSaliencyOptions(n_masks=400))).encoder_saliency()
    assert run.stopped_early and run.n_masks < 4000 and run.n_masks % 100 == 0
    assert run.curve[-1] == (run.n_masks, pytest.approx(run.curve[-1][1])) and run.curve[-1][1] >= 0.5
    assert all(r < 0.5 for _, r in run.curve[:-1])  # it stopped at the first check that reached it
    assert [n for n, _ in full.curve] == [100, 200, 300, 400] and not full.stopped_early


def test_summary_records_what_ran(setup):
    run = make_job(setup).encoder_saliency()
    summary = run.summary()
    assert summary["n_masks"] == 21 and set(summary["groups"]) == {"block1", "block2", "block4"}
    assert summary["groups"]["block1"] == 40 and summary["groups"]["block4"] == 10  # T' = 40 for 0.8 s
    assert summary["reliability"] == round(run.reliability, 4)


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


def test_device_masks_equal_the_host_masks():
    from s2t_explain.saliency.masks import GridMasks, SuperpixelMasks
    from s2t_explain.saliency.perturb import DeviceMasks

    spectrogram = np.random.default_rng(0).random((60, 20))
    for family in (SuperpixelMasks(spectrogram, (20, 40, 60), p=0.5, seed=3), GridMasks((60, 20), ((5, 4), (10, 5)),
                                                                                         p=0.3, seed=1)):
        ks = [0, 1, 2, 3, 7, 11, 200]  # every group, out of order, past the first chunk
        on_device = DeviceMasks(family, torch.device("cpu"))(ks)
        assert on_device.dtype == torch.bool and on_device.shape == (7, 60, 20)
        assert np.array_equal(on_device.numpy(), np.stack([family.element_mask(k) for k in ks]))


def test_reduced_precision_perturbation_passes(setup):
    """bfloat16 perturbation passes (autocast) keep the clean pass in float32 and the maps close."""
    import s2t_explain as s2t

    model, prepared, _ = setup
    opts = s2t.SaliencyOptions(input=s2t.InputSaliencyOptions(n_masks=32, granularities=(40,)),
                               encoder=s2t.EncoderSaliencyOptions(n_masks=64), batch_size=16)
    full = s2t.explain(model, prepared, saliency=opts, text="hello there", progress=False)
    low = s2t.explain(model, prepared, saliency=replace(opts, precision="bfloat16"), text="hello there",
                      progress=False)
    assert np.array_equal(full.transcript.logprobs, low.transcript.logprobs)  # clean pass untouched
    assert np.array_equal(full.cross_attention, low.cross_attention)
    for name in ("spes-input", "spes-encoder"):
        a, b = full[name].values.ravel(), low[name].values.ravel()
        assert not np.array_equal(a, b)  # the passes did run in bfloat16
        assert np.corrcoef(a, b)[0, 1] > 0.8, name  # a random model's scores are tiny: bfloat16 noise shows
    with pytest.raises(OptionError, match="unknown precision 'int8'"):
        replace(opts, precision="int8")


def test_choose_batch_doubles_while_it_pays_and_fits():
    from s2t_explain.saliency.engine import choose_batch

    def probe(fits_up_to, rate):
        return lambda b: rate(b) if b <= fits_up_to else None

    assert choose_batch(probe(10_000, lambda b: float(b)), 8) == 512  # linear gains: up to the limit
    assert choose_batch(probe(48, lambda b: float(b)), 8) == 32  # 64 runs out of memory
    assert choose_batch(probe(10_000, lambda b: min(b, 34.0)), 8) == 32  # 64 is not 10% faster than 32
    assert choose_batch(probe(10_000, lambda b: float(b)), 8, limit=100) == 64
    assert choose_batch(probe(3, lambda b: float(b)), 8) == 2  # even 8 does not fit: halve first
    with pytest.raises(MemoryError):
        choose_batch(probe(0, lambda b: 1.0), 8)


def test_auto_batch_is_recorded_and_gives_the_fixed_batch_maps(setup):
    import s2t_explain as s2t

    model, prepared, _ = setup
    opts = s2t.SaliencyOptions(input=None, encoder=s2t.EncoderSaliencyOptions(n_masks=64), batch_size=4,
                               check_every=16, auto_batch=True)
    auto = s2t.explain(model, prepared, saliency=opts, text="hello there", progress=False)
    chosen = auto["spes-encoder"].reliability["batch_size"]
    assert chosen in (4, 8, 16, 32, 64)
    fixed = s2t.explain(model, prepared, saliency=replace(opts, auto_batch=False, batch_size=chosen),
                        text="hello there", progress=False)
    assert np.allclose(auto["spes-encoder"].values, fixed["spes-encoder"].values, rtol=1e-6, atol=1e-9)
    assert fixed["spes-encoder"].reliability["batch_size"] == chosen
