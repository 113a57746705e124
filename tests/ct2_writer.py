"""Test helper: writes tiny Whisper models in CTranslate2's ``model.bin`` layout.

The inverse of :mod:`s2t_explain.models.ct2_format` (reader) and
:func:`s2t_explain.models.ct2_whisper.whisper_from_ct2` (mapping). The package itself only reads
CT2 models; this writer exists for round-trip checks and for CTranslate2 itself to load what the
tests build.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import torch

from s2t_explain.models.ct2_format import BFLOAT16, DTYPES
from s2t_explain.models.whisper_net import ResidualBlock, WhisperNet


def write_model_bin(
    path: Path,
    variables: dict[str, np.ndarray],
    aliases: dict[str, str] | None = None,
    spec: str = "WhisperSpec",
    revision: int = 3,
) -> None:
    """Write arrays (float32/float16/int32/int8) in the ``model.bin`` v6 layout."""
    codes = {v: k for k, v in DTYPES.items() if k != BFLOAT16}

    def string(s: str) -> bytes:
        b = s.encode("utf-8") + b"\0"
        return struct.pack("<H", len(b)) + b

    out = [struct.pack("<I", 6), string(spec), struct.pack("<II", revision, len(variables))]
    for name, arr in variables.items():
        arr = np.asarray(arr, order="C")  # keeps 0-d scalars 0-d (ascontiguousarray would not)
        out += [string(name), struct.pack("<B", arr.ndim), struct.pack(f"<{arr.ndim}I", *arr.shape)]
        out += [struct.pack("<BI", codes[arr.dtype.newbyteorder("<")], arr.nbytes), arr.tobytes()]
    out.append(struct.pack("<I", len(aliases or {})))
    for alias, target in (aliases or {}).items():
        out += [string(alias), string(target)]
    path.write_bytes(b"".join(out))


def whisper_to_ct2_variables(net: WhisperNet) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Inverse of ``whisper_from_ct2`` (float32): the variables and aliases of a CT2 ``model.bin``."""
    out: dict[str, np.ndarray] = {}

    def arr(t: torch.Tensor) -> np.ndarray:
        return t.detach().float().cpu().numpy()

    def lin(name: str, *linears: torch.nn.Linear) -> None:
        out[f"{name}/weight"] = np.concatenate([arr(x.weight) for x in linears])
        out[f"{name}/bias"] = np.concatenate(
            [arr(x.bias) if x.bias is not None else np.zeros(x.out_features, np.float32) for x in linears]
        )

    def norm(name: str, m: torch.nn.LayerNorm) -> None:
        out[f"{name}/gamma"], out[f"{name}/beta"] = arr(m.weight), arr(m.bias)

    def block(name: str, b: ResidualBlock) -> None:
        norm(f"{name}/self_attention/layer_norm", b.attn_ln)
        lin(f"{name}/self_attention/linear_0", b.attn.query, b.attn.key, b.attn.value)
        lin(f"{name}/self_attention/linear_1", b.attn.out)
        if b.cross_attn is not None and b.cross_attn_ln is not None:
            norm(f"{name}/attention/layer_norm", b.cross_attn_ln)
            lin(f"{name}/attention/linear_0", b.cross_attn.query)
            lin(f"{name}/attention/linear_1", b.cross_attn.key, b.cross_attn.value)
            lin(f"{name}/attention/linear_2", b.cross_attn.out)
        norm(f"{name}/ffn/layer_norm", b.mlp_ln)
        lin(f"{name}/ffn/linear_0", b.mlp_in)
        lin(f"{name}/ffn/linear_1", b.mlp_out)

    enc, dec = net.encoder, net.decoder
    for conv in ("conv1", "conv2"):
        out[f"encoder/{conv}/weight"] = arr(getattr(enc, conv).weight)
        out[f"encoder/{conv}/bias"] = arr(getattr(enc, conv).bias)
    out["encoder/position_encodings/encodings"] = arr(enc.positional_embedding)
    out["encoder/num_heads"] = np.array(net.dims.n_head, dtype=np.int32)
    for i, b in enumerate(enc.blocks):
        block(f"encoder/layer_{i}", b)
    norm("encoder/layer_norm", enc.ln_post)
    out["decoder/embeddings/weight"] = arr(dec.token_embedding.weight)
    out["decoder/position_encodings/encodings"] = arr(dec.positional_embedding)
    out["decoder/num_heads"] = np.array(net.dims.n_head, dtype=np.int32)
    # Flags CTranslate2's Whisper decoder reads (without them it would run ReLU, not GELU).
    for flag, value in (("activation", 3), ("pre_norm", 1), ("alibi", 0), ("scale_embeddings", 0),
                        ("start_from_zero_embedding", 0)):
        out[f"decoder/{flag}"] = np.array(value, dtype=np.int8)
    for i, b in enumerate(dec.blocks):
        block(f"decoder/layer_{i}", b)
    norm("decoder/layer_norm", dec.ln)
    return out, {"decoder/projection/weight": "decoder/embeddings/weight"}
