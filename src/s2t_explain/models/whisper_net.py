"""A compact PyTorch Whisper (encoder-decoder Transformer) that loads converted CT2 weights.

Written for explanation work: attention runs through the fast fused kernel
(``scaled_dot_product_attention``) except in cross-attention modules whose ``capture`` flag is
on, which compute softmax(QK^T / sqrt(d_k)) explicitly and keep it in ``last_weights``.
Cross-attention keys/values can be precomputed once per encoder output (``cross_kv``) and reused
by many decoder passes (generation, encoder-output perturbations).

Shapes: B batch, N input frames (3000), F mel bins, S encoder positions (1500), D width,
H heads, I decoder positions, V vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class WhisperDims:
    n_mels: int = 80
    n_audio_ctx: int = 1500
    n_audio_layer: int = 4
    n_text_ctx: int = 448
    n_text_layer: int = 4
    n_state: int = 384  # D
    n_head: int = 6  # H
    n_vocab: int = 51864


class MultiHeadAttention(nn.Module):
    """Attention with Whisper's projections (no key bias)."""

    def __init__(self, n_state: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.query = nn.Linear(n_state, n_state)
        self.key = nn.Linear(n_state, n_state, bias=False)
        self.value = nn.Linear(n_state, n_state)
        self.out = nn.Linear(n_state, n_state)
        self.capture = False  # when True, keep explicit attention weights in last_weights
        self.last_weights: Tensor | None = None  # (B, H, I, S)

    def heads(self, x: Tensor) -> Tensor:
        """(B, T, D) -> (B, H, T, D/H)."""
        b, t, d = x.shape
        return x.view(b, t, self.n_head, d // self.n_head).transpose(1, 2)

    def project_kv(self, source: Tensor) -> tuple[Tensor, Tensor]:
        """Keys and values of ``source`` (B, S, D), each (B, H, S, D/H)."""
        return self.heads(self.key(source)), self.heads(self.value(source))

    def forward(
        self,
        x: Tensor,  # (B, I, D)
        source: Tensor | None = None,  # (B, S, D) for cross-attention; None = self-attention
        kv: tuple[Tensor, Tensor] | None = None,  # precomputed keys/values of source
        causal: bool = False,
    ) -> Tensor:
        q = self.heads(self.query(x))
        k, v = kv if kv is not None else self.project_kv(x if source is None else source)
        if k.shape[0] != q.shape[0]:  # one encoder output shared by a batch of sequences
            k, v = k.expand(q.shape[0], -1, -1, -1), v.expand(q.shape[0], -1, -1, -1)
        if self.capture:
            scores = (q @ k.transpose(-1, -2)) / (q.shape[-1] ** 0.5)  # (B, H, I, S)
            if causal:
                i, s = scores.shape[-2:]
                mask = torch.ones(i, s, dtype=torch.bool, device=x.device).triu(1)
                scores = scores.masked_fill(mask, float("-inf"))
            weights = scores.float().softmax(dim=-1).to(q.dtype)
            self.last_weights = weights
            o = weights @ v
        else:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        b, h, i, dh = o.shape
        return self.out(o.transpose(1, 2).reshape(b, i, h * dh))


class ResidualBlock(nn.Module):
    def __init__(self, n_state: int, n_head: int, cross: bool) -> None:
        super().__init__()
        self.attn = MultiHeadAttention(n_state, n_head)
        self.attn_ln = nn.LayerNorm(n_state)
        self.cross_attn = MultiHeadAttention(n_state, n_head) if cross else None
        self.cross_attn_ln = nn.LayerNorm(n_state) if cross else None
        self.mlp_in = nn.Linear(n_state, 4 * n_state)
        self.mlp_out = nn.Linear(4 * n_state, n_state)
        self.mlp_ln = nn.LayerNorm(n_state)

    def forward(
        self, x: Tensor, source: Tensor | None = None, kv: tuple[Tensor, Tensor] | None = None
    ) -> Tensor:
        x = x + self.attn(self.attn_ln(x), causal=self.cross_attn is not None)
        if self.cross_attn is not None and self.cross_attn_ln is not None:
            x = x + self.cross_attn(self.cross_attn_ln(x), source=source, kv=kv)
        return x + self.mlp_out(F.gelu(self.mlp_in(self.mlp_ln(x))))


class AudioEncoder(nn.Module):
    positional_embedding: Tensor  # (S, D) buffer
    blocks: list[ResidualBlock]  # an nn.ModuleList at run time

    def __init__(self, dims: WhisperDims) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(dims.n_mels, dims.n_state, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(dims.n_state, dims.n_state, kernel_size=3, stride=2, padding=1)
        self.register_buffer("positional_embedding", torch.zeros(dims.n_audio_ctx, dims.n_state))
        self.blocks = nn.ModuleList(  # type: ignore[assignment]
            ResidualBlock(dims.n_state, dims.n_head, cross=False) for _ in range(dims.n_audio_layer)
        )
        self.ln_post = nn.LayerNorm(dims.n_state)

    def forward(self, mel: Tensor) -> Tensor:
        """mel (B, F, N) -> encoder states (B, S, D), S = N / 2."""
        x = F.gelu(self.conv2(F.gelu(self.conv1(mel)))).transpose(1, 2)
        x = x + self.positional_embedding[: x.shape[1]].to(x.dtype)
        for block in self.blocks:
            x = block(x)
        return self.ln_post(x)


class TextDecoder(nn.Module):
    positional_embedding: Tensor  # (text context, D) buffer
    blocks: list[ResidualBlock]  # an nn.ModuleList at run time

    def __init__(self, dims: WhisperDims) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(dims.n_vocab, dims.n_state)
        self.register_buffer("positional_embedding", torch.zeros(dims.n_text_ctx, dims.n_state))
        self.blocks = nn.ModuleList(  # type: ignore[assignment]
            ResidualBlock(dims.n_state, dims.n_head, cross=True) for _ in range(dims.n_text_layer)
        )
        self.ln = nn.LayerNorm(dims.n_state)

    def cross_kv(self, states: Tensor) -> list[tuple[Tensor, Tensor]]:
        """Cross-attention keys/values of encoder ``states`` (B, S, D) for every layer."""
        return [b.cross_attn.project_kv(states) for b in self.blocks if b.cross_attn is not None]

    def forward(
        self,
        tokens: Tensor,  # (B, I) token ids
        states: Tensor | None = None,  # (B or 1, S, D) encoder output
        kv: list[tuple[Tensor, Tensor]] | None = None,  # from cross_kv(states)
        token_mask: Tensor | None = None,  # (B, I) bool: zero these tokens' embeddings
    ) -> Tensor:
        """Next-token logits, shape (B, I, V)."""
        if kv is None:
            if states is None:
                raise ValueError("pass encoder states or their precomputed cross_kv")
            kv = self.cross_kv(states)
        embedded = self.token_embedding(tokens)  # (B, I, D)
        if token_mask is not None:
            embedded = embedded.masked_fill(token_mask[..., None], 0.0)
        x = embedded + self.positional_embedding[: tokens.shape[1]].to(embedded.dtype)
        for block, layer_kv in zip(self.blocks, kv):
            x = block(x, kv=layer_kv)
        x = self.ln(x)
        return x @ self.token_embedding.weight.T  # tied output projection


class WhisperNet(nn.Module):
    def __init__(self, dims: WhisperDims) -> None:
        super().__init__()
        self.dims = dims
        self.encoder = AudioEncoder(dims)
        self.decoder = TextDecoder(dims)

    def cross_attention_modules(self) -> list[MultiHeadAttention]:
        """One cross-attention module per decoder layer, in layer order."""
        return [b.cross_attn for b in self.decoder.blocks if b.cross_attn is not None]
