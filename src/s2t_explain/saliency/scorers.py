"""Scorers: how much a perturbation changed the prediction of every explained token.

Input: clean log-probabilities (I, V) and perturbed logits (B, I, V); output (B, I).
- ``kl`` (paper default): KL(P_clean || P_perturbed) over the whole vocabulary;
- ``prob_drop``: P_clean(y_i) - P_perturbed(y_i) for the explained token y_i.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .catalog import SCORERS, list_scorers

Scorer = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
__all__ = ["SCORERS", "Scorer", "kl_divergence", "list_scorers", "probability_drop"]


@SCORERS.register("kl")
def kl_divergence(clean_logp: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logq = logits.float().log_softmax(dim=-1)  # (B, I, V)
    # sum of p * (log p - log q) term by term: subtracting two ~10-nat sums would cancel in float32
    return (clean_logp.exp() * (clean_logp - logq)).sum(-1)  # (B, I)


@SCORERS.register("prob_drop")
def probability_drop(clean_logp: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logq = logits.float().log_softmax(dim=-1)  # (B, I, V)
    index = targets[None, :, None].expand(logq.shape[0], -1, 1)
    clean = clean_logp.gather(1, targets[:, None])[:, 0].exp()  # (I,)
    return clean[None, :] - logq.gather(2, index)[..., 0].exp()
