"""Model adapters: one interface (:class:`SpeechToTextModel`) over every model family.

The bundled models' names load no torch (the CLI lists them in ``--help``); the adapter
interface and the loaders are imported on first use of their names.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .bundled import DEFAULT_MODEL, bundled_names

if TYPE_CHECKING:
    from .base import DecoderOutput, SpeechToTextModel
    from .loading import LOADERS, load_model

__getattr__, __dir__ = lazy_exports(__name__, {"DecoderOutput": ".base", "SpeechToTextModel": ".base",
                                               "LOADERS": ".loading", "load_model": ".loading"})

__all__ = ["DEFAULT_MODEL", "LOADERS", "DecoderOutput", "SpeechToTextModel", "bundled_names", "load_model"]
