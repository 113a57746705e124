"""Perturbation saliency (SPES): input saliency SM_X, encoder-output saliency SM_H, token saliency."""

from .engine import EngineSettings, MapRun, run
from .estimators import ESTIMATORS
from .masks import DESIGNS, MASK_FAMILIES
from .options import PRESETS, EncoderSaliencyOptions, InputSaliencyOptions, SaliencyOptions, preset
from .reliability import split_half
from .scorers import SCORERS

__all__ = [
    "DESIGNS",
    "ESTIMATORS",
    "MASK_FAMILIES",
    "PRESETS",
    "SCORERS",
    "EncoderSaliencyOptions",
    "EngineSettings",
    "InputSaliencyOptions",
    "MapRun",
    "SaliencyOptions",
    "preset",
    "run",
    "split_half",
]
