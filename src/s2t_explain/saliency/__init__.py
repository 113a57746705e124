"""Perturbation saliency (SPES): input saliency SM_X, encoder-output saliency SM_H, token saliency.

Options, mask families and reliability are NumPy only; the engine, perturbers and scorers (torch)
are imported on first use of their names.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .masks import DESIGNS, ENCODER_MASKS, INPUT_MASKS
from .options import (
    PRESETS,
    EncoderSaliencyOptions,
    InputSaliencyOptions,
    SaliencyOptions,
    preset,
)
from .reliability import split_half

if TYPE_CHECKING:
    from .engine import Elsewhere, EngineSettings, InProcess, MapRun, run
    from .estimators import ESTIMATORS
    from .scorers import SCORERS

__getattr__, __dir__ = lazy_exports(__name__, {"EngineSettings": ".engine", "MapRun": ".engine", "run": ".engine",
                                               "InProcess": ".engine", "Elsewhere": ".engine",
                                               "ESTIMATORS": ".estimators", "SCORERS": ".scorers"})

__all__ = [
    "DESIGNS",
    "ENCODER_MASKS",
    "ESTIMATORS",
    "INPUT_MASKS",
    "PRESETS",
    "SCORERS",
    "Elsewhere",
    "EncoderSaliencyOptions",
    "EngineSettings",
    "InProcess",
    "InputSaliencyOptions",
    "MapRun",
    "SaliencyOptions",
    "preset",
    "run",
    "split_half",
]
