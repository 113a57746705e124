"""Decoding: choose the token sequence to explain (greedy, beam, forced) and score it."""

from .options import DecodingOptions
from .search import generate, greedy_batch
from .transcript import Transcript, make_transcript, score

__all__ = ["DecodingOptions", "Transcript", "generate", "greedy_batch", "make_transcript", "score"]
