"""Explanation methods beyond SPES: one interface, one registry.

Every method explains the same fixed token sequence as SPES (teacher-forced passes over
``transcript.ids``) and returns a map over encoder frames (``grain = "encoder"``: (I, T'), or
(L, H, I, T') when it has one map per cross-attention head) or over the input spectrogram
(``grain = "input"``: (I, T, F)), with its cost: seconds and forward/backward passes (one pass =
one batched call of the encoder and/or decoder, whatever its batch). A new method is one
registered class.

The explained quantity of gradient methods is token i's log-probability log P_i(y_i) under
teacher forcing (the same target SPES scores), so gradients of different tokens are independent:
tokens are batched by replicating the inputs ``token_batch`` times, which changes speed, not values.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch

from ..decoding.transcript import Transcript
from ..models.base import SpeechToTextModel
from .catalog import MethodOptions

GRAINS = ("encoder", "input")  # (I, T') or (L, H, I, T') over encoder frames; (I, T, F) over the input


@dataclass
class Cost:
    """What a method spent: wall time and passes (a batched call counts once)."""

    seconds: float = 0.0
    forward: int = 0
    backward: int = 0

    def to_dict(self) -> dict[str, float]:
        return {"seconds": round(self.seconds, 3), "forward": self.forward, "backward": self.backward}


@dataclass
class MethodMap:
    """One method's map and what it cost."""

    name: str
    grain: str  # see GRAINS
    values: np.ndarray  # (I, T') / (L, H, I, T') / (I, T, F), rows = the transcript's predicted tokens
    cost: Cost = field(default_factory=Cost)

    @property
    def per_head(self) -> bool:
        return self.values.ndim == 4


@dataclass
class Context:
    """One utterance, fixed: features (F, N) with T speech frames, clean encoder states (1, S, D), the
    transcript whose I predicted tokens ``ids[1:]`` are explained, and the baseline input (F, N)."""

    model: SpeechToTextModel
    features: torch.Tensor  # (F, N)
    n_frames: int  # T
    states: torch.Tensor  # (1, S, D)
    transcript: Transcript
    baseline: torch.Tensor  # (F, N): silence where the speech is (SPES's default baseline)

    @property
    def n_enc(self) -> int:
        return self.model.n_encoder_frames(self.n_frames)

    @property
    def tokens(self) -> torch.Tensor:
        return torch.tensor([self.transcript.ids[:-1]], device=self.model.device)  # (1, I)

    @property
    def targets(self) -> torch.Tensor:
        return torch.tensor(self.transcript.ids[1:], device=self.model.device)  # (I,)


class ExplanationMethod(ABC):
    """A registered method: ``compute`` returns its raw map; cost is measured around it."""

    grain: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def compute(self, ctx: Context, options: MethodOptions, cost: Cost) -> np.ndarray:
        """The map (see :class:`MethodMap`); add the passes made to ``cost``."""

    def __call__(self, name: str, ctx: Context, options: MethodOptions) -> MethodMap:
        cost = Cost()
        start = time.perf_counter()
        values = self.compute(ctx, options, cost)
        cost.seconds = time.perf_counter() - start
        return MethodMap(name, self.grain, values, cost)




def token_chunks(n: int, size: int) -> Iterator[np.ndarray]:
    """Token indices 0..n-1 in chunks of ``size`` (one batched pass each)."""
    for start in range(0, n, size):
        yield np.arange(start, min(start + size, n))


def token_logprobs(logits: torch.Tensor, targets: torch.Tensor, rows: np.ndarray) -> torch.Tensor:
    """(B,) log P of target ``targets[rows[b]]`` at position ``rows[b]`` of batch element b; logits (B, I, V)."""
    b = torch.arange(len(rows), device=logits.device)
    at = torch.as_tensor(rows, device=logits.device)
    return logits[b, at].float().log_softmax(-1)[b, targets[at]]


@contextmanager
def gradients() -> Iterator[None]:
    """Autograd on (callers may be inside ``torch.no_grad``); parameters stay frozen."""
    with torch.enable_grad():
        yield


def finish(values: np.ndarray, options: MethodOptions) -> np.ndarray:
    return np.abs(values) if options.absolute else values

