"""s2t-explain: explain encoder-decoder speech-to-text models (cross-attention vs saliency).

Data flow, one sub-package per stage: ``audio`` -> ``features`` -> ``models`` (adapters) ->
``decoding`` -> ``explainers`` (maps by name: ``attention``, ``saliency``, ``methods``) ->
``pooling`` -> ``metrics`` -> ``results`` -> ``plots`` -> ``cli``; ``alignment`` (word timestamps,
head discovery) and ``study`` (dataset runs) build on them. The names below are the library API;
the CLI is a thin layer over them.

>>> import s2t_explain as s2t
>>> model = s2t.load_model("whisper-tiny.en")
>>> result = s2t.explain(model, "clip.wav")  # the faithful preset; saliency="fast" for a quick look
>>> result["spes-encoder"].values        # SM_H, (I, T'); result.maps holds every map by name
>>> s2t.word_timestamps(result, "spes-encoder")

Names are imported on first use, so ``import s2t_explain`` (and the NumPy-only parts: results,
metrics, pooling, alignment, plots) does not load torch until a model is involved.
"""

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from .errors import S2TError

__version__ = "0.1.0"

_EXPORTS = {
    "aggregate": ".attention",
    "cross_attention": ".attention",
    "resolve_heads": ".attention",
    "load_audio": ".audio",
    "DecodingOptions": ".decoding",
    "Transcript": ".decoding",
    "DEFAULT_MODEL": ".models",
    "SpeechToTextModel": ".models",
    "bundled_names": ".models",
    "load_model": ".models",
    "Prepared": ".pipeline",
    "explain": ".pipeline",
    "explain_attention": ".pipeline",
    "prepare": ".pipeline",
    "transcribe": ".pipeline",
    "Explanation": ".results",
    "Map": ".results.maps",
    "new_map": ".explainers.catalog",
    "list_maps": ".explainers.catalog",
    "SaliencyOptions": ".saliency.options",
    "InputSaliencyOptions": ".saliency.options",
    "EncoderSaliencyOptions": ".saliency.options",
    "preset": ".saliency.options",
    "word_timestamps": ".alignment.timestamps",
    "StudyOptions": ".study.options",
    "run_study": ".study.runner",
    "build_report": ".study.report",
    "list_models": ".models.bundled",
    "list_model_loaders": ".models.loading",
    "list_tasks": ".tasks",
    "list_languages": ".tasks",
    "list_head_sets": ".attention.heads",
    "list_presets": ".saliency.options",
    "list_scorers": ".saliency.catalog",
    "list_estimators": ".saliency.estimators",
    "list_mask_families": ".saliency.masks",
    "list_mask_designs": ".saliency.masks",
    "list_baselines": ".saliency.catalog",
    "list_pooling": ".pooling",
    "list_normalizations": ".normalization",
    "list_correlations": ".metrics.agreement",
    "list_text_metrics": ".metrics.text",
    "list_timestamp_sources": ".alignment.timestamps",
    "list_head_rankings": ".alignment.heads",
    "list_alignment_methods": ".study.alignment_methods",
    "explain_methods": ".methods",
    "MethodOptions": ".methods.catalog",
    "list_methods": ".methods.catalog",
    "run_long": ".longform",
    "LongformOptions": ".longform",
    "list_windowings": ".longform",
}

if TYPE_CHECKING:
    from .alignment.heads import list_head_rankings
    from .alignment.timestamps import list_timestamp_sources, word_timestamps
    from .attention import aggregate, cross_attention, resolve_heads
    from .attention.heads import list_head_sets
    from .audio import load_audio
    from .decoding import DecodingOptions, Transcript
    from .explainers.catalog import list_maps, new_map
    from .longform import LongformOptions, list_windowings, run_long
    from .methods import MethodOptions, explain_methods, list_methods
    from .metrics.agreement import list_correlations
    from .metrics.text import list_text_metrics
    from .models import DEFAULT_MODEL, SpeechToTextModel, bundled_names, load_model
    from .models.bundled import list_models
    from .models.loading import list_model_loaders
    from .normalization import list_normalizations
    from .pipeline import Prepared, explain, explain_attention, prepare, transcribe
    from .pooling import list_pooling
    from .results import Explanation
    from .results.maps import Map
    from .saliency.catalog import list_baselines, list_scorers
    from .saliency.estimators import list_estimators
    from .saliency.masks import list_mask_designs, list_mask_families
    from .saliency.options import EncoderSaliencyOptions, InputSaliencyOptions, SaliencyOptions, list_presets, preset
    from .study.alignment_methods import list_alignment_methods
    from .study.options import StudyOptions
    from .study.report import build_report
    from .study.runner import run_study
    from .tasks import list_languages, list_tasks

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "S2TError", "__version__", "DEFAULT_MODEL", "DecodingOptions", "EncoderSaliencyOptions", "Explanation",
    "InputSaliencyOptions", "LongformOptions", "Map", "MethodOptions", "Prepared", "SaliencyOptions",
    "SpeechToTextModel", "StudyOptions", "Transcript", "aggregate", "build_report", "bundled_names",
    "cross_attention", "explain", "explain_attention", "explain_methods", "list_alignment_methods",
    "list_baselines", "list_correlations", "list_estimators", "list_head_rankings", "list_head_sets",
    "list_languages", "list_maps", "list_mask_designs", "list_methods", "list_mask_families", "list_model_loaders",
    "list_models", "list_normalizations", "list_pooling", "list_presets", "list_scorers", "list_tasks",
    "list_text_metrics", "list_timestamp_sources", "list_windowings", "load_audio", "load_model", "new_map",
    "prepare", "preset", "resolve_heads", "run_long", "run_study", "transcribe", "word_timestamps",
]
