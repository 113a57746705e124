"""Gradient saliency of token i's log-probability log P_i(y_i), per token, batched over tokens.

Input methods map the T speech frames x F mel bins, (I, T, F); the baseline is SPES's ``silence``
(the padding frames' value), so attributions are relative to "nothing said here":
- ``grad-input``: g(x) * (x - b), gradient times the input's difference from the baseline (for a
  linear model, exactly each entry's contribution f(x) - f(x with that entry at the baseline));
- ``integrated-gradients``: (x - b) * mean over m midpoints a_k = (k - 1/2)/m of g(b + a_k (x - b))
  (Sundararajan et al., 2017); the attributions of a token sum to about f(x) - f(b), closer as
  ``ig_steps`` grows (the study records that gap).
Encoder-state method, the cheap counterpart of SM_H, (I, T'):
- ``grad-encoder``: sum over D of g(H) * (H - H_b), H_b the encoder states of the silenced input
  (SM_H's ``silence`` baseline); decoder passes only.
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


def _input_gradients(ctx: Context, inputs: torch.Tensor, chunk: np.ndarray) -> torch.Tensor:
    """Gradient of each chunk token's log-prob w.r.t. its own copy of ``inputs`` (B, F, N) -> (B, F, N)."""
    with gradients():
        x = inputs.detach().clone().requires_grad_(True)
        states = ctx.model.encode(x)
        logits = ctx.model.decode(ctx.tokens.expand(len(chunk), -1), states).logits
        objective = token_logprobs(logits, ctx.targets, chunk).sum()
        (grad,) = torch.autograd.grad(objective, x)
    return grad.float()


def _per_token(ctx: Context, options: MethodOptions, cost: Passes, alphas: np.ndarray) -> np.ndarray:
    """(I, T, F): (x - b) times the mean gradient at b + a (x - b) over ``alphas``."""
    x = ctx.features.to(ctx.model.device, ctx.model.dtype)
    base = ctx.baseline.to(ctx.model.device, ctx.model.dtype)
    out = []
    for chunk in token_chunks(ctx.tokens.shape[1], options.token_batch):
        total = torch.zeros((len(chunk), *x.shape), device=x.device)
        for a in alphas:
            point = (base + float(a) * (x - base)).expand(len(chunk), -1, -1)
            total += _input_gradients(ctx, point, chunk)
            cost.forward += 1
            cost.backward += 1
        attribution = total / len(alphas) * (x - base).float()  # (B, F, N)
        out.append(attribution[:, :, : ctx.n_frames].transpose(1, 2))  # (B, T, F)
    return finish(torch.cat(out).cpu().numpy(), options)


@EXPLAINERS.register("grad-input")
class GradientTimesInput(ExplanationMethod):
    def compute(self, ctx: Context, options: MethodOptions, cost: Passes) -> np.ndarray:
        return _per_token(ctx, options, cost, np.array([1.0]))


@EXPLAINERS.register("integrated-gradients")
class IntegratedGradients(ExplanationMethod):
    def compute(self, ctx: Context, options: MethodOptions, cost: Passes) -> np.ndarray:
        m = options.ig_steps
        return _per_token(ctx, options, cost, (np.arange(m) + 0.5) / m)


@EXPLAINERS.register("grad-encoder")
class EncoderGradient(ExplanationMethod):
    def compute(self, ctx: Context, options: MethodOptions, cost: Passes) -> np.ndarray:
        with torch.no_grad():
            base = ctx.model.encode(ctx.baseline[None])  # (1, S, D): SM_H's silence baseline
        cost.forward += 1
        out = []
        for chunk in token_chunks(ctx.tokens.shape[1], options.token_batch):
            with gradients():
                h = ctx.states.detach().expand(len(chunk), -1, -1).clone().requires_grad_(True)
                logits = ctx.model.decode(ctx.tokens.expand(len(chunk), -1), h).logits
                (grad,) = torch.autograd.grad(token_logprobs(logits, ctx.targets, chunk).sum(), h)
            cost.forward += 1
            cost.backward += 1
            out.append((grad.float() * (ctx.states - base).float()).sum(-1)[:, : ctx.n_enc])  # (B, T')
        return finish(torch.cat(out).cpu().numpy(), options)
