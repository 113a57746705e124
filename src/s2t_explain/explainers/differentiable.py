"""Explanation methods beyond SPES: one interface, one registry.

Every method explains the same fixed token sequence as SPES (teacher-forced passes over
``transcript.ids``) and returns a map of the grain its ``explainers.catalog`` entry declares:
(I, T') over encoder frames, (L, H, I, T') with one map per cross-attention head, or (I, T, F)
over the input spectrogram, with its cost: seconds and forward/backward passes (one pass = one
batched call of the encoder and/or decoder, whatever its batch). A new method is one registered
class (``EXPLAINERS.register(name)``) plus its catalogue entry.

The explained quantity of gradient methods is token i's log-probability log P_i(y_i) under
teacher forcing (the same target SPES scores), so gradients of different tokens are independent:
tokens are batched by replicating the inputs ``token_batch`` times, which changes speed, not values.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..decoding.transcript import Transcript
from ..models.base import SpeechToTextModel
from ..results.maps import Cost, Map
from .base import Explainer, Session
from .catalog import KINDS
from .options import MethodOptions


@dataclass
class Passes:
    """Model passes a method makes, counted as it goes (one batched call counts once)."""

    forward: int = 0
    backward: int = 0


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


class ExplanationMethod(Explainer):
    """A method on the session's :class:`Context`: ``compute`` returns its raw map (the grain of its
    catalogue entry); time is measured around it and the passes it counts become the map's cost."""

    @abstractmethod
    def compute(self, ctx: Context, options: MethodOptions, cost: Passes) -> np.ndarray:
        """The map; add the passes made to ``cost``."""

    def explain(self, session: Session) -> Map:
        passes = Passes()
        start = time.perf_counter()
        values = self.compute(session.context(), session.methods, passes)
        cost = Cost(time.perf_counter() - start, passes.forward, passes.backward)
        units = KINDS[self.name].units
        if not session.methods.absolute:  # signed attributions
            units = units.strip("|")
        return self.new_map(values, cost, options=asdict(session.methods), units=units)


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
