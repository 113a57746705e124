"""Alignment: word timestamps from cross-attention or saliency (DTW), head discovery, benchmark."""

from .dtw import dtw
from .heads import reference_scores, saliency_scores, top_heads, unsupervised_scores
from .subtitles import parse_cues, to_srt, to_vtt
from .timestamps import Word, to_whisper_json, word_timestamps
from .words import group_words

__all__ = ["Word", "dtw", "group_words", "parse_cues", "reference_scores", "saliency_scores", "to_srt",
           "to_vtt", "to_whisper_json", "top_heads", "unsupervised_scores", "word_timestamps"]
