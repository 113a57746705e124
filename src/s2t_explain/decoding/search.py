"""Greedy and beam search over a model's decoder (no timestamps).

Search only chooses the tokens; their log-probabilities are recomputed afterwards by one
teacher-forced pass (:func:`score`) so decoded and forced texts are scored the same way.
"""

from __future__ import annotations

import torch

from ..models.base import SpeechToTextModel
from .options import DecodingOptions


def _suppress_mask(model: SpeechToTextModel, vocab: int, device: torch.device) -> torch.Tensor:
    """(V,) bool: tokens never generated: the model's list and every special but end-of-text."""
    mask = torch.zeros(vocab, dtype=torch.bool, device=device)
    ids = [i for i in model.suppressed_tokens() if 0 <= i < vocab]
    mask[ids] = True
    specials = torch.tensor([model.is_special(i) for i in range(model.eot, vocab)], device=device)
    mask[model.eot :] |= specials
    mask[model.eot] = False
    return mask


def _next_logprobs(
    logits: torch.Tensor, mask: torch.Tensor, begin: list[int] | None
) -> torch.Tensor:
    """Log-softmax over allowed tokens of last-position ``logits`` (B, V)."""
    logits = logits.float().masked_fill(mask, float("-inf"))
    if begin:
        logits[:, begin] = float("-inf")
    return logits.log_softmax(dim=-1)


@torch.no_grad()
def generate(
    model: SpeechToTextModel, states: torch.Tensor, prompt: list[int], options: DecodingOptions
) -> list[int]:
    """Generated token ids (after ``prompt``, ending with end-of-text if reached)."""
    if options.beam_size == 1:
        return _greedy(model, states, prompt, options)
    return _beam(model, states, prompt, options)


def _greedy(model: SpeechToTextModel, states: torch.Tensor, prompt: list[int], options: DecodingOptions) -> list[int]:
    return greedy_batch(model, states, prompt, options)[0]


@torch.no_grad()
def greedy_batch(
    model: SpeechToTextModel, states: torch.Tensor, prompt: list[int], options: DecodingOptions
) -> list[list[int]]:
    """Greedy decoding of B inputs at once: states (B, S, D) -> B lists of generated ids.

    Each row stops at its own end-of-text; finished rows are padded with end-of-text internally
    (their later logits are ignored), so every row gets what decoding it alone would give.
    """
    b = states.shape[0]
    tokens = torch.tensor([prompt] * b, device=states.device)  # (B, t)
    out: list[list[int]] = [[] for _ in range(b)]
    done = torch.zeros(b, dtype=torch.bool, device=states.device)
    mask: torch.Tensor | None = None
    with model.decoder_session(states) as session:
        for step in range(options.max_new_tokens):
            logits = session.logits(tokens)[:, -1]  # (B, V)
            if mask is None:
                mask = _suppress_mask(model, logits.shape[-1], logits.device)
            begin = model.suppressed_at_begin() if step == 0 and options.suppress_blank else None
            picked = _next_logprobs(logits, mask, begin).argmax(dim=-1)  # (B,)
            picked = torch.where(done, torch.full_like(picked, model.eot), picked)
            for row in torch.nonzero(~done).flatten().tolist():
                out[row].append(int(picked[row]))
            done |= picked == model.eot
            if bool(done.all()):
                break
            tokens = torch.cat([tokens, picked[:, None]], dim=1)
    return out


def _beam(model: SpeechToTextModel, states: torch.Tensor, prompt: list[int], options: DecodingOptions) -> list[int]:
    k = options.beam_size
    beams: list[tuple[list[int], float]] = [([], 0.0)]  # (generated ids, sum log-prob)
    finished: list[tuple[list[int], float]] = []
    mask: torch.Tensor | None = None
    with model.decoder_session(states) as session:
        for step in range(options.max_new_tokens):
            tokens = torch.tensor([prompt + ids for ids, _ in beams], device=states.device)
            logits = session.logits(tokens)[:, -1]  # (beams, V)
            if mask is None:
                mask = _suppress_mask(model, logits.shape[-1], logits.device)
            begin = model.suppressed_at_begin() if step == 0 and options.suppress_blank else None
            logprobs = _next_logprobs(logits, mask, begin)
            totals = logprobs + torch.tensor([s for _, s in beams], device=logits.device)[:, None]
            top = totals.flatten().topk(min(2 * k, totals.numel()))  # enough candidates to keep k live beams
            candidates = []
            for value, index in zip(top.values.tolist(), top.indices.tolist()):
                beam, token = divmod(index, logprobs.shape[-1])
                candidates.append((beams[beam][0] + [token], value))
            beams = []
            for rank, (ids, score) in enumerate(candidates):
                if ids[-1] != model.eot:
                    if len(beams) < k:
                        beams.append((ids, score))
                elif rank < k:  # an ending counts only if it is among the k best continuations
                    finished.append((ids, score))
            if len(finished) >= k or not beams:
                break
    pool = finished or beams

    def normalised(item: tuple[list[int], float]) -> float:
        return item[1] / (len(item[0]) ** options.length_penalty)

    return max(pool, key=normalised)[0]
