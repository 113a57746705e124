"""Adapter for Whisper models held in our own :class:`WhisperNet` (bundled and CT2 folders)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from ..errors import ModelError
from ..features import Features, log_mel_spectrogram
from ..timebase import CHUNK_SECONDS, WHISPER_ENCODER_STRIDE
from .base import DecoderOutput, DecoderSession, MaskedStateDecoder, SpeechToTextModel
from .config import read_config
from .ct2_format import model_bin_parts, read_model_bin
from .ct2_whisper import whisper_from_ct2
from .tokenizer import MULTILINGUAL_VOCAB, WhisperTokenizer
from .whisper_net import WhisperNet


class WhisperAdapter(SpeechToTextModel):
    encoder_stride = WHISPER_ENCODER_STRIDE
    max_seconds = float(CHUNK_SECONDS)
    tok: WhisperTokenizer

    def __init__(
        self,
        net: WhisperNet,
        tokenizer: WhisperTokenizer,
        name: str = "whisper",
        alignment_heads: list[tuple[int, int]] | None = None,
        suppress_ids: list[int] | None = None,
        suppress_ids_begin: list[int] | None = None,
    ) -> None:
        self.net = net.eval().requires_grad_(False)  # inference only: no autograd graphs
        self.tok = tokenizer
        self.name = name
        self.n_layers = net.dims.n_text_layer
        self.n_heads = net.dims.n_head
        self.n_mels = net.dims.n_mels
        self.max_text_tokens = net.dims.n_text_ctx
        self.multilingual = tokenizer.multilingual
        self.alignment_heads = alignment_heads
        self._suppress = list(suppress_ids or [])
        self._suppress_begin = list(suppress_ids_begin or [tokenizer.eot])
        param = next(net.parameters())
        self.device, self.dtype = param.device, param.dtype

    @classmethod
    def from_ct2_folder(
        cls, folder: Path, name: str | None = None, extra_parts: list[Path] | None = None
    ) -> WhisperAdapter:
        """Load a CTranslate2 / faster-whisper Whisper folder (model.bin or model.bin.partN)."""
        parts = model_bin_parts(folder) + list(extra_parts or [])
        if not parts:
            raise ModelError(f"{folder} has no model.bin (or model.bin.partN files); not a CTranslate2 model folder")
        config = read_config(folder) or {}
        net = whisper_from_ct2(read_model_bin(parts))
        tokenizer = WhisperTokenizer.from_file(
            folder / "tokenizer.json", multilingual=net.dims.n_vocab >= MULTILINGUAL_VOCAB
        )
        heads = _alignment_heads(config.get("alignment_heads"), net.dims.n_text_layer, net.dims.n_head, folder)
        return cls(
            net,
            tokenizer,
            name=name or folder.name,
            alignment_heads=heads,
            suppress_ids=config.get("suppress_ids"),
            suppress_ids_begin=config.get("suppress_ids_begin"),
        )

    def to(self, device: str | torch.device | None = None, dtype: torch.dtype | None = None) -> WhisperAdapter:
        self.net.to(device=device, dtype=dtype)
        param = next(self.net.parameters())
        self.device, self.dtype = param.device, param.dtype
        return self

    def compiled(self) -> WhisperAdapter:
        """A twin sharing this model's weights whose encoder and decoder run through ``torch.compile``
        (compiled on first use, again for a new batch shape). The original stays eager: the clean
        pass and the cross-attention capture never run compiled."""
        net = copy.copy(self.net)
        net._modules = dict(self.net._modules)  # its own module table: the original keeps its eager modules
        net.encoder = torch.compile(self.net.encoder)  # type: ignore[assignment]
        net.decoder = torch.compile(self.net.decoder)  # type: ignore[assignment]  # attributes pass through
        twin = copy.copy(self)
        twin.net = net
        return twin

    # --- features and encoder -------------------------------------------------------------
    def features(self, audio: np.ndarray) -> Features:
        return log_mel_spectrogram(audio, self.n_mels)

    def encode(self, features: torch.Tensor) -> torch.Tensor:
        return self.net.encoder(features.to(self.device, self.dtype))

    # --- decoder ---------------------------------------------------------------------------
    @contextmanager
    def capturing(self) -> Iterator[None]:
        """Explicit (weight-returning) cross-attention while inside; the fast kernel after."""
        modules = self.net.cross_attention_modules()
        try:
            for m in modules:
                m.capture = True
            yield
        finally:
            for m in modules:
                m.capture = False
                m.last_weights = None

    def decode(
        self,
        tokens: torch.Tensor,
        states: torch.Tensor,
        attention: bool = False,
        token_mask: torch.Tensor | None = None,
    ) -> DecoderOutput:
        tokens = tokens.to(self.device)
        if not attention:
            return DecoderOutput(self.net.decoder(tokens, states, token_mask=token_mask))
        with self.capturing():
            logits = self.net.decoder(tokens, states, token_mask=token_mask)
            weights = [m.last_weights for m in self.net.cross_attention_modules() if m.last_weights is not None]
            stacked = torch.stack(weights, dim=1)  # (B, L, H, I, S)
        return DecoderOutput(logits, stacked, weights)

    def cross_value_norms(self, states: torch.Tensor) -> torch.Tensor:
        norms = []
        for module in self.net.cross_attention_modules():
            _, v = module.project_kv(states.to(self.device, self.dtype))  # (1, H, S, D/H)
            w = module.out.weight.view(module.out.weight.shape[0], module.n_head, -1)  # (D, H, D/H)
            norms.append(torch.einsum("hsk,dhk->hsd", v[0], w).norm(dim=-1))  # (H, S)
        return torch.stack(norms)  # (L, H, S)

    def masked_state_decoder(self, states: torch.Tensor, baseline: torch.Tensor) -> MaskedStateDecoder:
        return _BlendedKV(self, states, baseline)

    @contextmanager
    def decoder_session(self, states: torch.Tensor) -> Iterator[DecoderSession]:
        yield _CachedSession(self, states)

    # --- tokens ----------------------------------------------------------------------------
    def prompt(self, task: str = "transcribe", language: str | None = None) -> list[int]:
        self.check_task(task, language)
        return self.tok.prompt(task, language, self.name)

    def suppressed_tokens(self) -> list[int]:
        return self._suppress

    def suppressed_at_begin(self) -> list[int]:
        return self._suppress_begin


def _alignment_heads(raw: object, n_layers: int, n_heads: int, folder: Path) -> list[tuple[int, int]] | None:
    """The config's alignment heads, checked against the model's shape."""
    if not raw:
        return None
    try:
        heads = [(int(l), int(h)) for l, h in raw]  # type: ignore[attr-defined]
    except (TypeError, ValueError) as e:
        raise ModelError(f"{folder}/config.json has malformed alignment_heads: {e}") from e
    if any(not (0 <= l < n_layers and 0 <= h < n_heads) for l, h in heads):
        raise ModelError(f"{folder}/config.json names alignment heads outside the model's {n_layers}x{n_heads}")
    return heads


class _BlendedKV(MaskedStateDecoder):
    """Cross-attention keys/values are per-frame linear maps of the states, so for a frame mask
    they are a blend of the keys/values of the states and of the baseline: no projection per mask."""

    def __init__(self, model: WhisperAdapter, states: torch.Tensor, baseline: torch.Tensor) -> None:
        super().__init__(model, states, baseline)
        self.net = model.net
        with torch.no_grad():
            self.kv_states = self.net.decoder.cross_kv(states)  # L x ((1, H, S, D/H), same)
            self.kv_base = self.net.decoder.cross_kv(baseline)

    def logits(self, tokens: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        m = frame_mask[:, None, :, None]  # (B, 1, S, 1)
        kv = [
            (torch.where(m, kb, ks), torch.where(m, vb, vs))
            for (ks, vs), (kb, vb) in zip(self.kv_states, self.kv_base)
        ]
        return self.net.decoder(tokens, kv=kv)


class _CachedSession(DecoderSession):
    """Computes the cross-attention keys/values of the encoder states once."""

    def __init__(self, model: WhisperAdapter, states: torch.Tensor) -> None:
        super().__init__(model, states)
        self.net = model.net
        self.kv = self.net.decoder.cross_kv(states)

    def logits(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.net.decoder(tokens.to(self.states.device), kv=self.kv)
