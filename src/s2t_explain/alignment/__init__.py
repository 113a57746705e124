"""Alignment: word timestamps from cross-attention or saliency (DTW), head discovery, subtitles.

NumPy only: works on stored results. The benchmark that explains a whole alignment set with a
model lives in ``study.alignment``.
"""

from ..decoding.words import group_words
from .dtw import dtw
from .heads import (
    HEAD_RANKINGS,
    discover_heads,
    head_scores,
    head_spec,
    reference_scores,
    saliency_scores,
    top_heads,
    unsupervised_scores,
)
from .subtitles import parse_cues, to_srt, to_vtt
from .timestamps import Word, list_timestamp_sources, timestamp_source, to_whisper_json, word_timestamps

__all__ = ["HEAD_RANKINGS", "Word", "discover_heads", "dtw", "group_words", "head_scores", "head_spec",
           "list_timestamp_sources", "parse_cues", "reference_scores", "saliency_scores", "timestamp_source", "to_srt",
           "to_vtt", "to_whisper_json", "top_heads", "unsupervised_scores", "word_timestamps"]
