"""Decoding: choose the token sequence to explain (greedy, beam, forced) and score it.

``DecodingOptions`` and the ``Transcript`` record load without torch; the search and scoring
functions (which run the model) are imported on first use.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .options import DecodingOptions
from .transcript import Transcript

if TYPE_CHECKING:
    from .scoring import make_transcript, score
    from .search import generate, greedy_batch

__getattr__, __dir__ = lazy_exports(__name__, {"generate": ".search", "greedy_batch": ".search",
                                               "make_transcript": ".scoring", "score": ".scoring"})

__all__ = ["DecodingOptions", "Transcript", "generate", "greedy_batch", "make_transcript", "score"]
