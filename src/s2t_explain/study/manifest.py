"""Dataset manifests and corpora for the study and the alignment benchmark.

The readers live in :mod:`s2t_explain.corpora` (JSON Lines, TSV, CSV, LibriSpeech, Kaldi, Hugging
Face ``save_to_disk``); this module keeps the study's names for them.

Manifests: ``id`` (unique), ``audio`` (path; relative paths are relative to the manifest's folder),
optional ``reference`` (text), ``language``, ``task`` (transcribe / translate; default: the run's),
``start``/``end`` (a segment of the file, in seconds). A bad line does not stop a run: it comes back
as a :class:`BadLine` with its reason, to be recorded as a failure.

Alignment manifests (``data/align/*.jsonl``, for the alignment benchmark and head discovery) carry
every word's ``word``, ``start`` and ``end`` in seconds: JSON Lines ``words``, a CSV/TSV ``words``
column holding the same JSON, or a Kaldi folder's ``ctm``. A bad line there is an error (the set
is small and exact).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..corpora import FIELDS, BadLine, TimedUtterance, Utterance, read_corpus, read_timed_corpus

__all__ = ["FIELDS", "BadLine", "TimedUtterance", "Utterance", "read_alignment_manifest", "read_manifest"]


def read_manifest(path: str | Path, format: str = "auto", **format_options: Any) -> list[Utterance | BadLine]:
    """Every entry of a manifest or corpus folder as a list (``corpora.read_corpus`` streams them);
    a later duplicate id is a bad line."""
    return list(read_corpus(path, format, **format_options))


def read_alignment_manifest(path: str | Path, format: str = "auto", **format_options: Any) -> list[TimedUtterance]:
    """Parse an alignment manifest (exact word times); any bad line is an error."""
    return read_timed_corpus(path, format, **format_options)
