"""Decoding options (frozen; change with ``dataclasses.replace``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError
from ..tasks import LANGUAGES, TASKS


@dataclass(frozen=True)
class DecodingOptions:
    """How the sequence to explain is chosen: task, language, greedy or beam search.

    Frozen; change with ``dataclasses.replace``. Invalid values raise :class:`OptionError` when made.
    """

    task: str = "transcribe"  # "transcribe" (ASR) or "translate" (X -> English)
    language: str | None = None  # None: English for English-only models, detected otherwise
    beam_size: int = 1  # 1 = greedy; the SPES reference decodes with beam 5
    max_new_tokens: int = 224  # Whisper's limit: half of its 448-token text context
    length_penalty: float = 1.0  # beam ranking: sum log-prob / length ** length_penalty
    suppress_blank: bool = True  # no blank or end-of-text as the first generated token

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise OptionError(f"beam size must be >= 1, got {self.beam_size}")
        if self.max_new_tokens < 1:
            raise OptionError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.task not in TASKS:
            raise OptionError(f"unknown task {self.task!r}; use one of: {', '.join(TASKS)}")
        if self.language is not None and self.language not in LANGUAGES:
            raise OptionError(f"unknown language code {self.language!r}; use one of: {', '.join(sorted(LANGUAGES))}")
