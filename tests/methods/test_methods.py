"""Explanation methods with known answers: a linear toy model, Integrated Gradients' completeness,
norm-weighted attention by hand, and batching over tokens."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import ToyModel, make_tiny_whisper, speechlike
from s2t_explain.decoding import DecodingOptions, make_transcript
from s2t_explain.errors import OptionError
from s2t_explain.explainers.catalog import EXPLAINERS, KINDS
from s2t_explain.explainers.run import explain_maps  # noqa: F401  (registers the implementations)
from s2t_explain.methods import Context, MethodOptions, Passes, explain_methods, list_methods
from s2t_explain.models.base import DecoderOutput
from s2t_explain.saliency.perturb import silenced_features

RAW = MethodOptions(absolute=False)


class LinearToy(ToyModel):
    """log P_i(target) = f(x) = w . x + c exactly: logits [log(1 - e^f), ..., f] normalise to it.

    The "encoder" is the identity on features, (B, F, N) -> (B, N, F), so f is linear in the input."""

    def __init__(self, weights: torch.Tensor, c: float = -3.0) -> None:
        super().__init__(slice(0, 1), slice(0, 1), n_bins=weights.shape[0], n_inputs=weights.shape[1])
        self.w, self.c = weights, c  # (F, N)

    def encode(self, features: torch.Tensor) -> torch.Tensor:
        return features.transpose(1, 2)  # (B, N, F)

    def f(self, states: torch.Tensor) -> torch.Tensor:
        return (states * self.w.T[None]).sum((1, 2)) + self.c  # (B,)

    def decode(self, tokens, states, attention=False, token_mask=None):  # type: ignore[no-untyped-def]
        f = self.f(states).expand(tokens.shape[0])  # (B,), kept < 0 by the test
        rest = torch.log1p(-torch.exp(f))
        logits = torch.stack([rest, torch.full_like(f, -1e4), f], dim=-1)  # (B, V): target id 2 gets f
        return DecoderOutput(logits[:, None, :].expand(-1, tokens.shape[1], -1).clone())

    def n_encoder_frames(self, n_frames: int) -> int:
        return n_frames


def toy_context(model, features: torch.Tensor, n_speech: int) -> Context:
    transcript = make_transcript(model, model.encode(features[None]), DecodingOptions(), text="word word")
    return Context(model, features, n_speech, model.encode(features[None]), transcript,
                   silenced_features(features, n_speech))


def test_gradient_times_input_is_each_inputs_contribution_on_a_linear_model():
    rng = np.random.default_rng(0)
    w = torch.from_numpy(rng.normal(scale=0.01, size=(4, 30)).astype(np.float32))
    x = torch.from_numpy(rng.normal(size=(4, 30)).astype(np.float32))
    x[:, 20:] = -2.0  # padding after T = 20 speech frames
    model = LinearToy(w)
    ctx = toy_context(model, x, 20)
    attribution = EXPLAINERS.get("grad-input")("grad-input").compute(ctx, RAW, Passes())  # (I, T, F)
    base = ctx.baseline
    for i in (0, 1):  # the two "word" tokens have log P = f (the end-of-text row is log(1 - e^f))
        for t, f in [(0, 0), (5, 3), (19, 2)]:
            changed = x.clone()
            changed[f, t] = base[f, t]
            contribution = model.f(model.encode(x[None])) - model.f(model.encode(changed[None]))
            assert attribution[i, t, f] == pytest.approx(float(contribution), rel=1e-4, abs=1e-7)
    # on a linear model Integrated Gradients is exact too, and sums to f(x) - f(b)
    passes = Passes()
    ig = EXPLAINERS.get("integrated-gradients")("integrated-gradients").compute(
        ctx, MethodOptions(ig_steps=3, absolute=False), passes)
    np.testing.assert_allclose(ig[:2], attribution[:2], rtol=1e-4, atol=1e-7)
    gap = float(model.f(model.encode(x[None])) - model.f(model.encode(base[None])))
    assert ig[0].sum() == pytest.approx(gap, rel=1e-4)
    assert passes.forward == passes.backward == 3  # 3 steps, the three tokens in one batch


@pytest.mark.parametrize("steps,tolerance", [(12, 0.02)])
def test_integrated_gradients_sum_to_the_log_prob_gap_on_a_whisper(steps, tolerance):
    """Completeness on a tiny random Whisper: sum over (T, F) of token i's attributions equals
    log P_i(x) - log P_i(baseline) within ``tolerance`` of the gap's scale (midpoint rule)."""
    model = make_tiny_whisper()
    audio = speechlike(0.5)
    out = explain_methods(model, audio, ["integrated-gradients"], text="hello world",
                          options=MethodOptions(ig_steps=steps, absolute=False))["integrated-gradients"]
    from s2t_explain.pipeline import prepare

    prepared = prepare(model, audio)
    transcript = make_transcript(model, prepared.states, DecodingOptions(), text="hello world")
    base = silenced_features(prepared.features.values, prepared.features.n_frames)

    def logp(features: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            logits = model.decode(torch.tensor([transcript.ids[:-1]]), model.encode(features[None])).logits[0]
        return logits.log_softmax(-1)[torch.arange(logits.shape[0]), torch.tensor(transcript.ids[1:])].numpy()

    gap = logp(prepared.features.values) - logp(base)  # (I,)
    sums = out.values.sum((1, 2))
    assert np.abs(gap).max() > 1e-3  # the test has something to check
    np.testing.assert_allclose(sums, gap, atol=tolerance * np.abs(gap).max())


def test_norm_weighted_attention_by_hand(tiny_whisper):
    audio = speechlike(0.6)
    out = explain_methods(tiny_whisper, audio, ["attention", "attention-norm"], text="hello")
    raw, normed = out["attention"].values, out["attention-norm"].values  # (L, H, I, T')
    from s2t_explain.pipeline import prepare

    states = prepare(tiny_whisper, audio).states  # (1, S, D)
    n_enc = raw.shape[-1]
    for layer, module in enumerate(tiny_whisper.net.cross_attention_modules()):
        d = module.out.weight.shape[0]
        dh = d // module.n_head
        values = (states[0] @ module.value.weight.T + module.value.bias).detach()  # (S, D): W_V h + b_V
        for head in range(module.n_head):
            v = values[:n_enc, head * dh:(head + 1) * dh]  # (T', D/H)
            w_o = module.out.weight[:, head * dh:(head + 1) * dh].detach()  # (D, D/H)
            norms = torch.linalg.vector_norm(v @ w_o.T, dim=-1).numpy()  # (T',)
            np.testing.assert_allclose(normed[layer, head], raw[layer, head] * norms[None], rtol=2e-4, atol=1e-7)
    assert out["attention-norm"].cost.forward == 1 and out["attention"].cost.backward == 0


@pytest.mark.parametrize("method", ["attention-grad", "grad-input", "grad-encoder"])  # IG shares grad-input's code
def test_batching_over_tokens_does_not_change_gradient_maps(tiny_whisper, method):
    audio = speechlike(0.5)
    maps = [explain_methods(tiny_whisper, audio, [method], text="one two three four",
                            options=MethodOptions(token_batch=b, ig_steps=2))[method] for b in (1, 3, 16)]
    for other in maps[1:]:
        np.testing.assert_allclose(other.values, maps[0].values, rtol=1e-4, atol=1e-6 * np.abs(maps[0].values).max())
    n_tok = maps[0].values.shape[2 if method == "attention-grad" else 0]
    assert [m.cost.backward for m in maps] == [-(-n_tok // b) for b in (1, 3, 16)]


def test_every_method_gives_its_grain_and_shape(tiny_whisper):
    out = explain_methods(tiny_whisper, speechlike(0.5), list_methods(), text="one two",
                          options=MethodOptions(ig_steps=2))
    L, H = tiny_whisper.n_layers, tiny_whisper.n_heads
    n_tok = len(out["attention"].values[0, 0])
    t_enc = out["attention"].values.shape[-1]
    for name, result in out.items():
        assert result.grain == KINDS[name].grain and result.label == KINDS[name].label, name
        if result.grain == "per-head":
            assert result.values.shape == (L, H, n_tok, t_enc) and name.startswith("attention"), name
        elif result.grain == "encoder":
            assert result.values.shape == (n_tok, t_enc), name
        else:  # (I, T, F): T feature frames cover the T' encoder frames (stride 2)
            assert result.values.shape[0] == n_tok and result.values.shape[2] == 80, name
            assert -(-result.values.shape[1] // 2) == t_enc, name
        assert np.isfinite(result.values).all() and result.cost.seconds > 0, name
        if name != "attention" and name != "attention-norm":
            assert result.cost.backward >= 1 and (result.values >= 0).all(), name  # absolute by default


def test_bad_method_options_say_so(tiny_whisper):
    with pytest.raises(OptionError, match="unknown explanation map 'smoothgrad'"):
        explain_methods(tiny_whisper, speechlike(0.3), ["smoothgrad"])
    with pytest.raises(OptionError, match="ig_steps"):
        MethodOptions(ig_steps=0)
    with pytest.raises(OptionError, match="no explanation method"):
        explain_methods(tiny_whisper, speechlike(0.3), [])
    toy = ToyModel(slice(0, 1), slice(0, 1))
    with pytest.raises(OptionError, match="does not expose its cross-attention projections"):
        toy.cross_value_norms(torch.zeros(1, 4, 8))


def test_method_maps_are_stored_with_the_result_and_time_words(tiny_whisper, tmp_path):
    from s2t_explain import explain_attention, word_timestamps
    from s2t_explain.methods import add_methods
    from s2t_explain.pipeline import prepare
    from s2t_explain.results import Explanation

    audio = speechlike(0.6)
    result = explain_attention(tiny_whisper, audio, text="hello there")
    runs = add_methods(result, tiny_whisper, prepare(tiny_whisper, audio), ["attention-norm", "grad-encoder"])
    loaded = Explanation.load(result.save(tmp_path / "r.npz"))
    assert set(loaded.maps) == {"attention", "attention-norm", "grad-encoder"}
    np.testing.assert_array_equal(loaded["grad-encoder"].values, runs["grad-encoder"].values)
    assert loaded["grad-encoder"].cost.backward == runs["grad-encoder"].cost.backward > 0
    np.testing.assert_allclose(loaded.map_over_frames("attention-norm"), runs["attention-norm"].values.mean((0, 1)),
                               rtol=1e-5)
    words = word_timestamps(loaded, "grad-encoder")
    assert [w.word.strip() for w in words] == ["hello", "there"]
    assert [(w.start, w.end) for w in word_timestamps(loaded, "method:grad-encoder")] == \
           [(w.start, w.end) for w in words]  # the format-1 name is understood
    with pytest.raises(OptionError, match="no grad-input map .it has attention, attention-norm, grad-encoder"):
        word_timestamps(loaded, "grad-input")
