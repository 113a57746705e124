"""s2t-explain: explain encoder-decoder speech-to-text models (cross-attention vs saliency).

Data flow, one sub-package per stage: ``audio`` -> ``features`` -> ``models`` (adapters) ->
``decoding`` -> ``attention`` / ``saliency`` -> ``pooling`` -> ``results`` -> ``plots`` -> ``cli``.
The functions below are the library API; the CLI is a thin layer over them.
"""

from .attention import aggregate, cross_attention, resolve_heads
from .audio import load_audio
from .decoding import DecodingOptions, Transcript
from .errors import S2TError
from .models import DEFAULT_MODEL, SpeechToTextModel, bundled_names, load_model
from .pipeline import Prepared, explain, explain_attention, prepare, transcribe
from .results import Explanation

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "DecodingOptions",
    "Explanation",
    "Prepared",
    "S2TError",
    "SpeechToTextModel",
    "Transcript",
    "aggregate",
    "bundled_names",
    "cross_attention",
    "explain",
    "explain_attention",
    "load_audio",
    "load_model",
    "prepare",
    "resolve_heads",
    "transcribe",
]
