"""Captured cross-attention equals softmax(Q K^T / sqrt(d_k)) computed by hand from the weights."""

import numpy as np
import pytest
import torch

from helpers import speechlike
from s2t_explain.attention import cross_attention
from s2t_explain.pipeline import prepare


def hand_cross_attention(model, states: torch.Tensor, tokens: torch.Tensor) -> np.ndarray:
    """(L, H, I, S) from each layer's cross-attention input, recorded with forward hooks."""
    inputs = []
    modules = model.net.cross_attention_modules()
    hooks = [m.register_forward_hook(lambda mod, args, kw, out: inputs.append(args[0]), with_kwargs=True)
             for m in modules]
    try:
        with torch.no_grad():
            model.net.decoder(tokens, states)
    finally:
        for h in hooks:
            h.remove()
    out = []
    for m, x in zip(modules, inputs):
        n_head = m.n_head
        q = x[0] @ m.query.weight.T + m.query.bias  # (I, D)
        k = states[0] @ m.key.weight.T  # (S, D): Whisper keys have no bias
        d_k = q.shape[-1] // n_head
        qh = q.view(q.shape[0], n_head, d_k).transpose(0, 1)  # (H, I, d_k)
        kh = k.view(k.shape[0], n_head, d_k).transpose(0, 1)  # (H, S, d_k)
        out.append(torch.softmax(qh @ kh.transpose(1, 2) / np.sqrt(d_k), dim=-1))
    return torch.stack(out).numpy()


def test_equals_hand_computation(tiny_whisper):
    prepared = prepare(tiny_whisper, speechlike(1.3))
    ids = tiny_whisper.prompt() + tiny_whisper.encode_text(" hello world") + [tiny_whisper.eot]
    n_enc = tiny_whisper.n_encoder_frames(prepared.features.n_frames)
    captured = cross_attention(tiny_whisper, prepared.states, ids, n_enc)
    hand = hand_cross_attention(tiny_whisper, prepared.states, torch.tensor([ids[:-1]]))
    L, H = tiny_whisper.n_layers, tiny_whisper.n_heads
    assert captured.shape == (L, H, len(ids) - 1, n_enc) == (L, H, len(ids) - 1, 65)
    np.testing.assert_allclose(captured, hand[..., :n_enc], atol=1e-6)
    full = hand.sum(-1)
    np.testing.assert_allclose(full, 1.0, atol=1e-5)  # uncropped rows are distributions
    assert np.all(captured.sum(-1) <= 1.0 + 1e-5)


def test_capture_does_not_change_logits_and_restores_fast_path(tiny_whisper):
    prepared = prepare(tiny_whisper, speechlike(1.0))
    tokens = torch.tensor([tiny_whisper.prompt() + tiny_whisper.encode_text(" a test")])
    plain = tiny_whisper.decode(tokens, prepared.states).logits
    out = tiny_whisper.decode(tokens, prepared.states, attention=True)
    torch.testing.assert_close(out.logits, plain, atol=1e-5, rtol=1e-5)
    assert out.cross_attention.shape == (1, 3, 4, tokens.shape[1], 1500)
    assert all(not m.capture and m.last_weights is None for m in tiny_whisper.net.cross_attention_modules())


def test_capture_restores_after_an_error(tiny_whisper, monkeypatch):
    prepared = prepare(tiny_whisper, speechlike(1.0))
    tokens = torch.tensor([tiny_whisper.prompt()])
    block = tiny_whisper.net.decoder.blocks[1]

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(block.mlp_out, "forward", boom)
    with pytest.raises(RuntimeError, match="boom"):
        tiny_whisper.decode(tokens, prepared.states, attention=True)
    assert all(not m.capture and m.last_weights is None for m in tiny_whisper.net.cross_attention_modules())


def test_batched_states_shared_across_sequences(tiny_whisper):
    prepared = prepare(tiny_whisper, speechlike(1.0))
    seq = tiny_whisper.prompt() + tiny_whisper.encode_text(" one two")
    tokens = torch.tensor([seq, seq])
    out = tiny_whisper.decode(tokens, prepared.states, attention=True)
    torch.testing.assert_close(out.cross_attention[0], out.cross_attention[1])
