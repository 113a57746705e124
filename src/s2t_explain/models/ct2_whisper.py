"""Exact conversion of a CTranslate2 (faster-whisper) Whisper ``model.bin`` to :class:`WhisperNet`.

Stored float16 weights are upcast to float32; the output projection is tied to the token
embedding (an alias in the file); fused q|k|v (self-attention) and k|v (cross-attention)
matrices are split; Whisper's key projection has no bias (the k slice of a fused bias is zero
and is checked to be so).
The inverse mapping (WhisperNet -> CT2 variables), used only to write tiny test models, lives in
the tests (``tests/ct2_writer.py``).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ModelError
from .ct2_format import CT2Model
from .whisper_net import MultiHeadAttention, ResidualBlock, WhisperDims, WhisperNet


def _count_layers(ct2: CT2Model, prefix: str) -> int:
    n = 0
    while f"{prefix}/layer_{n}/ffn/linear_0/weight" in ct2:
        n += 1
    return n


def dims_from_ct2(ct2: CT2Model) -> WhisperDims:
    if not ct2.spec.startswith("Whisper"):
        raise ModelError(f"model.bin holds a {ct2.spec}, not a Whisper model")
    conv1 = ct2.get("encoder/conv1/weight")  # (D, F, 3)
    return WhisperDims(
        n_mels=int(conv1.shape[1]),
        n_audio_ctx=int(ct2.get("encoder/position_encodings/encodings").shape[0]),
        n_audio_layer=_count_layers(ct2, "encoder"),
        n_text_ctx=int(ct2.get("decoder/position_encodings/encodings").shape[0]),
        n_text_layer=_count_layers(ct2, "decoder"),
        n_state=int(conv1.shape[0]),
        n_head=int(ct2.get("encoder/num_heads")),
        n_vocab=int(ct2.get("decoder/embeddings/weight").shape[0]),
    )


def _copy(param: torch.Tensor, value: np.ndarray, name: str) -> None:
    if value.dtype.kind != "f":  # int8/int16 quantized weights would be copied as raw integers
        raise ModelError(
            f"model.bin stores {name} as {value.dtype} (a quantized model); "
            "convert the model again with --quantization float16 or float32"
        )
    if tuple(param.shape) != value.shape:
        raise ModelError(f"model.bin variable {name} has shape {value.shape}, expected {tuple(param.shape)}")
    with torch.no_grad():
        param.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def _load_linear(linear: torch.nn.Linear, ct2: CT2Model, name: str, rows: slice | None = None) -> None:
    w = ct2.get(f"{name}/weight")
    b = ct2.get(f"{name}/bias") if f"{name}/bias" in ct2 else None
    rows = rows or slice(None)
    _copy(linear.weight, w[rows], f"{name}/weight")
    if linear.bias is not None:
        if b is None:
            raise ModelError(f"model.bin lacks {name}/bias")
        _copy(linear.bias, b[rows], f"{name}/bias")
    elif b is not None and np.any(b[rows] != 0):
        raise ModelError(f"{name}: expected a zero key bias, found non-zero values")


def _load_norm(norm: torch.nn.LayerNorm, ct2: CT2Model, name: str) -> None:
    _copy(norm.weight, ct2.get(f"{name}/gamma"), f"{name}/gamma")
    _copy(norm.bias, ct2.get(f"{name}/beta"), f"{name}/beta")


def _load_attention(attn: MultiHeadAttention, ct2: CT2Model, name: str, cross: bool, d: int) -> None:
    if cross:  # linear_0 = q, linear_1 = k|v, linear_2 = out
        _load_linear(attn.query, ct2, f"{name}/linear_0")
        _load_linear(attn.key, ct2, f"{name}/linear_1", slice(0, d))
        _load_linear(attn.value, ct2, f"{name}/linear_1", slice(d, 2 * d))
        _load_linear(attn.out, ct2, f"{name}/linear_2")
    else:  # linear_0 = q|k|v, linear_1 = out
        _load_linear(attn.query, ct2, f"{name}/linear_0", slice(0, d))
        _load_linear(attn.key, ct2, f"{name}/linear_0", slice(d, 2 * d))
        _load_linear(attn.value, ct2, f"{name}/linear_0", slice(2 * d, 3 * d))
        _load_linear(attn.out, ct2, f"{name}/linear_1")


def _load_block(block: ResidualBlock, ct2: CT2Model, name: str, d: int) -> None:
    _load_norm(block.attn_ln, ct2, f"{name}/self_attention/layer_norm")
    _load_attention(block.attn, ct2, f"{name}/self_attention", cross=False, d=d)
    if block.cross_attn is not None and block.cross_attn_ln is not None:
        _load_norm(block.cross_attn_ln, ct2, f"{name}/attention/layer_norm")
        _load_attention(block.cross_attn, ct2, f"{name}/attention", cross=True, d=d)
    _load_norm(block.mlp_ln, ct2, f"{name}/ffn/layer_norm")
    _load_linear(block.mlp_in, ct2, f"{name}/ffn/linear_0")
    _load_linear(block.mlp_out, ct2, f"{name}/ffn/linear_1")


def whisper_from_ct2(ct2: CT2Model) -> WhisperNet:
    """Build a float32 :class:`WhisperNet` holding exactly the weights of ``ct2``."""
    if any(name.endswith("weight_scale") for name in ct2.variables):
        raise ModelError("quantized CTranslate2 models are not supported; convert again with --quantization float16")
    dims = dims_from_ct2(ct2)
    net = WhisperNet(dims)
    d = dims.n_state
    enc, dec = net.encoder, net.decoder
    for conv in ("conv1", "conv2"):
        _copy(getattr(enc, conv).weight, ct2.get(f"encoder/{conv}/weight"), f"encoder/{conv}/weight")
        _copy(getattr(enc, conv).bias, ct2.get(f"encoder/{conv}/bias"), f"encoder/{conv}/bias")
    _copy(enc.positional_embedding, ct2.get("encoder/position_encodings/encodings"), "encoder positions")
    for i, block in enumerate(enc.blocks):
        _load_block(block, ct2, f"encoder/layer_{i}", d)
    _load_norm(enc.ln_post, ct2, "encoder/layer_norm")
    _copy(dec.token_embedding.weight, ct2.get("decoder/embeddings/weight"), "decoder/embeddings/weight")
    _copy(dec.positional_embedding, ct2.get("decoder/position_encodings/encodings"), "decoder positions")
    for i, block in enumerate(dec.blocks):
        _load_block(block, ct2, f"decoder/layer_{i}", d)
    _load_norm(dec.ln, ct2, "decoder/layer_norm")
    if "decoder/projection/weight" in ct2:
        proj = ct2.get("decoder/projection/weight")
        if not np.array_equal(proj, ct2.get("decoder/embeddings/weight")):
            raise ModelError("untied output projection is not supported for Whisper models")
    return net.eval()

