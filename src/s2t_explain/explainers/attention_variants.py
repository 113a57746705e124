"""Cross-attention variants, one map per (layer, head): (L, H, I, T') over the speech frames.

(The raw weights alpha[l, h, i, t], map ``attention``, are ``explainers.attention``.)
- ``attention-norm``: alpha[l, h, i, t] * ||W_O^h v_{h,t}||, the size of the vector frame t adds
  to token i's output through head h (Kobayashi et al., 2020): a frame with a large weight but a
  tiny value vector contributes little;
- ``attention-grad``: alpha[l, h, i, t] * d log P_i / d alpha[l, h, i, t], attention weighted by how
  much the explained token's log-probability responds to it (one backward pass per token batch).
"""

from __future__ import annotations

import numpy as np
import torch

from .catalog import EXPLAINERS
from .differentiable import (
    Context,
    ExplanationMethod,
    MethodOptions,
    Passes,
    finish,
    gradients,
    token_chunks,
    token_logprobs,
)


def _weights(ctx: Context, cost: Passes) -> torch.Tensor:
    """(L, H, I, T') cross-attention of the clean teacher-forced pass."""
    with torch.no_grad():
        out = ctx.model.decode(ctx.tokens, ctx.states, attention=True)
    cost.forward += 1
    assert out.cross_attention is not None
    return out.cross_attention[0, :, :, :, : ctx.n_enc].float()


@EXPLAINERS.register("attention-norm")
class NormWeightedAttention(ExplanationMethod):
    def compute(self, ctx: Context, options: MethodOptions, cost: Passes) -> np.ndarray:
        weights = _weights(ctx, cost)  # (L, H, I, T')
        with torch.no_grad():
            norms = ctx.model.cross_value_norms(ctx.states)[:, :, : ctx.n_enc].float()  # (L, H, T')
        return (weights * norms[:, :, None, :]).cpu().numpy()


@EXPLAINERS.register("attention-grad")
class GradientWeightedAttention(ExplanationMethod):
    def compute(self, ctx: Context, options: MethodOptions, cost: Passes) -> np.ndarray:
        n_tok = ctx.tokens.shape[1]
        rows = []
        for chunk in token_chunks(n_tok, options.token_batch):
            with gradients():
                states = ctx.states.detach().clone().requires_grad_(True)  # weights are frozen: a leaf for the graph
                out = ctx.model.decode(ctx.tokens.expand(len(chunk), -1), states, attention=True)
                assert out.attention_parts is not None
                objective = token_logprobs(out.logits, ctx.targets, chunk).sum()
                grads = torch.autograd.grad(objective, out.attention_parts)  # per layer (B, H, I, S)
            cost.forward += 1
            cost.backward += 1
            for k, row in enumerate(chunk):  # batch element k explains token ``row``: its own attention row only
                per_layer = [(w[k, :, row] * g[k, :, row]).detach() for w, g in zip(out.attention_parts, grads)]
                rows.append(torch.stack(per_layer)[:, :, : ctx.n_enc].float())  # (L, H, T')
        values = torch.stack(rows, dim=2)  # (L, H, I, T')
        return finish(values.cpu().numpy(), options)
