"""Scores summed on the model's device (copied back at checks) equal host accumulation.

The device path is plain tensor code, so on the CPU it runs exactly as it would on a GPU
(CPU tensors instead of CUDA ones): these tests cover it without a GPU.
"""

from dataclasses import replace

import numpy as np
import pytest
import torch

from helpers import make_toy_job
from s2t_explain.errors import OptionError
from s2t_explain.saliency.accumulate import Accumulator
from s2t_explain.saliency.device_accumulate import DeviceAccumulator, staging_on
from s2t_explain.saliency.engine import EngineSettings, InProcess, run
from s2t_explain.saliency.estimators import ESTIMATORS
from s2t_explain.saliency.masks import FrameBlockMasks
from s2t_explain.saliency.options import EncoderSaliencyOptions, SaliencyOptions


@pytest.mark.parametrize("second_order,keep_scores", [(False, False), (True, False), (True, True)])
def test_device_statistics_equal_host_statistics(second_order, keep_scores):
    family = FrameBlockMasks(12, (1, 3), p=0.5, seed=2)
    scores = np.random.default_rng(1).normal(size=(40, 3))
    host = Accumulator(family, 3, second_order=second_order, keep_scores=keep_scores)
    staged = DeviceAccumulator(host, torch.device("cpu"))
    for start in range(0, 40, 7):  # uneven batches, mixing halves and groups
        ks = list(range(start, min(start + 7, 40)))
        staged.add(ks, torch.from_numpy(scores[ks]))
    assert isinstance(staged.sums[0][0], torch.Tensor)
    reference = Accumulator(family, 3, second_order=second_order, keep_scores=keep_scores)
    for k in range(40):  # one mask at a time: the plainest order
        reference.add([k], scores[[k]])
    host.merge(staged.statistics())
    ours, theirs = host.statistics(), reference.statistics()
    for name in ("sums", "counts", "totals", "feature_sum", "gram", "cross"):
        if name in theirs:
            for a, b in zip(_arrays(ours[name]), _arrays(theirs[name]), strict=True):
                assert isinstance(a, np.ndarray)
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert ours["n"] == theirs["n"]
    if keep_scores:
        assert sorted(k for k, _ in ours["kept"][0] + ours["kept"][1]) == list(range(40))
        kept = {k: s for h in (0, 1) for k, s in ours["kept"][h]}
        np.testing.assert_array_equal(np.stack([kept[k] for k in range(40)]), scores)
    staged.reset()
    assert staged.n_masks == 0 and float(staged.sums[0][0].abs().sum()) == 0.0
    with pytest.raises(TypeError, match="merge into the host"):
        staged.merge(reference.statistics())


def _arrays(statistic):
    """The arrays of one statistic: per half, and per group where it has groups."""
    for half in statistic:
        yield from (half if isinstance(half, list) else [half])


@pytest.mark.parametrize("estimator", ["mean", "regression"])
def test_engine_with_device_staging_equals_host_run(estimator):
    """Same map, same reliability curve and same early-stop point; the device copy happens at checks."""
    family = FrameBlockMasks(30, (1, 2, 4), p=0.5, seed=4)
    weights = np.linspace(1.0, 0.0, 30)[None, :] * np.array([[1.0], [0.5]])  # (I=2, 30)
    noise = np.random.default_rng(0)
    table = {k: noise.normal(scale=0.1, size=2) for k in range(600)}

    def scores(ks):  # (B, 2): linear in the occluded elements, plus fixed per-mask noise
        return np.stack([weights @ family.element_mask(k) + table[k] for k in ks])

    settings = EngineSettings(n_masks=600, batch_size=9, estimator=estimator, target_reliability=0.95, check_every=40)
    host, _ = run(family, scores, 2, settings)
    merged = []

    class Counting(DeviceAccumulator):
        def statistics(self):
            merged.append(self.n_masks)
            return super().statistics()

    device, _ = run(family, InProcess(lambda ks: torch.from_numpy(scores(ks)),
                                      staging=lambda acc: Counting(acc, torch.device("cpu"))), 2, settings)
    assert device.n_masks == host.n_masks and device.stopped_early == host.stopped_early
    assert [n for n, _ in device.curve] == [n for n, _ in host.curve]
    np.testing.assert_allclose([r for _, r in device.curve], [r for _, r in host.curve], rtol=1e-9)
    np.testing.assert_allclose(device.values, host.values, rtol=1e-9, atol=1e-12)
    assert merged and set(merged) == {40}  # one copy per check interval, never per batch
    assert sum(merged) == device.n_masks


def test_job_accumulates_on_the_device_when_asked():
    base = SaliencyOptions(input=None, encoder=EncoderSaliencyOptions(n_masks=96), batch_size=8, check_every=32,
                           estimator="regression")
    host_job = make_toy_job(replace(base, accumulate="host"))
    device_job = make_toy_job(replace(base, accumulate="device"))
    auto_job = make_toy_job(base)  # auto on a CPU model: the host
    assert host_job.staging is None and auto_job.staging is None and device_job.staging is not None
    a, b = host_job.encoder_saliency(), device_job.encoder_saliency()
    np.testing.assert_allclose(b.values, a.values, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.array(b.curve), np.array(a.curve), rtol=1e-9)
    # a worker's segment (statistics of one check interval) comes back as host arrays either way
    seg_host, seg_device = host_job.segment("encoder", 32, 64), device_job.segment("encoder", 32, 64)
    np.testing.assert_allclose(seg_device[0]["gram"][0], seg_host[0]["gram"][0], rtol=1e-12)
    assert isinstance(seg_device[0]["sums"][0][0], np.ndarray)
    with pytest.raises(OptionError, match="unknown accumulate 'gpu'"):
        replace(base, accumulate="gpu")


def test_staging_on_builds_an_empty_twin():
    host = Accumulator(FrameBlockMasks(8, (1,), p=0.5, seed=0), 2)
    host.add([0, 1], np.ones((2, 2)))
    twin = staging_on(torch.device("cpu"))(host)
    assert twin.n_masks == 0 and host.n_masks == 2 and twin.family is host.family
    assert ESTIMATORS.get("mean")(host, (0, 1)).shape == (2, 8)


@pytest.mark.slow
def test_compiled_perturbation_passes_equal_eager(tiny_whisper):
    """torch.compile runs the perturbation passes only; the maps stay equal within float rounding."""
    import s2t_explain as s2t
    from helpers import speechlike

    opts = s2t.SaliencyOptions(input=s2t.InputSaliencyOptions(n_masks=16, granularities=(40,)),
                               encoder=s2t.EncoderSaliencyOptions(n_masks=16), batch_size=8, check_every=8)
    eager = s2t.explain(tiny_whisper, speechlike(0.6), saliency=opts, text="hello", progress=False)
    compiled = s2t.explain(tiny_whisper, speechlike(0.6), saliency=replace(opts, compile=True), text="hello",
                           progress=False)
    assert compiled.saliency_options["compile"] is True
    assert np.array_equal(eager.cross_attention, compiled.cross_attention)  # the capture ran eager
    for name in ("spes-input", "spes-encoder"):
        a, b = eager[name].values, compiled[name].values
        # a random model's KL scores are ~1e-5, so float32 rounding of the fused kernels shows at 1e-2
        np.testing.assert_allclose(b, a, rtol=0, atol=2e-2 * np.abs(a).max())
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.99, name
    assert not isinstance(tiny_whisper.net.encoder, torch._dynamo.eval_frame.OptimizedModule)  # original eager
    twin = tiny_whisper.compiled()
    assert twin.net.decoder.cross_kv.__func__ is tiny_whisper.net.decoder.cross_kv.__func__  # passes through


def test_models_without_compile_support_say_so():
    from helpers import ToyModel

    with pytest.raises(OptionError, match="ToyModel cannot compile its passes"):
        make_toy_job(SaliencyOptions(input=None, encoder=EncoderSaliencyOptions(n_masks=8), compile=True))
    assert ToyModel  # the toy model is the adapter without compile support
