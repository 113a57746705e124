"""Model adapters: one interface (:class:`SpeechToTextModel`) over every model family."""

from .base import DecoderOutput, SpeechToTextModel
from .bundled import DEFAULT_MODEL, bundled_names
from .loading import LOADERS, load_model

__all__ = ["DEFAULT_MODEL", "LOADERS", "DecoderOutput", "SpeechToTextModel", "bundled_names", "load_model"]
