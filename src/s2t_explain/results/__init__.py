"""Results: the per-utterance explanation object and its one-file format (no torch needed to load)."""

from .explanation import Explanation

__all__ = ["Explanation"]
