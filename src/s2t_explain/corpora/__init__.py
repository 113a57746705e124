"""Corpora in their own formats, streamed: manifests (JSON Lines, TSV, CSV), LibriSpeech and Kaldi
folders, and Hugging Face ``save_to_disk`` folders.

>>> from s2t_explain.corpora import read_corpus, list_corpus_formats
>>> corpus = read_corpus("LibriSpeech/dev-clean")          # format detected; nothing read yet but one entry
>>> for item in corpus:                                    # Utterance or BadLine, one at a time
...     samples = item.load(16000)                         # only this utterance's segment is read
>>> read_corpus("cv", "hf-disk", split="test", text_column="sentence")

A new format is one class registered with :func:`corpus_format` (see ``base.CorpusFormat``).
``read_timed_corpus`` reads the formats that carry exact word times (JSON Lines and CSV/TSV
``words``, Kaldi ``ctm``) for the alignment benchmark.
"""

# isort: off
# the formats register on import, in this order: the order of detection and of listings
from . import tables  # noqa: F401
from . import librispeech  # noqa: F401
from . import kaldi  # noqa: F401
from . import hf_disk  # noqa: F401
# isort: on
from .base import (
    CORPUS_FORMATS,
    Corpus,
    CorpusFormat,
    corpus_format,
    detect_format,
    list_corpus_formats,
    read_corpus,
    read_timed_corpus,
)
from .tables import FIELDS
from .utterance import MAX_OVERSHOOT_S, BadLine, TimedUtterance, Utterance

__all__ = ["CORPUS_FORMATS", "FIELDS", "MAX_OVERSHOOT_S", "BadLine", "Corpus", "CorpusFormat", "TimedUtterance",
           "Utterance", "corpus_format", "detect_format", "list_corpus_formats", "read_corpus", "read_timed_corpus"]
