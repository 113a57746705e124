"""Whisper's tokenizer, built offline from the ``tokenizer.json`` that model folders ship.

Special tokens are found by their text (``<|endoftext|>``, ``<|startoftranscript|>``, language
tokens ``<|xx|>``, ``<|translate|>``, ``<|transcribe|>``, ``<|notimestamps|>``); every id from
``<|endoftext|>`` up is special (timestamps included).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import ModelError, OptionError
from ..tasks import LANGUAGES
from ..timebase import TIMESTAMP_TOKEN_SECONDS

MULTILINGUAL_VOCAB = 51865  # Whisper's English-only models have 51864 tokens, multilingual ones more



class WhisperTokenizer:
    """Text <-> ids plus Whisper's special-token ids, from a tokenizers ``Tokenizer``."""

    def __init__(self, tokenizer: object, multilingual: bool) -> None:
        self._tok = tokenizer
        self.multilingual = multilingual
        vocab: dict[str, int] = tokenizer.get_vocab(with_added_tokens=True)  # type: ignore[attr-defined]
        self._vocab = vocab

        def need(text: str) -> int:
            if text not in vocab:
                raise ModelError(f"tokenizer has no {text} token; is this a Whisper tokenizer?")
            return vocab[text]

        self.eot = need("<|endoftext|>")
        self.sot = need("<|startoftranscript|>")
        self.no_timestamps = need("<|notimestamps|>")
        self.transcribe = vocab.get("<|transcribe|>")
        self.translate = vocab.get("<|translate|>")
        self.language_ids = {c: vocab[f"<|{c}|>"] for c in LANGUAGES if f"<|{c}|>" in vocab}

    @classmethod
    def from_file(cls, path: Path, multilingual: bool) -> WhisperTokenizer:
        from tokenizers import Tokenizer

        if not path.is_file():
            raise ModelError(f"tokenizer file not found: {path}")
        try:
            return cls(Tokenizer.from_file(str(path)), multilingual)
        except Exception as e:
            raise ModelError(f"cannot read tokenizer {path}: {e}") from e

    def encode(self, text: str) -> list[int]:
        """Ids of plain text (no special tokens)."""
        return list(self._tok.encode(text, add_special_tokens=False).ids)  # type: ignore[attr-defined]

    def decode(self, ids: list[int]) -> str:
        """Text of the non-special ids."""
        return str(self._tok.decode([i for i in ids if i < self.eot]))  # type: ignore[attr-defined]

    def token_text(self, token_id: int) -> str:
        """Readable label of one token (special tokens keep their ``<|...|>`` form)."""
        if token_id > self.no_timestamps:  # timestamps: <|0.00|> ... <|30.00|> in 20 ms steps
            return f"<|{(token_id - self.no_timestamps - 1) * TIMESTAMP_TOKEN_SECONDS:.2f}|>"
        if token_id >= self.eot:
            return str(self._tok.id_to_token(token_id) or f"<|{token_id}|>")  # type: ignore[attr-defined]
        return str(self._tok.decode([token_id]))  # type: ignore[attr-defined]

    def is_special(self, token_id: int) -> bool:
        return token_id >= self.eot

    def prompt(self, task: str, language: str | None, model_name: str) -> list[int]:
        """Whisper's decoder prompt: [sot, language, task, notimestamps] ([sot, notimestamps] for .en)."""
        if not self.multilingual:
            if language not in (None, "en"):
                raise OptionError(f"{model_name} is English-only; give no language or en, or use a multilingual one")
            return [self.sot, self.no_timestamps]
        task_id = self.translate if task == "translate" else self.transcribe
        if task_id is None:
            raise ModelError(f"{model_name}: tokenizer has no <|{task}|> token")
        return [self.sot, self.language_token(language or "en"), task_id, self.no_timestamps]

    def language_from_logits(self, logits: torch.Tensor) -> str:
        """Most likely language code from first-step logits (V,) after <|startoftranscript|>."""
        codes = list(self.language_ids)
        ids = torch.tensor([self.language_ids[c] for c in codes], device=logits.device)
        return codes[int(logits[ids].argmax())]

    def language_token(self, code: str) -> int:
        if not self.multilingual:
            raise OptionError("this model is English-only; it takes no language option other than 'en'")
        if code not in self.language_ids:
            raise OptionError(
                f"unknown language code {code!r}; use one of: {', '.join(sorted(self.language_ids))}"
            )
        return self.language_ids[code]
