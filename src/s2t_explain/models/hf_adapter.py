"""Adapter for Hugging Face transformers speech-to-text models (Whisper, Speech2Text).

The model, feature extractor and tokenizer are passed in already built, so tests can use tiny
random models; :meth:`HFAdapter.from_pretrained` loads them from a local folder or a hub id.

Per family:
- Whisper: features are our own :func:`log_mel_spectrogram` (identical to the bundled path),
  (n_mels, 3000); the encoder halves time (stride 2); tokens go through our
  :class:`WhisperTokenizer` over the fast tokenizer's backend, so prompts and special-token
  rules match the bundled adapter.
- Speech2Text: features are the model's kaldi-style filterbank (F = 80, N = T, no padding);
  the encoder subsamples by 2 per conv layer (4 for the usual 2 layers); the prompt is just the
  decoder start token. It is a single-task model: no language option, no translation.

Cross-attention weights need the eager attention implementation (SDPA returns none); it is
switched on only for the ``decode(..., attention=True)`` call and restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ModelError
from ..features import Features, log_mel_spectrogram
from ..timebase import CHUNK_SECONDS, FRAMES_PER_SECOND, SAMPLE_RATE, WHISPER_ENCODER_STRIDE
from .base import DecoderOutput, SpeechToTextModel
from .tokenizer import MULTILINGUAL_VOCAB, WhisperTokenizer

SUPPORTED = ("whisper", "speech_to_text")  # config.model_type values this adapter knows


class _HFTokens:
    """Text <-> ids through a transformers tokenizer (families without Whisper's token layout)."""

    def __init__(self, tokenizer: Any, eot: int) -> None:
        self._tok = tokenizer
        self.eot = eot
        self._special = {int(i) for i in tokenizer.all_special_ids} | {eot}

    def encode(self, text: str) -> list[int]:
        return [int(i) for i in self._tok.encode(text, add_special_tokens=False)]

    def decode(self, ids: list[int]) -> str:
        return str(self._tok.decode(ids, skip_special_tokens=True))

    def token_text(self, token_id: int) -> str:
        piece = str(self._tok.convert_ids_to_tokens(token_id))
        if token_id in self._special:
            return piece
        text = str(self._tok.decode([token_id]))
        # SentencePiece marks a word start with "▁", and decoding one piece drops that space;
        # keep it so labels read like Whisper's (" word").
        return " " + text.lstrip() if piece.startswith("▁") else text

    def is_special(self, token_id: int) -> bool:
        return token_id in self._special


class HFAdapter(SpeechToTextModel):
    """A transformers ``*ForConditionalGeneration`` speech model behind our adapter interface."""

    def __init__(self, model: Any, feature_extractor: Any, tokenizer: Any, name: str = "hf") -> None:
        config = model.config
        if config.model_type not in SUPPORTED:
            raise ModelError(
                f"{name}: transformers model type {config.model_type!r} is not supported; "
                f"use one of: {', '.join(SUPPORTED)}"
            )
        self.model = model.eval()
        self.config = config
        self.feature_extractor = feature_extractor
        self.tokenizer = tokenizer
        self.name = name
        self.is_whisper = config.model_type == "whisper"
        self.n_layers = int(config.decoder_layers)
        self.n_heads = int(config.decoder_attention_heads)
        self.max_text_tokens = int(config.max_target_positions)
        self.alignment_heads = self._alignment_heads()
        self._special_ids = {int(i) for i in tokenizer.all_special_ids}
        self.tok: WhisperTokenizer | _HFTokens
        if self.is_whisper:
            self._init_whisper()
        else:
            self._init_speech2text()
        param = next(model.parameters())
        self.device, self.dtype = param.device, param.dtype

    def _init_whisper(self) -> None:
        self.encoder_stride = WHISPER_ENCODER_STRIDE
        self.max_seconds = float(CHUNK_SECONDS)
        self.n_mels = int(self.config.num_mel_bins)
        # English-only checkpoints still hold language and <|translate|> tokens, so the vocabulary
        # size (as for the bundled models) is what tells them apart.
        self.multilingual = int(self.config.vocab_size) >= MULTILINGUAL_VOCAB
        backend = getattr(self.tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ModelError(f"{self.name}: Whisper needs a fast tokenizer (tokenizer.json in the folder)")
        self.tok = WhisperTokenizer(backend, self.multilingual)

    def _init_speech2text(self) -> None:
        if self.feature_extractor is None:
            raise ModelError(f"{self.name}: no feature extractor (preprocessor_config.json) in the folder")
        n_conv = int(getattr(self.config, "num_conv_layers", 2))
        self._conv_kernels = [int(k) for k in getattr(self.config, "conv_kernel_sizes", [5] * n_conv)]
        self.encoder_stride = 2**n_conv  # every conv layer has stride 2
        positions = getattr(self.config, "max_source_positions", None)
        self.max_seconds = positions * self.encoder_stride / FRAMES_PER_SECOND if positions else None
        self.multilingual = False
        eot = self.config.eos_token_id
        self.tok = _HFTokens(self.tokenizer, int(eot if eot is not None else self.tokenizer.eos_token_id))

    def _alignment_heads(self) -> list[tuple[int, int]] | None:
        heads = getattr(getattr(self.model, "generation_config", None), "alignment_heads", None)
        return [(int(l), int(h)) for l, h in heads] if heads else None

    @classmethod
    def from_pretrained(cls, spec: str, name: str | None = None) -> HFAdapter:
        """Load a local folder (works offline) or a hub id (needs network or a filled cache)."""
        try:
            import transformers
        except ImportError as e:
            raise ModelError(f"loading {spec!r} needs transformers; pip install 's2t-explain[hf]'") from e
        try:
            model = _load_model(transformers.AutoModelForSpeechSeq2Seq, spec)
            processor = transformers.AutoProcessor.from_pretrained(spec)
        except Exception as e:  # transformers and the hub raise many types; all mean "cannot load"
            raise ModelError(_load_failure(spec, e)) from e
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is None:
            raise ModelError(f"{spec}: no tokenizer found next to the model; save it with the model")
        extractor = getattr(processor, "feature_extractor", None)
        name = name or (Path(spec).name if Path(spec).is_dir() else spec)
        return cls(model, extractor, tokenizer, name=name)

    def to(self, device: str | torch.device | None = None, dtype: torch.dtype | None = None) -> HFAdapter:
        self.model.to(device=device, dtype=dtype)
        param = next(self.model.parameters())
        self.device, self.dtype = param.device, param.dtype
        return self

    # --- features and encoder -------------------------------------------------------------
    def features(self, audio: np.ndarray) -> Features:
        if self.is_whisper:
            return log_mel_spectrogram(audio, self.n_mels)
        out = self.feature_extractor(
            audio, sampling_rate=SAMPLE_RATE, return_tensors="np", return_attention_mask=False
        )
        rows = np.asarray(out["input_features"][0], dtype=np.float32)  # (T, F), one row per frame
        return Features(values=torch.from_numpy(rows.T.copy()), n_frames=int(rows.shape[0]))  # (F, T)

    def encode(self, features: torch.Tensor) -> torch.Tensor:
        x = features.to(self.device, self.dtype)  # (B, F, N)
        if not self.is_whisper:
            x = x.transpose(1, 2)  # Speech2Text takes (B, N, F)
        return self.model.get_encoder()(input_features=x).last_hidden_state  # (B, S, D)

    def n_encoder_frames(self, n_frames: int) -> int:
        if self.is_whisper:
            return super().n_encoder_frames(n_frames)
        n = n_frames
        for k in self._conv_kernels:  # Conv1d(kernel k, stride 2, padding k // 2)
            n = (n + 2 * (k // 2) - k) // 2 + 1
        return n

    # --- decoder ---------------------------------------------------------------------------
    @contextmanager
    def _weight_returning_attention(self) -> Iterator[None]:
        """Eager attention while inside (SDPA returns no weights); the previous one after."""
        previous = getattr(self.model.config, "_attn_implementation", None)
        if previous in (None, "eager"):
            yield
            return
        self._set_attention("eager")
        try:
            yield
        finally:
            self._set_attention(previous)

    def _set_attention(self, implementation: str) -> None:
        setter = getattr(self.model, "set_attn_implementation", None)
        if setter is not None:  # newer transformers; also updates the sub-models' configs
            setter(implementation)
        else:
            # Older releases either read the shared config at call time, or built fixed SDPA
            # modules that fall back to eager by themselves when asked for weights.
            self.model.config._attn_implementation = implementation

    def decode(
        self,
        tokens: torch.Tensor,
        states: torch.Tensor,
        attention: bool = False,
        token_mask: torch.Tensor | None = None,
    ) -> DecoderOutput:
        from transformers.modeling_outputs import BaseModelOutput

        tokens = tokens.to(self.device)
        states = states.to(self.device, self.dtype)
        if states.shape[0] != tokens.shape[0]:
            # (B, S, D): transformers would fold a size-1 states batch into the sequence axis
            states = states.expand(tokens.shape[0], -1, -1)
        masking = self._zeroed_embeddings(token_mask.to(self.device)) if token_mask is not None else nullcontext()
        with self._weight_returning_attention() if attention else nullcontext(), masking:
            out = self.model(
                encoder_outputs=BaseModelOutput(last_hidden_state=states),
                decoder_input_ids=tokens,
                use_cache=False,
                output_attentions=attention,
                return_dict=True,
            )
        if not attention:
            return DecoderOutput(out.logits)
        if not out.cross_attentions or any(a is None for a in out.cross_attentions):
            raise RuntimeError(f"{self.name}: transformers returned no cross-attention weights")
        parts = list(out.cross_attentions)  # per layer (B, H, I, S), the tensors the pass used
        return DecoderOutput(out.logits, torch.stack(parts, dim=1), parts)  # (B, L, H, I, S)

    def cross_value_norms(self, states: torch.Tensor) -> torch.Tensor:
        layers = getattr(self.model.get_decoder(), "layers", [])
        modules = [getattr(layer, "encoder_attn", None) for layer in layers]
        if not modules or any(m is None or not hasattr(m, "v_proj") or not hasattr(m, "out_proj") for m in modules):
            return super().cross_value_norms(states)  # not a layout we know: the base class says so
        norms = []
        with torch.no_grad():
            for m in modules:
                assert m is not None
                v = m.v_proj(states.to(self.device, self.dtype))[0]  # (S, D)
                v = v.view(v.shape[0], self.n_heads, -1)  # (S, H, D/H)
                w = m.out_proj.weight.view(m.out_proj.weight.shape[0], self.n_heads, -1)  # (D, H, D/H)
                norms.append(torch.einsum("shk,dhk->hsd", v, w).norm(dim=-1))  # (H, S)
        return torch.stack(norms)  # (L, H, S)

    @contextmanager
    def _zeroed_embeddings(self, token_mask: torch.Tensor) -> Iterator[None]:
        """Zero chosen tokens' embeddings at the embedding layer's output (any model family)."""
        def hook(module: Any, args: Any, output: torch.Tensor) -> torch.Tensor:
            return output.masked_fill(token_mask[..., None], 0.0)

        handle = self.model.get_decoder().embed_tokens.register_forward_hook(hook)
        try:
            yield
        finally:
            handle.remove()

    # --- tokens ----------------------------------------------------------------------------
    def prompt(self, task: str = "transcribe", language: str | None = None) -> list[int]:
        self.check_task(task, language)
        if not isinstance(self.tok, WhisperTokenizer):
            # Single-task model: the language is fixed by training and cannot be chosen.
            return [int(self.config.decoder_start_token_id)]
        return self.tok.prompt(task, language, self.name)

    def is_special(self, token_id: int) -> bool:
        return self.tok.is_special(token_id) or token_id in self._special_ids

    def suppressed_tokens(self) -> list[int]:
        return self._generation_ids("suppress_tokens") or []

    def suppressed_at_begin(self) -> list[int]:
        return self._generation_ids("begin_suppress_tokens") or [self.eot]

    def _generation_ids(self, key: str) -> list[int] | None:
        # transformers 5 keeps these in the generation config only; 4.x also on the model config.
        ids = getattr(getattr(self.model, "generation_config", None), key, None)
        ids = ids if ids is not None else getattr(self.config, key, None)
        return [int(i) for i in ids] if ids is not None else None


def _load_model(auto: Any, spec: str) -> Any:
    """Load with SDPA attention where the architecture has it (Speech2Text does not)."""
    try:
        return auto.from_pretrained(spec, attn_implementation="sdpa")
    except ValueError:
        return auto.from_pretrained(spec)


def _load_failure(spec: str, error: Exception) -> str:
    """One-line message for a failed load, with the first line of transformers' reason."""
    lines = str(error).strip().splitlines()
    reason = f"{type(error).__name__}: {lines[0] if lines else ''}"[:200]
    if Path(spec).is_dir():
        return f"cannot load Hugging Face model folder {spec} ({reason}); save it with save_pretrained"
    return (
        f"cannot load Hugging Face model {spec!r} ({reason}); "
        "without network, pass a local model folder (saved with save_pretrained) instead of a hub id"
    )
