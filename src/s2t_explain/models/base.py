"""The adapter interface: everything downstream talks to a model through this class.

An adapter wraps one encoder-decoder speech-to-text model and exposes: feature extraction,
``encode`` (features -> encoder states), a teacher-forced ``decode`` pass (token ids + encoder
states -> logits, optionally cross-attention of every layer and head), the tokenizer and prompt
tokens, alignment heads, and the time resolution of encoder frames.

Shapes: B batch, F feature bins, N input frames, S encoder positions, D width, I decoder
positions, V vocabulary, L decoder layers, H heads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from ..errors import OptionError
from ..features import Features
from ..tasks import TASKS
from ..timebase import SAMPLE_RATE, n_encoder_frames, seconds_per_encoder_frame


class Tokens(Protocol):
    """What adapters need from a tokenizer (``WhisperTokenizer`` and the HF wrapper provide it)."""

    eot: int

    def encode(self, text: str) -> list[int]: ...
    def decode(self, ids: list[int]) -> str: ...
    def token_text(self, token_id: int) -> str: ...
    def is_special(self, token_id: int) -> bool: ...


@dataclass
class DecoderOutput:
    logits: torch.Tensor  # (B, I, V)
    cross_attention: torch.Tensor | None = None  # (B, L, H, I, S) when asked for
    # the same weights as the tensors the pass used, per layer (B, H, I, S): gradients flow through them
    attention_parts: list[torch.Tensor] | None = None


class SpeechToTextModel(ABC):
    """One interface for every supported model family."""

    name: str
    sample_rate: int = SAMPLE_RATE
    encoder_stride: int  # feature frames per encoder frame (Whisper 2, Speech2Text 4)
    max_seconds: float | None  # longest input the model takes (Whisper: 30 s window)
    max_text_tokens: int = 448  # decoder context length
    n_layers: int  # decoder layers L
    n_heads: int  # cross-attention heads per layer H
    multilingual: bool
    alignment_heads: list[tuple[int, int]] | None
    device: torch.device
    dtype: torch.dtype

    def weight_bytes(self) -> int:
        """Bytes of the model's parameters and buffers (what each worker's copy of it holds)."""
        seen: set[int] = set()
        total = 0
        for value in vars(self).values():
            if isinstance(value, torch.nn.Module):
                for tensor in (*value.parameters(), *value.buffers()):
                    if id(tensor) not in seen:  # tied weights once
                        seen.add(id(tensor))
                        total += tensor.numel() * tensor.element_size()
        return total

    # --- features and encoder -------------------------------------------------------------
    @abstractmethod
    def features(self, audio: np.ndarray) -> Features:
        """Input features of 16 kHz mono audio; values (F, N) with T speech frames."""

    @abstractmethod
    def encode(self, features: torch.Tensor) -> torch.Tensor:
        """Features (B, F, N) -> encoder states (B, S, D)."""

    def n_encoder_frames(self, n_frames: int) -> int:
        """Encoder frames T' that cover ``n_frames`` feature frames."""
        return n_encoder_frames(n_frames, self.encoder_stride)

    @property
    def seconds_per_encoder_frame(self) -> float:
        return seconds_per_encoder_frame(self.encoder_stride)

    # --- decoder ---------------------------------------------------------------------------
    @abstractmethod
    def decode(
        self,
        tokens: torch.Tensor,
        states: torch.Tensor,
        attention: bool = False,
        token_mask: torch.Tensor | None = None,
    ) -> DecoderOutput:
        """Teacher-forced pass over ``tokens`` (B, I) given ``states`` (B or 1, S, D).

        ``token_mask`` (B, I) bool zeroes those input tokens' embeddings (previous-token saliency).
        """

    def cross_value_norms(self, states: torch.Tensor) -> torch.Tensor:
        """(L, H, S): norm of the vector each encoder position adds to the output through each
        cross-attention head at weight 1, ||W_O^h (W_V^h h_s + b_V^h)|| (Kobayashi et al., 2020).
        Adapters that expose their cross-attention projections override this."""
        raise OptionError(f"{type(self).__name__} does not expose its cross-attention projections "
                          "(norm-weighted attention is not available for it)")

    def compiled(self) -> SpeechToTextModel:
        """A twin of this model (same weights) whose passes run through ``torch.compile``; used for
        perturbation passes only (``SaliencyOptions.compile``). Adapters that support it override this."""
        raise OptionError(f"{type(self).__name__} cannot compile its passes; run without compile")

    def masked_state_decoder(self, states: torch.Tensor, baseline: torch.Tensor) -> MaskedStateDecoder:
        """Decoder passes in which chosen encoder frames of ``states`` are replaced by ``baseline``."""
        return MaskedStateDecoder(self, states, baseline)

    @contextmanager
    def decoder_session(self, states: torch.Tensor) -> Iterator[DecoderSession]:
        """Repeated decoder passes over the same encoder states (generation). Default: no cache."""
        yield DecoderSession(self, states)

    # --- tokens ----------------------------------------------------------------------------
    tok: Tokens  # set by each adapter

    @property
    def eot(self) -> int:
        return self.tok.eot

    @abstractmethod
    def prompt(self, task: str = "transcribe", language: str | None = None) -> list[int]:
        """Decoder prompt (start, language, task, no-timestamps tokens) for a task."""

    def encode_text(self, text: str) -> list[int]:
        return self.tok.encode(text)

    def decode_text(self, ids: list[int]) -> str:
        return self.tok.decode(ids)

    def token_text(self, token_id: int) -> str:
        return self.tok.token_text(token_id)

    def is_special(self, token_id: int) -> bool:
        return self.tok.is_special(token_id)

    def suppressed_tokens(self) -> list[int]:
        """Tokens never generated (besides special tokens other than end-of-text)."""
        return []

    def suppressed_at_begin(self) -> list[int]:
        """Tokens not allowed as the first generated token (blank, end-of-text)."""
        return [self.eot]

    @property
    def tasks(self) -> tuple[str, ...]:
        """Tasks the model was trained for (multilingual Whisper: both; others: ASR only)."""
        return TASKS if self.multilingual else ("transcribe",)

    def check_task(self, task: str, language: str | None) -> None:
        if task not in TASKS:
            raise OptionError(f"unknown task {task!r}; use one of: {', '.join(TASKS)}")
        if task not in self.tasks:
            raise OptionError(
                f"{self.name} is a single-task model ({', '.join(self.tasks)}) and cannot {task}; "
                "use a multilingual model such as whisper-base"
            )

    def detect_language(self, states: torch.Tensor) -> str | None:
        """Spoken language from encoder states (1, S, D); None where the model has no choice.

        Whisper's recipe: the most likely language token after <|startoftranscript|>.
        """
        from .tokenizer import WhisperTokenizer

        if not isinstance(self.tok, WhisperTokenizer):
            return None
        if not self.multilingual:
            return "en"
        logits = self.decode(torch.tensor([[self.tok.sot]]), states[:1]).logits[0, -1]  # (V,)
        return self.tok.language_from_logits(logits)

    @abstractmethod
    def to(self, device: str | torch.device | None = None, dtype: torch.dtype | None = None) -> SpeechToTextModel:
        """Move to ``device`` / cast to ``dtype`` in place; returns self."""


class DecoderSession:
    """Runs decoder passes against fixed encoder states; adapters may cache per-states work."""

    def __init__(self, model: SpeechToTextModel, states: torch.Tensor) -> None:
        self.model, self.states = model, states

    def logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, I) -> (B, I, V)."""
        return self.model.decode(tokens, self.states).logits


class MaskedStateDecoder:
    """Generic path: blend states per mask, then a full decoder pass. Adapters may do better."""

    def __init__(self, model: SpeechToTextModel, states: torch.Tensor, baseline: torch.Tensor) -> None:
        self.model, self.states, self.baseline = model, states, baseline  # (1, S, D) each

    def logits(self, tokens: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        """tokens (B, I), frame_mask (B, S) bool (True = replaced) -> (B, I, V)."""
        blended = torch.where(frame_mask[..., None], self.baseline, self.states)
        return self.model.decode(tokens, blended).logits
